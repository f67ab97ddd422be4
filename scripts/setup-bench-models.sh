#!/usr/bin/env bash
# Writes the benchmark models under .cache/bench-models/ (git-ignored, about 10 GB; see tools/make_bench_models.py):
#   tinyllama-shape/hf-bf16/                 random TinyLlama-1.1B-shaped model, BF16 safetensors + tokenizer
#   tinyllama-shape/{f16,bf16,q8_0,q4_0,q4_k_m}.gguf  the same weights as llama.cpp-style GGUF files
#   smollm2-bf16/                            SmolLM2-135M-Instruct as a BF16 Hugging Face directory (seesaw convert)
# Needs what `make setup` fetches (the SmolLM2 GGUF, .cache/tokenizers) and a built seesaw ($SEESAW, default
# .build/release/seesaw). Not part of `make setup` or CI: it takes tens of minutes and gigabytes.
# Idempotent: a venv whose requirements have not changed is kept, and every model file that exists is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.cache/venv-bench
REQ=tools/requirements-bench-models.txt
SEESAW=${SEESAW:-.build/release/seesaw}

if [ ! -x "$SEESAW" ]; then
  echo "setup-bench-models: $SEESAW is missing; build it first (swift build -c release)" >&2
  exit 1
fi

scripts/ensure-venv.sh "$VENV" "$REQ"
"$VENV/bin/python" tools/make_bench_models.py --seesaw "$SEESAW" "$@"
echo "setup-bench-models: ok"
