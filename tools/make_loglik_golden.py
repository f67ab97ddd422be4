#!/usr/bin/env python3
"""Log-likelihood golden: transformers' float32 per-token log-likelihoods of a fixed English text.

Run it from the repository root:

    python tools/make_loglik_golden.py \
        --gguf .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf \
        --text Tests/Fixtures/loglik/declaration-of-independence.txt \
        --out Tests/Fixtures/loglik/smollm2-golden.json

Pinned versions (the same environment as tools/make_goldens.py, tools/requirements-goldens.txt;
Python 3.11, CPU only, no network needed once installed):

    torch==2.13.0+cpu (local wheel in /opt/wheels), transformers==5.24.0, gguf==0.19.0,
    safetensors==0.8.0, numpy==2.4.6, accelerate==1.15.0, tokenizers==0.23.3, huggingface_hub==2.4.0

What it measures (issue 5, "mean log-likelihood of a fixed text vs transformers' f32"): the reference
against which Seesaw's forward pass, and later its reduced-precision paths, report their drift.

  model      AutoModelForCausalLM.from_pretrained(dir, gguf_file=file, dtype=float32,
             attn_implementation="eager"): the GGUF's quantized weights are dequantized to float32 at
             load, so the reference runs the same weights as Seesaw, in float32 throughout.
  tokens     AutoTokenizer.from_pretrained(dir, gguf_file=file)(text)["input_ids"] with
             add_special_tokens=True; SmolLM2 adds no BOS (asserted), so the ids are the text's own.
             The first N ids (N = --num-tokens, 512 by default) are scored.
  logits     one forward over all N ids, no KV cache, logits kept in float32.
  scores     log_likelihoods[i] = log_softmax(logits[i])[ids[i + 1]] for i in 0..<N-1 (float64
             log-softmax of the float32 logits); mean_log_likelihood = their float64 mean;
             perplexity = exp(-mean).

Output JSON schema:
  {"model", "gguf_sha256", "text_file", "text_source", "text_sha256", "loader", "tokenizer",
   "add_special_tokens", "bos_token_id", "num_text_tokens", "num_tokens" (N), "num_scored" (N-1),
   "mean_log_likelihood", "perplexity", "min_log_likelihood", "scoring", "versions",
   "token_ids": [N ints], "log_likelihoods": [N-1 floats, rounded to 6 decimals]}
"""

from __future__ import annotations

import argparse
import importlib.metadata
import math
import os
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer
from transformers.utils import logging as hf_logging

from make_goldens import compact_json, sha256, versions  # tools/ is on sys.path when run as a script

TEXT_SOURCE = (
    "The opening of the United States Declaration of Independence (1776; public domain), "
    "after the National Archives transcription"
)


@torch.inference_mode()
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gguf", type=Path, required=True, help="SmolLM2-135M-Instruct.Q4_1.gguf")
    ap.add_argument("--text", type=Path, default=Path("Tests/Fixtures/loglik/declaration-of-independence.txt"))
    ap.add_argument("--out", type=Path, default=Path("Tests/Fixtures/loglik/smollm2-golden.json"))
    ap.add_argument("--num-tokens", type=int, default=512, help="score the first N tokens of the text")
    args = ap.parse_args()

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    torch.use_deterministic_algorithms(True)

    d, f = str(args.gguf.parent), args.gguf.name
    tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
    model = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    for n, p in model.named_parameters():
        assert p.dtype == torch.float32, (n, p.dtype)
    for n, m in model.named_modules():  # the dequantize-at-load path: plain float32 nn.Linear layers
        assert "Gguf" not in type(m).__name__, (n, type(m))

    text = args.text.read_text(encoding="utf-8")
    all_ids = tok(text, add_special_tokens=True)["input_ids"]
    assert all_ids == tok(text, add_special_tokens=False)["input_ids"], "tokenizer added special tokens"
    assert tok.bos_token_id is None or all_ids[0] != tok.bos_token_id
    n = args.num_tokens
    assert len(all_ids) >= n, f"the text has only {len(all_ids)} tokens, fewer than --num-tokens {n}"
    ids = all_ids[:n]

    logits = model(input_ids=torch.tensor([ids]), use_cache=False).logits[0]  # [N, vocab]
    assert logits.dtype == torch.float32
    logp = torch.log_softmax(logits.double(), dim=-1)  # float64 log-softmax of the float32 logits
    target = torch.tensor(ids[1:])
    ll = logp[:-1].gather(1, target[:, None])[:, 0].numpy()  # [N-1]
    mean = float(np.mean(ll, dtype=np.float64))

    result = {
        "model": f,
        "gguf_sha256": sha256(args.gguf),
        "text_file": args.text.name,
        "text_source": TEXT_SOURCE,
        "text_sha256": sha256(args.text),
        "loader": "AutoModelForCausalLM.from_pretrained(dir, gguf_file=file, dtype=float32, "
                  "attn_implementation='eager'); weights dequantized to float32 at load",
        "tokenizer": "AutoTokenizer.from_pretrained(dir, gguf_file=file)(text)['input_ids'], first num_tokens ids",
        "add_special_tokens": True,
        "bos_token_id": tok.bos_token_id,
        "num_text_tokens": len(all_ids),
        "num_tokens": n,
        "num_scored": n - 1,
        "mean_log_likelihood": mean,
        "perplexity": math.exp(-mean),
        "min_log_likelihood": round(float(ll.min()), 6),
        "scoring": "log_likelihoods[i] = log_softmax(float64(logits[i]))[token_ids[i+1]], one float32 forward "
                   "over all num_tokens ids without KV cache; mean in float64; perplexity = exp(-mean)",
        "versions": {**versions(), "tokenizers": importlib.metadata.version("tokenizers")},
        "token_ids": [int(i) for i in ids],
        "log_likelihoods": [round(float(x), 6) for x in ll],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    compact_json(args.out, result)
    print(f"{args.out}: {len(all_ids)} text tokens, scored {n - 1}; mean log-likelihood {mean:.6f}, "
          f"perplexity {math.exp(-mean):.4f}")


if __name__ == "__main__":
    main()
