#!/usr/bin/env python3
"""Writes the benchmark models under .cache/bench-models/ (git-ignored; scripts/setup-bench-models.sh runs this).

  tinyllama-shape/            a random model shaped like TinyLlama-1.1B (LlamaForCausalLM: hidden 2048, 22 layers,
                              32 heads, 4 KV heads, intermediate 5632, vocab 32000, untied lm_head), weights
                              N(0, 0.02) from a fixed seed, norm weights 1. One set of weights, rounded to bf16
                              once, is what every file below stores (so the files differ only by their type):
    hf-bf16/                  config.json, generation_config.json, BF16 safetensors in 1 GB shards with
                              model.safetensors.index.json, tokenizer.json + tokenizer_config.json of Mistral v1
                              (.cache/tokenizers/mistral-v1: a Llama-2-style 32000-token SentencePiece BPE)
    f16.gguf, bf16.gguf       as llama.cpp's convert_hf_to_gguf.py --outtype f16 / bf16 writes them: llama.cpp's
                              tensor names, q_proj/k_proj rows permuted for its interleaved rope, 1-D norms F32,
                              every matrix (token_embd and output too) F16 / BF16
    q8_0.gguf                 as convert_hf_to_gguf.py --outtype q8_0: every matrix Q8_0, norms F32
    q4_0.gguf                 like llama-quantize Q4_0: matrices and token_embd Q4_0, norms F32; output.weight
                              Q8_0 (llama-quantize picks Q6_K, which gguf-py cannot write; Q8_0 is the nearest
                              higher-precision type it can)
    q4_k_m.gguf               like llama-quantize Q4_K_M (without an imatrix): matrices and token_embd Q4_K,
                              attn_v and ffn_down Q6_K in llama.cpp's use_more_bits layers (the first and last
                              eighth, every third between), output.weight Q6_K, norms F32; quantized by
                              tools/ggml_kquants.py (numpy ports of ggml's reference quantizers)
                              Each GGUF carries the tokenizer metadata of .cache/tokenizers/mistral-v1.gguf.
  smollm2-bf16/               with --seesaw BIN: `seesaw convert --dtype bf16` of the SmolLM2-135M-Instruct GGUF
                              (Q4_1, dequantized, rounded to bf16) plus .cache/tokenizers/smollm2's tokenizer files

--only NAME... writes just those outputs (hf-bf16, f16.gguf, bf16.gguf, q8_0.gguf, q4_0.gguf, q4_k_m.gguf,
smollm2-bf16), e.g. `--only hf-bf16 q4_0.gguf` without the tens of minutes that Q4_K_M's quantizer takes.
Idempotent: every output that exists is skipped (outputs are written under a .part name and renamed when complete).
Weights are generated tensor by tensor (each from its own seed) and streamed to every missing output at once, so
memory stays around 2 GB. Needs numpy and gguf (tools/requirements-bench-models.txt), no torch.
"""

import argparse
import json
import shutil
import subprocess
import sys
import time
import zlib
from pathlib import Path

import gguf
import numpy as np
from gguf import GGMLQuantizationType as QT
from gguf_llama import add_llama_hparams
from ggml_kquants import quantize_q4_k, quantize_q6_k

ROOT = Path(__file__).resolve().parent.parent
SEED = 5
STD = 0.02
SHARD_BYTES = 1 << 30

# TinyLlama-1.1B's config.json, with the fields transformers writes.
TINYLLAMA_CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "attention_bias": False,
    "attention_dropout": 0.0,
    "bos_token_id": 1,
    "eos_token_id": 2,
    "hidden_act": "silu",
    "hidden_size": 2048,
    "initializer_range": STD,
    "intermediate_size": 5632,
    "max_position_embeddings": 2048,
    "mlp_bias": False,
    "model_type": "llama",
    "num_attention_heads": 32,
    "num_hidden_layers": 22,
    "num_key_value_heads": 4,
    "pretraining_tp": 1,
    "rms_norm_eps": 1e-05,
    "rope_scaling": None,
    "rope_theta": 10000.0,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "use_cache": True,
    "vocab_size": 32000,
}

# GGUF file -> (general.file_type, type of the 2-D matrices, of token_embd, of output); 1-D tensors are always F32.
GGUF_VARIANTS = {
    "f16.gguf": (gguf.LlamaFileType.MOSTLY_F16, QT.F16, QT.F16, QT.F16),
    "bf16.gguf": (gguf.LlamaFileType.MOSTLY_BF16, QT.BF16, QT.BF16, QT.BF16),
    "q8_0.gguf": (gguf.LlamaFileType.MOSTLY_Q8_0, QT.Q8_0, QT.Q8_0, QT.Q8_0),
    "q4_0.gguf": (gguf.LlamaFileType.MOSTLY_Q4_0, QT.Q4_0, QT.Q4_0, QT.Q8_0),
    "q4_k_m.gguf": (gguf.LlamaFileType.MOSTLY_Q4_K_M, QT.Q4_K, QT.Q4_K, QT.Q6_K),
}

OUTPUTS = ["hf-bf16", *GGUF_VARIANTS, "smollm2-bf16"]


def use_more_bits(layer: int, layers: int) -> bool:
    """llama.cpp's use_more_bits (llama-quant.cpp): the layers whose attn_v and ffn_down Q4_K_M keeps in Q6_K."""
    return layer < layers // 8 or layer >= 7 * layers // 8 or (layer - layers // 8) % 3 == 2


def log(message: str) -> None:
    print(message, flush=True)


def human(num_bytes: int) -> str:
    return f"{num_bytes / 1e9:.2f} GB" if num_bytes >= 1e8 else f"{num_bytes / 1e6:.1f} MB"


# ----------------------------------------------------------------------------- the weights


def hf_tensors(cfg: dict) -> list[tuple[str, tuple[int, ...]]]:
    """Every tensor of the model, HF name and shape, in the order they are generated and written."""
    h, i, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    head_dim = h // cfg["num_attention_heads"]
    q, kv = cfg["num_attention_heads"] * head_dim, cfg["num_key_value_heads"] * head_dim
    tensors = [("model.embed_tokens.weight", (v, h))]
    for layer in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        tensors += [
            (p + "input_layernorm.weight", (h,)),
            (p + "self_attn.q_proj.weight", (q, h)),
            (p + "self_attn.k_proj.weight", (kv, h)),
            (p + "self_attn.v_proj.weight", (kv, h)),
            (p + "self_attn.o_proj.weight", (h, q)),
            (p + "post_attention_layernorm.weight", (h,)),
            (p + "mlp.gate_proj.weight", (i, h)),
            (p + "mlp.up_proj.weight", (i, h)),
            (p + "mlp.down_proj.weight", (h, i)),
        ]
    tensors += [("model.norm.weight", (h,)), ("lm_head.weight", (v, h))]
    return tensors


def bf16_weights(name: str, shape: tuple[int, ...]) -> np.ndarray:
    """The tensor's bf16 bit patterns (uint16): N(0, STD) from a seed of its own, rounded to nearest even; norm
    weights (1-D) are 1."""
    if len(shape) == 1:
        return np.full(shape, 0x3F80, dtype=np.uint16)  # 1.0
    rng = np.random.default_rng([SEED, zlib.crc32(name.encode())])
    x = rng.standard_normal(shape, dtype=np.float32)
    x *= np.float32(STD)
    bits = x.view(np.uint32)
    # round to nearest, ties to even (no NaN or infinity here)
    bits += np.uint32(0x7FFF) + ((bits >> 16) & np.uint32(1))
    return (bits >> 16).astype(np.uint16)


def bf16_to_f32(bits: np.ndarray) -> np.ndarray:
    return (bits.astype(np.uint32) << 16).view(np.float32)


# ----------------------------------------------------------------------------- Hugging Face directory


class SafetensorsShards:
    """Writes BF16 tensors into safetensors shards of at most SHARD_BYTES, streaming: every header is known up front
    (shapes come from the config), data is appended tensor by tensor in the planned order."""

    def __init__(self, directory: Path, tensors: list[tuple[str, tuple[int, ...]]]):
        shards: list[list[tuple[str, tuple[int, ...]]]] = [[]]
        size = 0
        for name, shape in tensors:
            nbytes = 2 * int(np.prod(shape))
            if shards[-1] and size + nbytes > SHARD_BYTES:
                shards.append([])
                size = 0
            shards[-1].append((name, shape))
            size += nbytes
        n = len(shards)
        self.names = [f"model-{k + 1:05d}-of-{n:05d}.safetensors" for k in range(n)]
        self.paths = [directory / f"{file}.part" for file in self.names]
        self.shard_of = {}
        self.files = []
        for k, (shard, path) in enumerate(zip(shards, self.paths)):
            header, offset = {"__metadata__": {"format": "pt"}}, 0
            for name, shape in shard:
                nbytes = 2 * int(np.prod(shape))
                header[name] = {"dtype": "BF16", "shape": list(shape), "data_offsets": [offset, offset + nbytes]}
                offset += nbytes
                self.shard_of[name] = k
            text = json.dumps(header, separators=(",", ":")).encode()
            text += b" " * (-len(text) % 8)  # data starts 8-byte aligned, as the reference writer pads
            f = open(path, "wb")
            f.write(len(text).to_bytes(8, "little"))
            f.write(text)
            self.files.append(f)
        self.total_size = sum(2 * int(np.prod(shape)) for _, shape in tensors)

    def add(self, name: str, bits: np.ndarray) -> None:
        bits.astype("<u2", copy=False).tofile(self.files[self.shard_of[name]])

    def finish(self, directory: Path) -> None:
        for f in self.files:
            f.close()
        for part, name in zip(self.paths, self.names):
            part.rename(directory / name)
        index = {
            "metadata": {"total_size": self.total_size},
            "weight_map": {name: self.names[k] for name, k in sorted(self.shard_of.items())},
        }
        (directory / "model.safetensors.index.json").write_text(json.dumps(index, indent=2) + "\n")


# ----------------------------------------------------------------------------- GGUF


def gguf_name(hf_name: str) -> str:
    """llama.cpp's name for a Llama tensor (gguf-py's tensor map, as convert_hf_to_gguf.py applies it)."""
    fixed = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
             "lm_head.weight": "output.weight"}
    if hf_name in fixed:
        return fixed[hf_name]
    _, _, layer, *module, suffix = hf_name.split(".")
    short = {
        "input_layernorm": "attn_norm", "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k",
        "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output", "post_attention_layernorm": "ffn_norm",
        "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down",
    }[".".join(module)]
    return f"blk.{layer}.{short}.{suffix}"


def llama_permute(weights: np.ndarray, n_head: int) -> np.ndarray:
    """convert_hf_to_gguf.py's LlamaModel.permute: HF's rotate-half rows of q_proj/k_proj -> the interleaved pairs
    of ggml's rope (n_head: the heads of that projection). WeightSource(gguf:config:) undoes it on load."""
    return (weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
            .swapaxes(1, 2)
            .reshape(weights.shape))


def tokenizer_fields(vocab_gguf: Path) -> list[tuple[str, object, gguf.GGUFValueType, gguf.GGUFValueType | None]]:
    """The tokenizer.* metadata of a GGUF file, ready for GGUFWriter.add_key_value."""
    reader = gguf.GGUFReader(str(vocab_gguf))
    fields = []
    for key, field in reader.fields.items():
        if not key.startswith("tokenizer."):
            continue
        vtype = gguf.GGUFValueType(field.types[0])
        sub_type = gguf.GGUFValueType(field.types[-1]) if vtype == gguf.GGUFValueType.ARRAY else None
        fields.append((key, field.contents(), vtype, sub_type))
    return fields


class GGUFOutput:
    """One GGUF file written as convert_hf_to_gguf.py lays it out, with tensor data streamed in."""

    def __init__(self, path: Path, cfg: dict, variant: tuple, tensors: list, tokenizer: list):
        file_type, self.matrix_type, self.embd_type, self.output_type = variant
        self.path, self.part = path, path.with_name(path.name + ".part")
        self.cfg = cfg
        w = gguf.GGUFWriter(str(self.part), "llama")
        w.add_type(gguf.GGUFType.MODEL)
        w.add_name("TinyLlama-shape random")
        add_llama_hparams(w, cfg, file_type)
        w.add_quantization_version(gguf.GGML_QUANT_VERSION)
        for key, value, vtype, sub_type in tokenizer:
            w.add_key_value(key, value, vtype, sub_type)
        for name, shape in tensors:
            qt = self.type_of(name, shape)
            block, type_size = gguf.GGML_QUANT_SIZES[qt]
            nbytes = int(np.prod(shape[:-1])) * shape[-1] // block * type_size
            w.add_tensor_info(gguf_name(name), shape, np.dtype(np.uint16), nbytes, raw_dtype=qt)
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_ti_data_to_file()
        self.writer = w

    def type_of(self, name: str, shape: tuple[int, ...]) -> QT:
        if len(shape) == 1:
            return QT.F32
        if self.matrix_type == QT.Q4_K and name.endswith(("self_attn.v_proj.weight", "mlp.down_proj.weight")):
            layer = int(name.split(".")[2])  # model.layers.{layer}.…
            return QT.Q6_K if use_more_bits(layer, self.cfg["num_hidden_layers"]) else QT.Q4_K
        return {"model.embed_tokens.weight": self.embd_type, "lm_head.weight": self.output_type}.get(
            name, self.matrix_type)

    def add(self, name: str, bits: np.ndarray, values: np.ndarray) -> None:
        """`bits`: the bf16 weights, `values`: the same as f32 (both in HF row order)."""
        if name.endswith("self_attn.q_proj.weight"):
            n_head = self.cfg["num_attention_heads"]
        elif name.endswith("self_attn.k_proj.weight"):
            n_head = self.cfg["num_key_value_heads"]
        else:
            n_head = None
        if n_head is not None:
            bits, values = llama_permute(bits, n_head), llama_permute(values, n_head)
        qt = self.type_of(name, bits.shape)
        if qt == QT.BF16:
            data = np.ascontiguousarray(bits)  # already bf16; gguf.quants would round the same way
        elif qt in (QT.F32, QT.F16):
            data = np.ascontiguousarray(values.astype(np.float32 if qt == QT.F32 else np.float16))
        elif qt in (QT.Q4_K, QT.Q6_K):
            data = (quantize_q4_k if qt == QT.Q4_K else quantize_q6_k)(np.ascontiguousarray(values))
        else:
            data = gguf.quants.quantize(np.ascontiguousarray(values), qt)
        self.writer.write_tensor_data(data)

    def finish(self) -> None:
        self.writer.close()
        self.part.rename(self.path)


# ----------------------------------------------------------------------------- the two models


def make_tinyllama(out: Path, tokenizer_dir: Path, vocab_gguf: Path, wanted: set[str]) -> None:
    cfg = TINYLLAMA_CONFIG
    tensors = hf_tensors(cfg)
    num_params = sum(int(np.prod(shape)) for _, shape in tensors)
    hf_dir = out / "hf-bf16"
    hf_dir.mkdir(parents=True, exist_ok=True)

    # Small files first: they cost nothing to rewrite, but keep existing ones untouched.
    small = {
        "config.json": json.dumps(cfg, indent=2) + "\n",
        "generation_config.json": json.dumps({"bos_token_id": 1, "eos_token_id": 2}, indent=2) + "\n",
    }
    for file, text in small.items():
        if not (hf_dir / file).exists():
            (hf_dir / file).write_text(text)
    for file in ("tokenizer.json", "tokenizer_config.json"):
        if not (hf_dir / file).exists():
            shutil.copyfile(tokenizer_dir / file, hf_dir / file)

    shards = None
    if "hf-bf16" in wanted and not (hf_dir / "model.safetensors.index.json").exists():
        shards = SafetensorsShards(hf_dir, tensors)
    ggufs = []
    tokenizer = tokenizer_fields(vocab_gguf)
    for file, variant in GGUF_VARIANTS.items():
        if file not in wanted:
            continue
        if (out / file).exists():
            log(f"tinyllama-shape/{file}: exists, skipped")
        else:
            ggufs.append(GGUFOutput(out / file, cfg, variant, tensors, tokenizer))
    if shards is None and "hf-bf16" in wanted:
        log("tinyllama-shape/hf-bf16: exists, skipped")
    if shards is None and not ggufs:
        return

    pending = (["hf-bf16"] if shards else []) + [g.path.name for g in ggufs]
    log(f"tinyllama-shape: {num_params / 1e9:.3f} B parameters, seed {SEED}, writing {', '.join(pending)}")
    start = time.monotonic()
    for k, (name, shape) in enumerate(tensors):
        bits = bf16_weights(name, shape)
        values = bf16_to_f32(bits)
        if shards:
            shards.add(name, bits)
        for g in ggufs:
            g.add(name, bits, values)
        if k % 45 == 0 or k == len(tensors) - 1:
            log(f"  {k + 1}/{len(tensors)} tensors, {time.monotonic() - start:.0f} s")
    if shards:
        shards.finish(hf_dir)
    for g in ggufs:
        g.finish()
    log(f"tinyllama-shape: written in {time.monotonic() - start:.0f} s")


def make_smollm2_bf16(out: Path, seesaw: Path, source: Path, tokenizer_dir: Path) -> None:
    if (out / "model.safetensors").exists() and (out / "tokenizer.json").exists():
        log(f"{out.name}: exists, skipped")
        return
    part = out.with_name(out.name + ".part")
    shutil.rmtree(part, ignore_errors=True)
    start = time.monotonic()
    subprocess.run([str(seesaw), "convert", "--model", str(source), "--output", str(part), "--dtype", "bf16"],
                   check=True)
    for file in sorted(tokenizer_dir.iterdir()):
        shutil.copyfile(file, part / file.name)
    shutil.rmtree(out, ignore_errors=True)
    part.rename(out)
    log(f"{out.name}: written in {time.monotonic() - start:.0f} s")


def report(out: Path) -> None:
    log("sizes:")
    for path in sorted(out.rglob("*")):
        if path.is_file() and not path.name.endswith(".part"):
            log(f"  {human(path.stat().st_size):>9}  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / ".cache/bench-models")
    ap.add_argument("--tokenizer", type=Path, default=ROOT / ".cache/tokenizers/mistral-v1",
                    help="tokenizer.json + tokenizer_config.json for the TinyLlama-shaped model (vocabulary 32000)")
    ap.add_argument("--tokenizer-gguf", type=Path, default=ROOT / ".cache/tokenizers/mistral-v1.gguf",
                    help="a GGUF whose tokenizer.* metadata the TinyLlama-shaped GGUFs copy")
    ap.add_argument("--seesaw", type=Path, help="the seesaw binary; with it, also write smollm2-bf16/")
    ap.add_argument("--smollm2", type=Path, default=ROOT / ".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf")
    ap.add_argument("--smollm2-tokenizer", type=Path, default=ROOT / ".cache/tokenizers/smollm2")
    ap.add_argument("--only", nargs="+", choices=OUTPUTS, default=OUTPUTS, metavar="NAME",
                    help=f"write just these outputs ({', '.join(OUTPUTS)}); default all")
    args = ap.parse_args()
    wanted = set(args.only)

    needed = [args.tokenizer / "tokenizer.json", args.tokenizer_gguf]
    if args.seesaw and "smollm2-bf16" in wanted:
        needed += [args.seesaw, args.smollm2, args.smollm2_tokenizer / "tokenizer.json"]
    missing = [str(p) for p in needed if not p.exists()]
    if missing:
        sys.exit(f"make_bench_models: missing {', '.join(missing)} (run `make setup` and build seesaw first)")

    if wanted - {"smollm2-bf16"}:
        make_tinyllama(args.out / "tinyllama-shape", args.tokenizer, args.tokenizer_gguf, wanted)
    if "smollm2-bf16" in wanted and args.seesaw:
        make_smollm2_bf16(args.out / "smollm2-bf16", args.seesaw, args.smollm2, args.smollm2_tokenizer)
    elif "smollm2-bf16" in wanted:
        log("smollm2-bf16: no --seesaw binary given, skipped")
    report(args.out)


if __name__ == "__main__":
    main()
