#!/usr/bin/env bash
# The CPU throughput matrix of issue 5: `seesaw bench throughput` on the random dataset (128 prompt tokens, 128
# output tokens) with 1, 16 and 64 sequences, for SmolLM2 (Q4_1 GGUF, BF16 HF directory) and the TinyLlama-shaped
# benchmark model (BF16, Q8_0, Q4_0). Needs `make bench-models`. Results: one JSON per run in $OUT (default
# .cache/bench-results) and a table on stdout. Extra arguments go to every run (e.g. --precision int8).
set -euo pipefail
cd "$(dirname "$0")/.."
SEESAW=${SEESAW:-.build/release/seesaw}
OUT=${OUT:-.cache/bench-results}
SEQS=${SEQS:-"1 16 64"}
mkdir -p "$OUT"
models=(
  "smollm2-q4_1=.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf"
  "smollm2-bf16=.cache/bench-models/smollm2-bf16"
  "tinyllama-bf16=.cache/bench-models/tinyllama-shape/hf-bf16"
  "tinyllama-q8_0=.cache/bench-models/tinyllama-shape/q8_0.gguf"
  "tinyllama-q4_0=.cache/bench-models/tinyllama-shape/q4_0.gguf"
)
printf "%-16s %4s %9s %9s %9s %12s %12s %8s\n" model seqs "tok/s" "prefill" "decode" "prefill%pk" "decode%bw" "outside"
for entry in "${models[@]}"; do
  name=${entry%%=*} path=${entry#*=}
  [ -e "$path" ] || { echo "skip $name: $path missing (make bench-models)" >&2; continue; }
  for n in $SEQS; do
    json="$OUT/$name-$n.json"
    "$SEESAW" bench throughput --model "$path" --dataset random --input-len 128 --output-len 128 \
      --num-prompts "$n" --max-num-seqs 64 --output-json "$json" "$@" > "$OUT/$name-$n.txt" 2>&1
    python3 - "$json" "$name" "$n" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("%-16s %4s %9.1f %9.1f %9.1f %11.0f%% %11.0f%% %7.2f%%" % (
    sys.argv[2], sys.argv[3], r["tokens_per_second"], r["prefill_tokens_per_second"],
    r["decode_tokens_per_second"], 100 * r["prefill_share_of_compute_peak"],
    100 * r["decode_share_of_read_bandwidth"], 100 * r["time_outside_model_share"]))
PY
  done
done
