#!/usr/bin/env bash
# The CPU throughput matrix of issue 5: `seesaw bench throughput` on the random dataset (128 prompt tokens, 128
# output tokens) with 1, 16 and 64 sequences, for SmolLM2 (Q4_1 GGUF, BF16 HF directory) and the TinyLlama-shaped
# benchmark model (BF16, Q8_0, Q4_0, and Q4_K_M, the K-quant mix most GGUF downloads use). Needs `make
# bench-models`. Results: one JSON per run in $OUT (default .cache/bench-results) and a table on stdout. Extra
# arguments go to every run (e.g. --precision int8).
# On a shared host one run can land in a busy stretch: REPEAT=N runs each configuration N times and keeps
# the fastest run (its JSON, its line; the last column gives the spread of tok/s). MODELS="smollm2-q4_1 ..." picks
# models by name, SEQS="1 16" the sequence counts.
set -euo pipefail
cd "$(dirname "$0")/.."
SEESAW=${SEESAW:-.build/release/seesaw}
OUT=${OUT:-.cache/bench-results}
SEQS=${SEQS:-"1 16 64"}
REPEAT=${REPEAT:-1}
mkdir -p "$OUT"
models=(
  "smollm2-q4_1=.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf"
  "smollm2-bf16=.cache/bench-models/smollm2-bf16"
  "tinyllama-bf16=.cache/bench-models/tinyllama-shape/hf-bf16"
  "tinyllama-q8_0=.cache/bench-models/tinyllama-shape/q8_0.gguf"
  "tinyllama-q4_0=.cache/bench-models/tinyllama-shape/q4_0.gguf"
  "tinyllama-q4_k_m=.cache/bench-models/tinyllama-shape/q4_k_m.gguf"
)
printf "%-16s %4s %9s %9s %9s %12s %12s %8s %s\n" model seqs "tok/s" "prefill" "decode" "prefill%pk" "decode%bw" \
  "outside" "runs (tok/s)"
for entry in "${models[@]}"; do
  name=${entry%%=*} path=${entry#*=}
  if [ -n "${MODELS:-}" ] && [[ " $MODELS " != *" $name "* ]]; then continue; fi
  [ -e "$path" ] || { echo "skip $name: $path missing (make bench-models)" >&2; continue; }
  for n in $SEQS; do
    runs=()
    for r in $(seq "$REPEAT"); do
      run="$OUT/$name-$n.run$r"
      "$SEESAW" bench throughput --model "$path" --dataset random --input-len 128 --output-len 128 \
        --num-prompts "$n" --max-num-seqs 64 --output-json "$run.json" "$@" > "$run.txt" 2>&1
      runs+=("$run")
    done
    python3 - "$OUT/$name-$n" "$name" "$n" "${runs[@]}" <<'PY'
import json, shutil, sys
out, name, seqs, runs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
results = [(json.load(open(run + ".json")), run) for run in runs]
rates = sorted(r["tokens_per_second"] for r, _ in results)
r, best = max(results, key=lambda pair: pair[0]["tokens_per_second"])
shutil.copy(best + ".json", out + ".json")
shutil.copy(best + ".txt", out + ".txt")
print("%-16s %4s %9.1f %9.1f %9.1f %11.0f%% %11.0f%% %7.2f%% %s" % (
    name, seqs, r["tokens_per_second"], r["prefill_tokens_per_second"], r["decode_tokens_per_second"],
    100 * r["prefill_share_of_compute_peak"], 100 * r["decode_share_of_read_bandwidth"],
    100 * r["time_outside_model_share"], " ".join("%.1f" % x for x in rates)))
PY
  done
done
