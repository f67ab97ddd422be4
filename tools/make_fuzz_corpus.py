#!/usr/bin/env python3
"""Writes the fuzz seed corpora under Fuzz/corpus/<target>/ from the test fixtures (and, for tokenizer.json seeds,
the tokenizers of scripts/setup-tokenizers.sh in .cache/tokenizers when present). Seeds are kept to a few KB:
headers and metadata, never model weights.

    python3 tools/make_fuzz_corpus.py
"""
import json
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "Fixtures")
CORPUS = os.path.join(ROOT, "Fuzz", "corpus")


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


# ---- GGUF ----------------------------------------------------------------------------------------------------------


def gguf_string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def read_gguf_header(data):
    """Returns (version, kv list of (key, type, raw value bytes), offset after the kvs, tensor count)."""
    magic, version, n_tensors, n_kv = struct.unpack_from("<IIQQ", data, 0)
    assert magic == 0x46554747
    pos = 24
    sizes = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}

    def skip(t, pos):
        if t in sizes:
            return pos + sizes[t]
        if t == 8:
            (n,) = struct.unpack_from("<Q", data, pos)
            return pos + 8 + n
        assert t == 9
        it, n = struct.unpack_from("<IQ", data, pos)
        pos += 12
        for _ in range(n):
            pos = skip(it, pos)
        return pos

    kvs = []
    for _ in range(n_kv):
        (n,) = struct.unpack_from("<Q", data, pos)
        key = data[pos + 8 : pos + 8 + n].decode()
        pos += 8 + n
        (t,) = struct.unpack_from("<I", data, pos)
        end = skip(t, pos + 4)
        kvs.append((key, t, data[pos + 4 : end]))
        pos = end
    return version, kvs, pos, n_tensors


def gguf_file(kvs, tensors, version=3, alignment=32):
    """kvs: (key, type, raw value); tensors: (name, ne, ggml type, data bytes)."""
    out = struct.pack("<IIQQ", 0x46554747, version, len(tensors), len(kvs))
    for key, t, raw in kvs:
        out += gguf_string(key) + struct.pack("<I", t) + raw
    offset = 0
    blobs = b""
    for name, ne, t, blob in tensors:
        out += gguf_string(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", d) for d in ne)
        out += struct.pack("<IQ", t, offset)
        padded = blob + b"\0" * (-len(blob) % alignment)
        blobs += padded
        offset += len(padded)
    out += b"\0" * (-len(out) % alignment)
    return out + blobs


def make_gguf():
    # A whole small file: every quantized type the engine reads (12 KB).
    with open(os.path.join(FIXTURES, "quant-types.gguf"), "rb") as f:
        write("FuzzGGUF", "quant-types.gguf", f.read())
    # The tiny llama's metadata (architecture, shapes, tokenizer) without its tensors.
    with open(os.path.join(FIXTURES, "tiny-llama-gqa-tied.gguf"), "rb") as f:
        data = f.read()
    version, kvs, _, _ = read_gguf_header(data)
    small = []
    for key, t, raw in kvs:
        if t == 9 and key in ("tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type",
                              "tokenizer.ggml.merges"):
            # Keep arrays short: the first 64 items.
            it, n = struct.unpack_from("<IQ", raw, 0)
            keep = min(n, 64)
            pos, items = 12, []
            for _ in range(keep):
                if it == 8:
                    (m,) = struct.unpack_from("<Q", raw, pos)
                    items.append(raw[pos : pos + 8 + m])
                    pos += 8 + m
                else:
                    size = {4: 4, 5: 4, 6: 4, 0: 1, 1: 1, 7: 1}[it]
                    items.append(raw[pos : pos + size])
                    pos += size
            raw = struct.pack("<IQ", it, keep) + b"".join(items)
        small.append((key, t, raw))
    write("FuzzGGUF", "tiny-llama-metadata.gguf", gguf_file(small, [], version))
    # One value of every metadata type, nested arrays, and two small tensors (f32 and f16), version 2 and 3.
    kvs = [
        ("general.architecture", 8, gguf_string("llama")),
        ("general.alignment", 4, struct.pack("<I", 32)),
        ("u8", 0, b"\x07"), ("i8", 1, b"\xff"), ("u16", 2, struct.pack("<H", 7)), ("i16", 3, struct.pack("<h", -7)),
        ("i32", 5, struct.pack("<i", -7)), ("f32", 6, struct.pack("<f", 0.5)), ("bool", 7, b"\x01"),
        ("u64", 10, struct.pack("<Q", 7)), ("i64", 11, struct.pack("<q", -7)), ("f64", 12, struct.pack("<d", 0.25)),
        ("array", 9, struct.pack("<IQ", 9, 2) + struct.pack("<IQ", 4, 1) + struct.pack("<I", 1)
         + struct.pack("<IQ", 8, 1) + gguf_string("x")),
        ("tokenizer.ggml.model", 8, gguf_string("gpt2")),
        ("tokenizer.ggml.tokens", 9, struct.pack("<IQ", 8, 4) + b"".join(gguf_string(s) for s in ["a", "b", "ab", "<s>"])),
        ("tokenizer.ggml.merges", 9, struct.pack("<IQ", 8, 1) + gguf_string("a b")),
        ("tokenizer.ggml.token_type", 9, struct.pack("<IQ", 5, 4) + struct.pack("<4i", 1, 1, 1, 3)),
        ("tokenizer.ggml.bos_token_id", 4, struct.pack("<I", 3)),
    ]
    tensors = [
        ("a.weight", [4, 2], 0, struct.pack("<8f", *range(8))),
        ("b.weight", [8], 1, struct.pack("<8e", *range(8))),
    ]
    write("FuzzGGUF", "all-types-v3.gguf", gguf_file(kvs, tensors, 3))
    write("FuzzGGUF", "all-types-v2.gguf", gguf_file(kvs, tensors, 2))


# ---- safetensors ---------------------------------------------------------------------------------------------------


def safetensors_file(header, data):
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


def make_safetensors():
    sizes = {"F32": 4, "F16": 2, "BF16": 2, "F64": 8, "I32": 4, "I64": 8, "I8": 1, "U8": 1}
    # The fixtures' headers (names, dtypes, metadata) with every dimension cut to at most 2, and zero data.
    for model in ["tiny-llama-gqa-tied", "tiny-llama-gqa-tied-bf16"]:
        with open(os.path.join(FIXTURES, model, "model.safetensors"), "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(n))
        offset, out = 0, {}
        for name, entry in header.items():
            if name == "__metadata__":
                out[name] = entry
                continue
            shape = [min(d, 2) for d in entry["shape"]]
            count = 1
            for d in shape:
                count *= d
            size = count * sizes[entry["dtype"]]
            out[name] = {"dtype": entry["dtype"], "shape": shape, "data_offsets": [offset, offset + size]}
            offset += size
        write("FuzzSafetensors", model + ".safetensors", safetensors_file(out, b"\0" * offset))
    # Every dtype, a scalar and an empty tensor.
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for dtype, size in sizes.items():
        header["t." + dtype.lower()] = {"dtype": dtype, "shape": [2, 1], "data_offsets": [offset, offset + 2 * size]}
        offset += 2 * size
    header["scalar"] = {"dtype": "F32", "shape": [], "data_offsets": [offset, offset + 4]}
    offset += 4
    header["empty"] = {"dtype": "F32", "shape": [0, 3], "data_offsets": [offset, offset]}
    write("FuzzSafetensors", "dtypes.safetensors", safetensors_file(header, bytes(range(offset))))


# ---- tokenizer.json ------------------------------------------------------------------------------------------------


def trimmed_tokenizer(path, keep=256, keep_merges=200):
    """A real tokenizer.json with its vocabulary cut to `keep` ids, the merges among them, and its added tokens
    renumbered after them."""
    with open(path, encoding="utf-8") as f:
        tok = json.load(f)
    vocab = {t: i for t, i in tok["model"]["vocab"].items() if i < keep}
    merges = []
    for m in tok["model"]["merges"]:
        a, b = m.split(" ", 1) if isinstance(m, str) else m
        if a in vocab and b in vocab and a + b in vocab:
            merges.append(m)
        if len(merges) == keep_merges:
            break
    renumber = {}
    for i, added in enumerate(tok["added_tokens"][:16]):
        renumber[added["id"]] = added["id"] if added["id"] < keep else keep + i
        added["id"] = renumber[added["id"]]
    tok["added_tokens"] = tok["added_tokens"][:16]
    tok["model"]["vocab"] = vocab
    tok["model"]["merges"] = merges
    for special in (tok.get("post_processor") or {}).get("special_tokens", {}).values():
        special["ids"] = [renumber.get(i, i) for i in special["ids"]]
    return json.dumps(tok, ensure_ascii=False, indent=1)


def make_tokenizer_json():
    write("FuzzTokenizerJSON", "minimal.json", json.dumps({
        "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "<unk>": 3}, "merges": ["a b"],
                  "unk_token": "<unk>"},
        "added_tokens": [{"id": 4, "content": "<s>", "special": True}],
    }))
    write("FuzzTokenizerJSON", "components.json", json.dumps({
        "added_tokens": [{"id": 5, "content": "</s>", "special": True, "lstrip": True, "rstrip": False}],
        "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"},
                                                            {"type": "Replace", "pattern": {"String": " "},
                                                             "content": "▁"}]},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": "\\p{L}+|\\d{1,3}| ?[^\\s\\p{L}\\p{N}]+|\\s+"},
             "behavior": "Isolated", "invert": False},
            {"type": "Digits", "individual_digits": True},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]},
        "post_processor": {"type": "Sequence", "processors": [
            {"type": "ByteLevel"},
            {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "</s>", "type_id": 0}},
                                                      {"Sequence": {"id": "A", "type_id": 0}}],
             "special_tokens": {"</s>": {"id": "</s>", "ids": [5], "tokens": ["</s>"]}}}]},
        "decoder": {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
                                                     {"type": "ByteFallback"}, {"type": "Fuse"},
                                                     {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
        "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "<0x41>": 3, "▁": 4}, "merges": [["a", "b"]],
                  "byte_fallback": True, "fuse_unk": True, "ignore_merges": True},
    }))
    cache = os.path.join(ROOT, ".cache", "tokenizers")
    for name in ["smollm2-hub", "mistral-v1", "llama3"]:
        path = os.path.join(cache, name, "tokenizer.json")
        if os.path.exists(path):
            write("FuzzTokenizerJSON", name + ".json", trimmed_tokenizer(path))
        else:
            print(f"skipping {name}: {path} not found (scripts/setup-tokenizers.sh)", file=sys.stderr)


# ---- chat templates ------------------------------------------------------------------------------------------------


def make_chat_templates():
    d = os.path.join(FIXTURES, "chat-templates")
    for name in sorted(os.listdir(d)):
        if name.endswith(".jinja"):
            with open(os.path.join(d, name), encoding="utf-8") as f:
                write("FuzzChatTemplate", name, f.read())
    # The jinja golden cases: one seed per distinct construct (the first 200 templates under 600 bytes).
    with open(os.path.join(FIXTURES, "jinja", "cases.json"), encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    seen = set()
    for case in cases:
        t = case["template"]
        if len(t) < 600 and t not in seen and len(seen) < 200:
            seen.add(t)
            write("FuzzChatTemplate", f"case-{case['name']}.jinja", t)


def make_batch_requests():
    """Lines of examples/batch.jsonl, and a few that exercise the other fields and the error paths."""
    with open(os.path.join(ROOT, "examples", "batch.jsonl")) as f:
        lines = [l.rstrip("\n") for l in f if l.strip()]
    lines += [
        json.dumps({"custom_id": "t", "method": "POST", "url": "/v1/completions",
                    "body": {"prompt": [[1, 2, 3], [4, 5]], "max_tokens": 3, "logprobs": 2, "stop": ["\n", "x"],
                             "seed": 7, "top_k": 5, "min_p": 0.1, "ignore_eos": True}}),
        json.dumps({"custom_id": "c", "method": "POST", "url": "/v1/chat/completions",
                    "body": {"messages": [{"role": "system", "content": "s"},
                                          {"role": "user", "content": [{"type": "text", "text": "hi"}]}],
                             "max_completion_tokens": 4, "logprobs": True, "top_logprobs": 3, "n": 2,
                             "presence_penalty": 0.5, "frequency_penalty": -0.5, "temperature": None}}),
        '{"custom_id": "bad", "method": "GET", "url": "/v1/embeddings", "body": 3}',
        '{"custom_id": 5, "body": {"prompt": "x", "max_tokens": "many"}}',
    ]
    for i, line in enumerate(lines):
        write("FuzzBatchRequest", f"line-{i:02d}.jsonl", line)


if __name__ == "__main__":
    make_gguf()
    make_safetensors()
    make_tokenizer_json()
    make_chat_templates()
    make_batch_requests()
