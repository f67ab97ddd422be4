#!/usr/bin/env python3
"""The pinned generator of the tokenizer and chat-template goldens (Tests/Fixtures/tokenizer, .../chat-templates).

Reads what scripts/setup-tokenizers.sh materialised under .cache/ (tokenizers converted by transformers, and the
ShareGPT corpus) and writes small committed fixtures. Deterministic: the same inputs and pinned versions give the
same bytes (no timestamps, no paths outside the repository).

    .cache/venv-tokenizers/bin/python tools/make_tokenizer_goldens.py [--gguf-python /tmp/venv/bin/python]

--gguf-python names a Python with torch and the same transformers: the SmolLM2 tokenizer is then also loaded with
AutoTokenizer.from_pretrained(dir, gguf_file=...) exactly as transformers does with torch, and compared with
.cache/tokenizers/smollm2/tokenizer.json (which setup wrote without torch); and the mistral-v1-gguf goldens are made
with AutoTokenizer.from_pretrained(.cache/tokenizers, gguf_file=mistral-v1.gguf) in that Python. Without it both
run in a child of this Python, with whichever GGUF path this environment has (TokenizersBackend.from_pretrained
without torch; the manifest records which). The committed goldens are made with --gguf-python.

Fixtures (see manifest.json for hashes, counts and the checks' results):
  tokenizer/hard-cases.json        list of hand-written hard strings
  tokenizer/{F}-hard.json          per hard string: text, ids (add_special_tokens=True), ids_no_special,
                                   decoded (decode(ids_no_special)), decoded_skip_special (decode(ids, skip=True))
  tokenizer/{F}-sharegpt.txt       per corpus entry, in corpus order: encode(text, add_special_tokens=False) ids,
                                   space-separated, one line each
  tokenizer/manifest.json
  chat-templates/{name}.jinja      smollm2 (from the GGUF), llama2, llama3, mistral, qwen2 (written from memory)
  chat-templates/renderings.json   transformers' apply_chat_template(tokenize=False) of several conversations
for F in smollm2, mistral-v1, llama3 (converted tokenizers), smollm2-hub, qwen2-style (the same files with another
pre-tokenizer: SmolLM2's Hub digit splitting; Qwen2's split regex on Llama 3's vocabulary) and mistral-v1-gguf
(transformers' tokenizer built from the vocabulary-only GGUF .cache/tokenizers/mistral-v1.gguf).
"""

import argparse
import hashlib
import importlib.metadata
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import fetch_tokenizers as fetch  # noqa: E402  (paths, pins, and the SmolLM2 GGUF loader)

FAMILIES = fetch.FAMILIES
DERIVED = tuple(fetch.DERIVED_FAMILIES)  # smollm2-hub, qwen2-style
GGUF_FAMILY = "mistral-v1-gguf"
# What each derived family is for (manifest "purpose").
DERIVED_PURPOSE = {
    "smollm2-hub": "SmolLM2's real Hub tokenizer layout (HuggingFaceTB/SmolLM2-135M-Instruct tokenizer.json): the "
                   "smollm2 vocabulary and merges with the Hub's pre-tokenizer, which splits digits one by one "
                   "before the GPT-2 ByteLevel regex. The smollm2 family is what transformers builds from the GGUF, "
                   "which does not map tokenizer.ggml.pre = 'smollm' and keeps plain ByteLevel.",
    "qwen2-style": "Exercises Qwen2's split pattern (Qwen/Qwen2 tokenizer.json Split regex: \\p{N} one digit a "
                   "piece where Llama 3 has \\p{N}{1,3}). Not a real model: Llama 3's vocabulary, merges, special "
                   "tokens and post-processor with only the Split regex replaced (no NFC normalizer, unlike Qwen2).",
}
PINNED = {"transformers": "5.24.0", "tokenizers": "0.23.3"}

# --------------------------------------------------------------------------------------------------------------------
# Hard strings. Written with escapes where the character is invisible or confusable (NFC vs NFD, ZWJ, controls).
HARD_CASES = [
    # empty and whitespace
    "",
    " ",
    "  ",
    "   ",
    "    ",
    " " * 8,
    " " * 16,
    " " * 17,
    "a  b",
    "a   b    c     d",
    "a" + " " * 17 + "b",
    " leading space",
    "  two leading spaces",
    "trailing space ",
    "trailing spaces   ",
    "  both ends  ",
    "\t",
    "\ttab\tseparated\tvalues\t",
    "\n",
    "\n\n\n",
    "line one\nline two\n",
    "windows\r\nline endings\r\n",
    "\r",
    "  \n\n  ",
    "mixed \t \n\r\n \t end",
    # digits and numbers
    "1",
    "12",
    "123",
    "1234",
    "12345678901",
    "3.14159",
    "1,000,000",
    "-42 +7 0x1F 1e-9",
    "2024-01-15T10:30:00Z",
    "I have 3 apples and 12 oranges.",
    "Steps:\n\n1. one\n2. two",
    "  42  ",
    "\t7\n\n\n8",
    # emoji
    "\U0001F600",
    "\U0001F44D\U0001F3FD",
    "\U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466",
    "\U0001F3F3\uFE0F\u200D\U0001F308",
    "\U0001F1FA\U0001F1F8\U0001F1EF\U0001F1F5",
    "I \u2764\uFE0F NY",
    "\U0001F3FD",
    # scripts
    "\u4F60\u597D\uFF0C\u4E16\u754C\uFF01\u8FD9\u662F\u4E00\u4E2A\u6D4B\u8BD5\u3002",
    "\uC548\uB155\uD558\uC138\uC694, \uC138\uACC4!",
    "\u3053\u3093\u306B\u3061\u306F\u3001\u4E16\u754C\u3002\u30AB\u30BF\u30AB\u30CA\u3068\u3072\u3089\u304C\u306A\u3002",
    "\u0645\u0631\u062D\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645",
    "\u0928\u092E\u0938\u094D\u0924\u0947 \u0926\u0941\u0928\u093F\u092F\u093E",
    "\u041F\u0440\u0438\u0432\u0435\u0442, \u043C\u0438\u0440! \u0395\u03BB\u03BB\u03B7\u03BD\u03B9\u03BA\u03AC",
    "\u0E2A\u0E27\u0E31\u0E2A\u0E14\u0E35\u0E04\u0E23\u0E31\u0E1A",
    "Hello\u4E16\u754C\u0645\u0631\u062D\u0628\u0627mixed",
    # combining marks: NFC vs NFD
    "caf\u00E9",
    "cafe\u0301",
    "e\u0301",
    "\u0301",
    "a\u0308\u0301\u0323 Z\u0351\u0327\u0358",
    # special-token text inside text
    "hello<|im_end|>world",
    "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n",
    "<s>",
    "</s>",
    "<unk>",
    "<s>hello</s>",
    " <s> spaced </s> ",
    "<|begin_of_text|>",
    "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
    "<|endoftext|>",
    "<|eot_id|><|eot_id|>",
    "<|reserved_special_token_5|>",
    "<s almost special",
    # long words
    "a" * 500,
    "https://example.com/some/very/long/path/to/a/resource.html?query=alpha&beta=gamma_delta-epsilon%20zeta"
    "&list=1,2,3#fragment-identifier-0123456789",
    "Pneumonoultramicroscopicsilicovolcanoconiosis",
    # contractions and apostrophes
    "I'm",
    "don't",
    "'S",
    "HE'LL they've we'd you're it's",
    "O'Neil's dog's 'quoted'",
    "I\u2019m curly",
    # code
    "def foo(x):\n    if x > 0:\n        return x * 2\n    return None\n",
    "for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}",
    "<div class=\"x\">&amp; &lt;b&gt;</div>",
    "x==y!=z<=w>=v->u=>t::s",
    "SELECT * FROM t WHERE a = 'b';  -- comment",
    # punctuation
    "\u201CQuoted\u201D \u2014 dash \u2013 en \u2018single\u2019 \u2026 \u00AB\u00BB \u00BFQu\u00E9? \u00A1S\u00ED!",
    "....!!!???,,,;;;",
    "\u3001\u3002\u300C\u300D\u30FB\uFF08\uFF09",
    # the SentencePiece space marker itself
    "\u2581",
    "\u2581hello",
    "hello\u2581world",
    "\u2581\u2581",
    # byte fallback and rare characters
    "\u0001",
    "\u0000",
    "a\u0007b\u001Bc",
    "\u007F",
    "\u200B",
    "\uFEFFBOM",
    "\u00A0non-breaking\u00A0spaces\u00A0",
    "\u2028line separator\u2029",
    "\u0085next line",
    "\uFFFD",
    "\U0001D573\U0001D58A\U0001D591\U0001D591\U0001D594",
    "\U00020000\U0002A6D6",
    "\U000E0001\U000E0041",
    "\U0010FFFD",
    "\U0001FAE8",
    "MiXeD CaSe HELLO world hElLo",
]

# --------------------------------------------------------------------------------------------------------------------
# Chat templates. smollm2 comes from the GGUF; the others are written from memory of the models' tokenizer_config.json
# "chat_template" values (after JSON decoding: a `\n` below inside a Jinja string literal is backslash + n in the
# template text, which Jinja reads as a newline escape).
LLAMA2_TEMPLATE = (
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
    "{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}"
    "{% set system_message = false %}{% endif %}{% for message in loop_messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if loop.index0 == 0 and system_message != false %}"
    "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
    "{% else %}{% set content = message['content'] %}{% endif %}"
    "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}"
)

LLAMA3_TEMPLATE = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'"
    "+ message['content'] | trim + '<|eot_id|>' %}"
    "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}"
)

MISTRAL_TEMPLATE = """{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content'] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}

{{- bos_token }}
{%- for message in loop_messages %}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}
        {{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant/...') }}
    {%- endif %}
    {%- if message['role'] == 'user' %}
        {%- if loop.first and system_message is defined %}
            {{- ' [INST] ' + system_message + '\\n\\n' + message['content'] + ' [/INST]' }}
        {%- else %}
            {{- ' [INST] ' + message['content'] + ' [/INST]' }}
        {%- endif %}
    {%- elif message['role'] == 'assistant' %}
        {{- ' ' + message['content'] + eos_token}}
    {%- else %}
        {{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}
    {%- endif %}
{%- endfor %}
"""

QWEN2_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

# name -> (template or None for the GGUF's, the model it is from, whether written from memory, host for rendering)
# host: a family tokenizer from .cache/tokenizers (also used to encode the rendering), or a dict of special tokens
# for a stand-in tokenizer with exactly that model's special tokens.
TEMPLATES = {
    "smollm2": (None, "SmolLM2-135M-Instruct (tokenizer.chat_template of the GGUF)", False, "smollm2"),
    "llama2": (LLAMA2_TEMPLATE, "meta-llama/Llama-2-7b-chat-hf", True,
               {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}),
    "llama3": (LLAMA3_TEMPLATE, "meta-llama/Meta-Llama-3-8B-Instruct", True, "llama3"),
    "mistral": (MISTRAL_TEMPLATE, "mistralai/Mistral-7B-Instruct-v0.1", True, "mistral-v1"),
    "qwen2": (QWEN2_TEMPLATE, "Qwen/Qwen2-0.5B-Instruct", True,
              {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"}),
}

CONVERSATIONS = {
    "user_only": [
        {"role": "user", "content": "What is the capital of France?"},
    ],
    "system_user": [
        {"role": "system", "content": "You are a concise assistant."},
        {"role": "user", "content": "What is the capital of France?"},
    ],
    "multi_turn": [
        {"role": "user", "content": "Hi!"},
        {"role": "assistant", "content": "Hello! How can I help you today?"},
        {"role": "user", "content": "Tell me a joke."},
    ],
    "system_multi_turn": [
        {"role": "system", "content": "You are a pirate."},
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": "Arr, ahoy matey!"},
        {"role": "user", "content": "Where is the treasure?"},
        {"role": "assistant", "content": "Buried on the isle, o' course."},
    ],
    "whitespace": [
        {"role": "system", "content": "\n  Be terse.  \n"},
        {"role": "user", "content": "  hello there \n\n"},
        {"role": "assistant", "content": "\n\nHi!  \t"},
        {"role": "user", "content": "\tWhat's 2 + 2?\n"},
    ],
    "unicode_and_markup": [
        {"role": "user", "content": "Caf\u00e9 \U0001F600 <s> </s> <|im_end|> {{ not jinja }} {% raw %}"},
    ],
    "system_only": [
        {"role": "system", "content": "You are a helpful assistant."},
    ],
    "bad_two_users": [
        {"role": "user", "content": "First."},
        {"role": "user", "content": "Second, without an answer in between."},
    ],
    "bad_assistant_first": [
        {"role": "assistant", "content": "I speak first."},
        {"role": "user", "content": "Hm."},
    ],
}


def log(msg: str) -> None:
    print(f"make_tokenizer_goldens: {msg}", flush=True)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def rel(path: Path) -> str:
    return str(path.resolve().relative_to(ROOT))


def write_bytes(path: Path, data: bytes) -> dict:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return {"file": rel(path), "bytes": len(data), "sha256": sha256_bytes(data)}


def json_lines_list(items: list) -> bytes:
    """A JSON list with one compact, ASCII-only item a line: small, diffable, and every escape explicit."""
    body = ",\n".join(json.dumps(item, ensure_ascii=True, separators=(", ", ": ")) for item in items)
    return ("[\n" + body + "\n]\n").encode("ascii")


def json_pretty(obj) -> bytes:
    return (json.dumps(obj, ensure_ascii=True, indent=1) + "\n").encode("ascii")


def versions() -> dict:
    names = ["transformers", "tokenizers", "sentencepiece", "protobuf", "tiktoken", "gguf", "jinja2", "numpy"]
    out = {"python": ".".join(map(str, sys.version_info[:3]))}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def load_corpus() -> list[str]:
    texts = []
    with open(fetch.CORPUS, encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            assert record["i"] == len(texts), "corpus indices must run 0, 1, 2, ..."
            texts.append(record["text"])
    return texts


# --------------------------------------------------------------------------------------------------------------------
def encode_all(tok, hard: list[str], corpus: list[str]) -> dict:
    """What transformers gives for the hard cases and the corpus."""
    ids = [tok.encode(t) for t in hard]
    ids_ns = [tok.encode(t, add_special_tokens=False) for t in hard]
    corpus_ids = tok(corpus, add_special_tokens=False)["input_ids"]
    return {
        "ids": ids,
        "ids_no_special": ids_ns,
        "decoded": [tok.decode(x) for x in ids_ns],
        "decoded_skip_special": [tok.decode(x, skip_special_tokens=True) for x in ids],
        "corpus_ids": corpus_ids,
        "corpus_decoded": [tok.decode(x) for x in corpus_ids],
    }


def gguf_check_child(out_path: str) -> None:
    """--gguf-check-child: load SmolLM2's tokenizer straight from the GGUF, dump what it does."""
    tok, how = fetch.load_smollm2_from_gguf()
    hard = HARD_CASES
    corpus = load_corpus()
    result = encode_all(tok, hard, corpus)
    result["backend_json"] = json.loads(tok.backend_tokenizer.to_str())
    result["how"] = how
    result["class"] = type(tok).__name__
    result["special_tokens_map"] = tok.special_tokens_map
    result["chat_template"] = tok.chat_template
    result["versions"] = versions()
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(result, f)


def gguf_vocab_child(out_path: str) -> None:
    """--gguf-vocab-child: build transformers' tokenizer from .cache/tokenizers/mistral-v1.gguf, dump what it does."""
    tok, how = fetch.load_tokenizer_from_gguf(fetch.GGUF_VOCAB)
    result = encode_all(tok, HARD_CASES, load_corpus())
    result["backend_json"] = json.loads(tok.backend_tokenizer.to_str())
    result["how"] = how
    result["class"] = type(tok).__name__
    result["size"] = len(tok)
    result["special_tokens_map"] = tok.special_tokens_map
    result["encode_empty_with_special_tokens"] = tok.encode("", add_special_tokens=True)
    result["init_kwargs"] = {k: tok.init_kwargs.get(k) for k in ("add_bos_token", "add_eos_token", "legacy",
                                                                  "add_prefix_space") if k in tok.init_kwargs}
    result["versions"] = versions()
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(result, f)


def run_child(flag: str, python: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="seesaw-gguf-") as d:
        out = os.path.join(d, "out.json")
        subprocess.run([python, str(Path(__file__).resolve()), flag, out], check=True)
        direct = json.loads(Path(out).read_text(encoding="utf-8"))
    for key in ("transformers", "tokenizers"):
        if direct["versions"][key] != PINNED[key]:
            raise SystemExit(f"make_tokenizer_goldens: {python} has {key} {direct['versions'][key]}, "
                             f"expected {PINNED[key]}")
    return direct


def gguf_check(family_result: dict, gguf_python: str | None) -> dict:
    saved = json.loads((fetch.TOKENIZERS / "smollm2" / "tokenizer.json").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="seesaw-gguf-check-") as d:
        out = os.path.join(d, "gguf.json")
        python = gguf_python or sys.executable
        subprocess.run([python, str(Path(__file__).resolve()), "--gguf-check-child", out], check=True)
        direct = json.loads(Path(out).read_text(encoding="utf-8"))
    for key in ("transformers", "tokenizers"):
        if direct["versions"][key] != PINNED[key]:
            raise SystemExit(f"make_tokenizer_goldens: {python} has {key} {direct['versions'][key]}, "
                             f"expected {PINNED[key]}")
    mismatch = {
        "hard_ids": [i for i, (a, b) in enumerate(zip(direct["ids"], family_result["ids"])) if a != b],
        "hard_ids_no_special": [i for i, (a, b) in enumerate(zip(direct["ids_no_special"],
                                                                 family_result["ids_no_special"])) if a != b],
        "hard_decoded": [i for i, (a, b) in enumerate(zip(direct["decoded"], family_result["decoded"])) if a != b],
        "sharegpt_ids": [i for i, (a, b) in enumerate(zip(direct["corpus_ids"], family_result["corpus_ids"]))
                         if a != b],
    }
    return {
        "loaded_with": direct["how"],
        "python_has_torch": "torch installed" in direct["how"],
        "class": direct["class"],
        "backend_json_equals_tokenizer_json": direct["backend_json"] == saved,
        "special_tokens_map": direct["special_tokens_map"],
        "mismatches": mismatch,
        "identical": direct["backend_json"] == saved and not any(mismatch.values()),
    }


def reference_check(family: str, hard: list[str], corpus: list[str], result: dict) -> dict | None:
    """Compare with the original library the source file belongs to (information: HF is the reference here)."""
    if family in ("mistral-v1", GGUF_FAMILY):
        import sentencepiece as spm

        sp = spm.SentencePieceProcessor(model_file=str(fetch.SOURCES / "mistral-v1.tokenizer.model"))
        ref = lambda t: sp.encode(t)  # noqa: E731  (no BOS; "<s>" etc. in text are plain text to sentencepiece)
        name = f"sentencepiece {importlib.metadata.version('sentencepiece')} SentencePieceProcessor.encode(text)"
    elif family in ("llama3", "qwen2-style"):
        import tiktoken
        from tiktoken.load import load_tiktoken_bpe

        ranks = load_tiktoken_bpe(str(fetch.SOURCES / "llama3.tokenizer.model"))
        if family == "llama3":
            pattern = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                       r"|\s*[\r\n]+|\s+(?!\S)|\s+")
            what = "llama3 pattern"
        else:
            pattern, what = fetch.QWEN2_SPLIT, "qwen2 pattern, llama3 ranks"
        enc = tiktoken.Encoding(name=family, pat_str=pattern, mergeable_ranks=ranks,
                                special_tokens={t: len(ranks) + i for i, t in enumerate(fetch.LLAMA3_SPECIAL_TOKENS)})
        ref = lambda t: enc.encode(t, allowed_special="all")  # noqa: E731
        name = f"tiktoken {importlib.metadata.version('tiktoken')} Encoding({what}).encode(text, " \
               "allowed_special='all')"
    else:
        return None
    return {
        "reference": name,
        "hard_mismatches": [i for i, t in enumerate(hard) if ref(t) != result["ids_no_special"][i]],
        "sharegpt_mismatches": [i for i, t in enumerate(corpus) if ref(t) != result["corpus_ids"][i]],
    }


def smollm2_hub_variant(raw, hard: list[str], corpus: list[str], result: dict) -> dict:
    """Where the GGUF-derived tokenizer differs from SmolLM2's own Hub tokenizer.json (information).

    The GGUF says tokenizer.ggml.pre = "smollm", which transformers 5.24 does not map (GGUF_PRE_TOKENIZER_SPLITS), so
    it keeps GPT2Tokenizer's ByteLevel(use_regex=True) (the GPT-2 split regex). The Hub's tokenizer.json for
    HuggingFaceTB/SmolLM2-135M-Instruct (and llama.cpp's "smollm" pre-tokenizer) first split digits one by one:
    Sequence[Digits(individual_digits=True), ByteLevel(add_prefix_space=False, use_regex=True)]. Same vocabulary and
    merges; only the split differs (e.g. "\n\n1" is "Ċ","Ċ","1" here and "ĊĊ","1" there).
    """
    from tokenizers import Tokenizer, pre_tokenizers

    hub = Tokenizer.from_str(raw.to_str())
    hub.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True),
    ])
    hub_hard = [hub.encode(t, add_special_tokens=False).ids for t in hard]
    hub_corpus = [e.ids for e in hub.encode_batch(corpus, add_special_tokens=False)]
    return {
        "pre_tokenizer": "Sequence[Digits(individual_digits=True), ByteLevel(add_prefix_space=False, "
                         "trim_offsets=True, use_regex=True)]",
        "hard_mismatches": [i for i, ids in enumerate(hub_hard) if ids != result["ids_no_special"][i]],
        "sharegpt_mismatches": [i for i, ids in enumerate(hub_corpus) if ids != result["corpus_ids"][i]],
    }


def make_family(family: str, hard: list[str], corpus: list[str], out_dir: Path) -> tuple[dict, dict]:
    from tokenizers import Tokenizer
    from transformers import AutoTokenizer

    src = fetch.TOKENIZERS / family
    tok = AutoTokenizer.from_pretrained(str(src))
    result = encode_all(tok, hard, corpus)

    # The same file through the tokenizers library alone (what a tokenizer.json reader implements).
    raw = Tokenizer.from_file(str(src / "tokenizer.json"))
    raw_ids = [raw.encode(t, add_special_tokens=True).ids for t in hard]
    raw_ids_ns = [raw.encode(t, add_special_tokens=False).ids for t in hard]
    raw_corpus = [e.ids for e in raw.encode_batch(corpus, add_special_tokens=False)]
    lib = {
        "hard_ids": [i for i in range(len(hard)) if raw_ids[i] != result["ids"][i]],
        "hard_ids_no_special": [i for i in range(len(hard)) if raw_ids_ns[i] != result["ids_no_special"][i]],
        "hard_decoded": [i for i in range(len(hard)) if raw.decode(raw_ids_ns[i], skip_special_tokens=False)
                         != result["decoded"][i]],
        "hard_decoded_skip_special": [i for i in range(len(hard)) if raw.decode(raw_ids[i], skip_special_tokens=True)
                                      != result["decoded_skip_special"][i]],
        "sharegpt_ids": [i for i in range(len(corpus)) if raw_corpus[i] != result["corpus_ids"][i]],
    }

    entries = [
        {"text": t, "ids": result["ids"][i], "ids_no_special": result["ids_no_special"][i],
         "decoded": result["decoded"][i], "decoded_skip_special": result["decoded_skip_special"][i]}
        for i, t in enumerate(hard)
    ]
    hard_file = write_bytes(out_dir / f"{family}-hard.json", json_lines_list(entries))
    lines = "".join(" ".join(map(str, ids)) + "\n" for ids in result["corpus_ids"])
    corpus_file = write_bytes(out_dir / f"{family}-sharegpt.txt", lines.encode("ascii"))
    corpus_file["tokens"] = sum(len(x) for x in result["corpus_ids"])

    bos = tok.encode("", add_special_tokens=True)
    info = {
        "tokenizer_dir": rel(src),
        "class": type(tok).__name__,
        "size": len(tok),
        "special_tokens_map": tok.special_tokens_map,
        "encode_empty_with_special_tokens": bos,
        "fixtures": {"hard": hard_file, "sharegpt": corpus_file},
        "roundtrip_failures": {
            "hard": [i for i, t in enumerate(hard) if result["decoded"][i] != t],
            "sharegpt": [i for i, t in enumerate(corpus) if result["corpus_decoded"][i] != t],
        },
        "tokenizers_library_disagrees": lib,
    }
    ref = reference_check(family, hard, corpus, result)
    if ref is not None:
        info["original_library"] = ref
    if family == "smollm2":
        info["hub_pre_tokenizer_variant"] = smollm2_hub_variant(raw, hard, corpus, result)
    log(f"{family}: {info['class']}, {len(hard)} hard cases -> {hard_file['bytes']:,} B; "
        f"{len(corpus)} texts, {corpus_file['tokens']:,} tokens -> {corpus_file['bytes']:,} B; round trip fails on "
        f"{len(info['roundtrip_failures']['hard'])} hard / {len(info['roundtrip_failures']['sharegpt'])} corpus; "
        f"tokenizers library disagrees on {sum(map(len, lib.values()))}"
        + (f"; vs original: {len(ref['hard_mismatches'])} hard / {len(ref['sharegpt_mismatches'])} corpus differ"
           if ref else "")
        + (f"; vs the Hub's digit-splitting pre-tokenizer: {len(info['hub_pre_tokenizer_variant']['hard_mismatches'])}"
           f" hard / {len(info['hub_pre_tokenizer_variant']['sharegpt_mismatches'])} corpus differ"
           if family == "smollm2" else ""))
    return info, {"tokenizer": tok, "result": result}


def index_diffs(a: list, b: list) -> list[int]:
    assert len(a) == len(b)
    return [i for i, (x, y) in enumerate(zip(a, b)) if x != y]


def result_diffs(a: dict, b: dict) -> dict:
    """Where two encode_all results differ, as index lists (hard cases, corpus)."""
    return {
        "hard_ids": index_diffs(a["ids"], b["ids"]),
        "hard_ids_no_special": index_diffs(a["ids_no_special"], b["ids_no_special"]),
        "hard_decoded": index_diffs(a["decoded"], b["decoded"]),
        "hard_decoded_skip_special": index_diffs(a["decoded_skip_special"], b["decoded_skip_special"]),
        "sharegpt_ids": index_diffs(a["corpus_ids"], b["corpus_ids"]),
    }


def derived_extras(family: str, result: dict, base_result: dict, smollm2_info: dict | None) -> dict:
    """What a derived family is, and where it differs from its base family's goldens."""
    base, _ = fetch.DERIVED_FAMILIES[family]
    tj = json.loads((fetch.TOKENIZERS / family / "tokenizer.json").read_text(encoding="utf-8"))
    extras = {
        "purpose": DERIVED_PURPOSE[family],
        "derived_from": base,
        "pre_tokenizer": tj["pre_tokenizer"],
        "differs_from_base": result_diffs(result, base_result),
    }
    if smollm2_info is not None:
        # smollm2's manifest entry already predicts this family's differences from smollm2 (tokenizers library).
        variant = smollm2_info["hub_pre_tokenizer_variant"]
        extras["matches_smollm2_hub_pre_tokenizer_variant"] = (
            variant["hard_mismatches"] == extras["differs_from_base"]["hard_ids_no_special"]
            and variant["sharegpt_mismatches"] == extras["differs_from_base"]["sharegpt_ids"])
    return extras


def gguf_metadata_summary(sp_overrides: dict) -> dict:
    """The GGUF's keys: scalars as they are, arrays as counts; token types counted; special ids and flags."""
    from gguf import GGUFReader

    reader = GGUFReader(str(fetch.GGUF_VOCAB))
    keys = {}
    for name, field in reader.fields.items():
        if name.startswith("GGUF."):
            continue
        value = field.contents()
        keys[name] = {"array_of": len(value)} if isinstance(value, list) else value
    types = reader.fields["tokenizer.ggml.token_type"].contents()
    tokens = reader.fields["tokenizer.ggml.tokens"].contents()
    scores = reader.fields["tokenizer.ggml.scores"].contents()
    names = {1: "normal", 2: "unknown", 3: "control", 4: "user_defined", 5: "unused", 6: "byte"}
    return {
        "file": rel(fetch.GGUF_VOCAB),
        "tensor_count": len(reader.tensors),
        "keys": keys,
        "token_type_counts": {names[t]: types.count(t) for t in sorted(set(types))},
        "non_normal_non_byte_tokens": {str(i): {"token": tokens[i], "token_type": t, "score": scores[i]}
                                       for i, t in enumerate(types) if t not in (1, 6)},
        "add_space_prefix_written": "tokenizer.ggml.add_space_prefix" in keys,
        "added_tokens_decoder_overrides": sp_overrides,
        "written_as": "tools/fetch_tokenizers.py make_mistral_gguf: convert_hf_to_gguf.py --vocab-only for "
                      "Mistral-7B-v0.1 (LlamaModel; _create_vocab_sentencepiece then gguf.SpecialVocab). "
                      "add_space_prefix is not written: LlamaModel.set_vocab writes it only when "
                      "tokenizer_config.json has add_prefix_space (llama.cpp's default for SentencePiece is true). "
                      "convert_hf_to_gguf.py applies tokenizer_config.json's added_tokens_decoder after reading "
                      "sentencepiece: <unk>, <s>, </s> (special: true) are written CONTROL with score -1000.0 "
                      "(sentencepiece: unknown 2 / control 3, score 0.0); see added_tokens_decoder_overrides.",
    }


def built_tokenizer_summary(backend: dict, base: dict) -> dict:
    """What tokenizer.json transformers builds from the GGUF, against the mistral-v1 tokenizer.json."""
    model = backend["model"]
    base_model = base["model"]
    merges = [tuple(m) for m in model["merges"]]
    base_merges = [tuple(m) for m in base_model["merges"]]
    first_diff = next((i for i, (a, b) in enumerate(zip(merges, base_merges)) if a != b), None)
    rank = {m: i for i, m in enumerate(base_merges)}
    return {
        "normalizer": backend["normalizer"],
        "pre_tokenizer": backend["pre_tokenizer"],
        "post_processor": backend["post_processor"],
        "decoder": backend["decoder"],
        "added_tokens": backend["added_tokens"],
        "model": {k: v for k, v in model.items() if k not in ("vocab", "merges")},
        "vocab_size": len(model["vocab"]),
        "merges_count": len(merges),
        "merges_derived": "tokenizer.ggml.merges is absent (a SentencePiece vocabulary has none), so transformers "
                          "5.24 (integrations/gguf/gguf_tokenizer_mapping.py get_merges) derives them: "
                          "tokenization_utils_base.generate_merges(vocab, vocab_scores=dict(zip(tokens, scores))) "
                          "takes every split of every token into two tokens of the vocabulary, and sorts them by "
                          "the whole token's GGUF score, descending, then by the pieces' lengths, descending "
                          "(stable: ties keep token order, then left/right id order); no merges file involved.",
        "differs_from_mistral_v1_tokenizer_json": {
            "normalizer": backend["normalizer"] != base["normalizer"],
            "pre_tokenizer": backend["pre_tokenizer"] != base["pre_tokenizer"],
            "post_processor": backend["post_processor"] != base["post_processor"],
            "decoder": backend["decoder"] != base["decoder"],
            "added_tokens": backend["added_tokens"] != base["added_tokens"],
            "model_flags": {k: [v, base_model.get(k)] for k, v in model.items()
                            if k not in ("vocab", "merges") and v != base_model.get(k)},
            "vocab": model["vocab"] != base_model["vocab"],
            "merges_same_set": set(merges) == set(base_merges),
            "merges_same_order": merges == base_merges,
            "merges_at_other_rank": sum(1 for i, m in enumerate(merges) if rank.get(m) != i),
            "first_merge_at_other_rank": first_diff,
        },
    }


def attribute_gguf_differences(backend: dict, base: dict, hard: list[str], corpus: list[str],
                               gguf_result: dict, base_result: dict) -> dict:
    """Which of the built tokenizer's changes explain its differences from mistral-v1 (tokenizers library).

    Swaps one part of the GGUF-built tokenizer.json for mistral-v1's (its pre-tokenizer; its merges, in mistral-v1's
    order) and counts what still differs from the mistral-v1 goldens (ids without special tokens).
    """
    from tokenizers import Tokenizer

    def differs(doc: dict) -> dict:
        tok = Tokenizer.from_str(json.dumps(doc))
        hard_ids = [tok.encode(t, add_special_tokens=False).ids for t in hard]
        corpus_ids = [e.ids for e in tok.encode_batch(corpus, add_special_tokens=False)]
        return {"hard_ids_no_special": index_diffs(hard_ids, base_result["ids_no_special"]),
                "sharegpt_ids": index_diffs(corpus_ids, base_result["corpus_ids"])}

    with_pre = dict(backend, pre_tokenizer=base["pre_tokenizer"])
    with_merges = dict(backend, model=dict(backend["model"], merges=base["model"]["merges"]))
    return {
        "as_built": differs(backend),
        "with_mistral_v1_pre_tokenizer": differs(with_pre),
        "with_mistral_v1_merge_order": differs(with_merges),
        "with_both": differs(dict(with_pre, model=with_merges["model"])),
    }


def make_gguf_vocab_family(hard: list[str], corpus: list[str], out_dir: Path, gguf_python: str | None,
                           base_result: dict) -> dict:
    """mistral-v1-gguf: goldens from transformers' tokenizer built from .cache/tokenizers/mistral-v1.gguf."""
    from tokenizers import Tokenizer

    direct = run_child("--gguf-vocab-child", gguf_python or sys.executable)
    entries = [
        {"text": t, "ids": direct["ids"][i], "ids_no_special": direct["ids_no_special"][i],
         "decoded": direct["decoded"][i], "decoded_skip_special": direct["decoded_skip_special"][i]}
        for i, t in enumerate(hard)
    ]
    hard_file = write_bytes(out_dir / f"{GGUF_FAMILY}-hard.json", json_lines_list(entries))
    lines = "".join(" ".join(map(str, ids)) + "\n" for ids in direct["corpus_ids"])
    corpus_file = write_bytes(out_dir / f"{GGUF_FAMILY}-sharegpt.txt", lines.encode("ascii"))
    corpus_file["tokens"] = sum(len(x) for x in direct["corpus_ids"])

    # The built tokenizer through the tokenizers library alone.
    raw = Tokenizer.from_str(json.dumps(direct["backend_json"]))
    raw_ids = [raw.encode(t, add_special_tokens=True).ids for t in hard]
    raw_ids_ns = [raw.encode(t, add_special_tokens=False).ids for t in hard]
    raw_corpus = [e.ids for e in raw.encode_batch(corpus, add_special_tokens=False)]
    lib = {
        "hard_ids": index_diffs(raw_ids, direct["ids"]),
        "hard_ids_no_special": index_diffs(raw_ids_ns, direct["ids_no_special"]),
        "hard_decoded": [i for i in range(len(hard)) if raw.decode(raw_ids_ns[i], skip_special_tokens=False)
                         != direct["decoded"][i]],
        "hard_decoded_skip_special": [i for i in range(len(hard)) if raw.decode(raw_ids[i], skip_special_tokens=True)
                                      != direct["decoded_skip_special"][i]],
        "sharegpt_ids": index_diffs(raw_corpus, direct["corpus_ids"]),
    }
    base_json = json.loads((fetch.TOKENIZERS / "mistral-v1" / "tokenizer.json").read_text(encoding="utf-8"))
    _, _, _, overrides = fetch.sentencepiece_vocab(fetch.SOURCES / "mistral-v1.tokenizer.model",
                                                   fetch.MISTRAL_V1_CONFIG)
    info = {
        "gguf_file": rel(fetch.GGUF_VOCAB),
        "loaded_with": direct["how"],
        "python_has_torch": "torch installed" in direct["how"],
        "class": direct["class"],
        "size": direct["size"],
        "special_tokens_map": direct["special_tokens_map"],
        "init_kwargs": direct["init_kwargs"],
        "encode_empty_with_special_tokens": direct["encode_empty_with_special_tokens"],
        "fixtures": {"hard": hard_file, "sharegpt": corpus_file},
        "roundtrip_failures": {
            "hard": [i for i, t in enumerate(hard) if direct["decoded"][i] != t],
            "sharegpt": [i for i, t in enumerate(corpus) if direct["corpus_decoded"][i] != t],
        },
        "tokenizers_library_disagrees": lib,
        "original_library": reference_check(GGUF_FAMILY, hard, corpus, direct),
        "differs_from_mistral_v1": result_diffs(direct, base_result),
        "difference_attribution": attribute_gguf_differences(direct["backend_json"], base_json, hard, corpus,
                                                              direct, base_result),
        "transformers_tokenizer_json": built_tokenizer_summary(direct["backend_json"], base_json),
        "gguf": gguf_metadata_summary(overrides),
    }
    d = info["differs_from_mistral_v1"]
    ref = info["original_library"]
    log(f"{GGUF_FAMILY}: {info['class']} ({direct['how'].split(';')[0]}), {len(hard)} hard cases -> "
        f"{hard_file['bytes']:,} B; {len(corpus)} texts, {corpus_file['tokens']:,} tokens -> "
        f"{corpus_file['bytes']:,} B; round trip fails on {len(info['roundtrip_failures']['hard'])} hard / "
        f"{len(info['roundtrip_failures']['sharegpt'])} corpus; tokenizers library disagrees on "
        f"{sum(map(len, lib.values()))}; vs mistral-v1: {len(d['hard_ids'])} hard (ids) / "
        f"{len(d['hard_ids_no_special'])} hard (no special) / {len(d['sharegpt_ids'])} corpus differ; "
        f"vs sentencepiece: {len(ref['hard_mismatches'])} hard / {len(ref['sharegpt_mismatches'])} corpus differ")
    return info


# --------------------------------------------------------------------------------------------------------------------
def gguf_chat_template() -> str:
    from gguf import GGUFReader

    field = GGUFReader(str(fetch.GGUF)).fields["tokenizer.chat_template"]
    return field.contents()


def make_chat_templates(out_dir: Path, tokenizers: dict) -> dict:
    from tokenizers import Tokenizer
    from tokenizers.models import BPE
    from transformers import TokenizersBackend

    files, rendered_templates = {}, {}
    for name, (template, model, from_memory, host) in TEMPLATES.items():
        if template is None:
            template = gguf_chat_template()
            saved = (fetch.TOKENIZERS / "smollm2" / "chat_template.jinja").read_text(encoding="utf-8")
            assert saved == template, "transformers' chat_template.jinja differs from the GGUF's template"
        files[name] = write_bytes(out_dir / f"{name}.jinja", template.encode("utf-8"))
        if isinstance(host, str):
            tok = tokenizers[host]
            encoder = host
        else:
            # A stand-in with exactly this model's special tokens (they are what the template sees of a tokenizer).
            tok = TokenizersBackend(tokenizer_object=Tokenizer(BPE()), **host)
            encoder = None
        variables = dict(tok.special_tokens_map)
        renderings = []
        for conv_name, messages in CONVERSATIONS.items():
            for gen in (False, True):
                entry = {"conversation": conv_name, "add_generation_prompt": gen}
                try:
                    text = tok.apply_chat_template(messages, chat_template=template, tokenize=False,
                                                   add_generation_prompt=gen)
                    entry["rendered"] = text
                    if encoder is not None:
                        # what apply_chat_template(tokenize=True) gives: the rendering, add_special_tokens=False
                        entry["ids"] = tok.encode(text, add_special_tokens=False)
                except Exception as e:  # the template's raise_exception (jinja2 TemplateError)
                    entry["error"] = True
                    entry["error_type"] = type(e).__name__
                    entry["message"] = str(e)
                renderings.append(entry)
        rendered_templates[name] = {
            "file": f"{name}.jinja",
            "model": model,
            "from_memory": from_memory,
            "variables": variables,
            "ids_from_tokenizer": encoder,
            "renderings": renderings,
        }
        errors = sum(1 for r in renderings if r.get("error"))
        log(f"chat template {name}: {len(renderings)} renderings, {errors} errors")
    doc = {
        "_comment": [
            "Renderings by transformers' own chat-template renderer: tokenizer.apply_chat_template(messages, "
            "chat_template=<the .jinja file's text>, tokenize=False, add_generation_prompt=...).",
            "The template sees: messages, add_generation_prompt, tools=None, documents=None, and the tokenizer's "
            "special tokens (the 'variables' below; a special token not listed is undefined).",
            "Environment: jinja2 ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, "
            "extensions=[loopcontrols]); globals raise_exception(msg) (raises TemplateError), strftime_now, "
            "namespace, dict; filter tojson overridden (json.dumps, ensure_ascii=False, no HTML escaping).",
            "smollm2.jinja is tokenizer.chat_template of .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf. llama2, "
            "llama3, mistral and qwen2 are NOT copied from the Hub (no network): they were written from memory of "
            "the chat_template in the tokenizer_config.json of meta-llama/Llama-2-7b-chat-hf, "
            "meta-llama/Meta-Llama-3-8B-Instruct, mistralai/Mistral-7B-Instruct-v0.1 (its later, system-message "
            "version) and Qwen/Qwen2-0.5B-Instruct, as faithfully as possible; treat them as representative "
            "templates of those families, not byte-exact copies.",
            "'error': true marks a conversation the template rejects through raise_exception; 'message' is its text.",
            "'ids' (where the template has a tokenizer in .cache/tokenizers) are encode(rendered, "
            "add_special_tokens=False) with that tokenizer, as apply_chat_template(tokenize=True) gives.",
        ],
        "renderer": {"transformers": versions()["transformers"], "jinja2": versions()["jinja2"],
                     "trim_blocks": True, "lstrip_blocks": True, "keep_trailing_newline": False},
        "conversations": CONVERSATIONS,
        "templates": rendered_templates,
    }
    files["renderings.json"] = write_bytes(out_dir / "renderings.json", json_pretty(doc))
    return files


# --------------------------------------------------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(ROOT / "Tests" / "Fixtures"), help="the Fixtures directory")
    ap.add_argument("--gguf-python", help="a Python with torch, for the GGUF-vs-tokenizer.json check")
    ap.add_argument("--gguf-check-child", help=argparse.SUPPRESS)
    ap.add_argument("--gguf-vocab-child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.gguf_check_child:
        gguf_check_child(args.gguf_check_child)
        return
    if args.gguf_vocab_child:
        gguf_vocab_child(args.gguf_vocab_child)
        return

    v = versions()
    for key, want in PINNED.items():
        if v[key] != want:
            raise SystemExit(f"make_tokenizer_goldens: {key} {v[key]} installed, the goldens are pinned to {want}")
    missing = [p for p in [fetch.CORPUS, fetch.GGUF_VOCAB]
               + [fetch.TOKENIZERS / f / "tokenizer.json" for f in FAMILIES + DERIVED] if not p.is_file()]
    if missing:
        raise SystemExit(f"make_tokenizer_goldens: missing {[rel(p) for p in missing]}; run "
                         "scripts/setup-tokenizers.sh")

    out = Path(args.out)
    tok_dir, chat_dir = out / "tokenizer", out / "chat-templates"
    corpus = load_corpus()
    hard = list(HARD_CASES)
    assert len(set(hard)) == len(hard), "duplicate hard cases"
    hard_file = write_bytes(tok_dir / "hard-cases.json", json_lines_list(hard))
    log(f"{len(hard)} hard cases, {len(corpus)} corpus texts")

    families, loaded = {}, {}
    for family in FAMILIES:
        families[family], loaded[family] = make_family(family, hard, corpus, tok_dir)
    families["smollm2"]["gguf_direct"] = gguf = gguf_check(loaded["smollm2"]["result"], args.gguf_python)
    log(f"smollm2 straight from the GGUF ({gguf['loaded_with']}): "
        f"{'identical to' if gguf['identical'] else 'DIFFERENT FROM'} .cache/tokenizers/smollm2/tokenizer.json")
    for family in DERIVED:
        families[family], loaded[family] = make_family(family, hard, corpus, tok_dir)
        base = fetch.DERIVED_FAMILIES[family][0]
        families[family].update(derived_extras(family, loaded[family]["result"], loaded[base]["result"],
                                               families["smollm2"] if base == "smollm2" else None))
        d = families[family]["differs_from_base"]
        log(f"{family} vs {base}: {len(d['hard_ids_no_special'])} hard / {len(d['sharegpt_ids'])} corpus differ"
            + (f"; the same as smollm2's hub_pre_tokenizer_variant: "
               f"{families[family]['matches_smollm2_hub_pre_tokenizer_variant']}" if base == "smollm2" else ""))
    families[GGUF_FAMILY] = make_gguf_vocab_family(hard, corpus, tok_dir, args.gguf_python,
                                                   loaded["mistral-v1"]["result"])

    chat_files = make_chat_templates(chat_dir, {f: loaded[f]["tokenizer"] for f in FAMILIES})

    sources = {}
    for path in [fetch.CORPUS] + sorted(p for f in FAMILIES + DERIVED for p in (fetch.TOKENIZERS / f).iterdir()) \
            + [fetch.GGUF_VOCAB] + sorted(fetch.SOURCES.iterdir()):
        data = path.read_bytes()
        sources[rel(path)] = {"bytes": len(data), "sha256": sha256_bytes(data)}
    manifest = {
        "_comment": "Made by tools/make_tokenizer_goldens.py from the .cache outputs of scripts/setup-tokenizers.sh "
                    "(tools/fetch_tokenizers.py). Index lists refer to positions in hard-cases.json and in "
                    ".cache/data/sharegpt-corpus.jsonl. roundtrip_failures: decode(encode(text, "
                    "add_special_tokens=False)) != text. tokenizers_library_disagrees: tokenizers.Tokenizer.from_file("
                    "tokenizer.json) against transformers' AutoTokenizer on the same directory (expected empty). "
                    "original_library: the source file's own library (sentencepiece / tiktoken), for information. "
                    "hub_pre_tokenizer_variant (smollm2): the same vocabulary with the digit-splitting pre-tokenizer of "
                    "SmolLM2's Hub tokenizer.json, for information. smollm2-hub, qwen2-style: another family's "
                    "tokenizer.json with only the pre-tokenizer replaced (purpose, derived_from, pre_tokenizer); "
                    "differs_from_base: index lists where their goldens differ from the base family's. "
                    "mistral-v1-gguf: transformers' tokenizer built from the vocabulary-only GGUF "
                    ".cache/tokenizers/mistral-v1.gguf (loaded_with says how; gguf: what the file holds; "
                    "transformers_tokenizer_json: what transformers builds from it; differs_from_mistral_v1: index "
                    "lists against the mistral-v1 goldens; difference_attribution: the same with parts of the built "
                    "tokenizer swapped for mistral-v1's, by the tokenizers library; original_library: against "
                    "sentencepiece on the tokenizer.model the GGUF was written from).",
        "versions": v,
        "wheels": {name: {"version": ver, "sha256": sha} for name, (ver, sha) in fetch.WHEELS.items()},
        "corpus": {"file": rel(fetch.CORPUS), "texts": len(corpus), "max_code_points": fetch.CORPUS_MAX_CHARS,
                   "code_points": sum(map(len, corpus)), "utf8_bytes": sum(len(t.encode("utf-8")) for t in corpus)},
        "hard_cases": dict(hard_file, count=len(hard)),
        "sources": sources,
        "families": families,
        "chat_templates": chat_files,
    }
    manifest_file = write_bytes(tok_dir / "manifest.json", json_pretty(manifest))
    log(f"wrote {manifest_file['file']} ({manifest_file['bytes']:,} B)")
    for family in FAMILIES:
        size = families[family]["fixtures"]["sharegpt"]["bytes"]
        if size > 1_800_000:
            log(f"note: {family}-sharegpt.txt is {size:,} B (over 1.8 MB)")
    for family in DERIVED + (GGUF_FAMILY,):
        size = families[family]["fixtures"]["sharegpt"]["bytes"]
        if size > 1_900_000:
            raise SystemExit(f"make_tokenizer_goldens: {family}-sharegpt.txt is {size:,} B (over 1.9 MB)")


if __name__ == "__main__":
    main()
