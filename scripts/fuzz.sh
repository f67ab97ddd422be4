#!/usr/bin/env bash
# Builds the libFuzzer harnesses of Fuzz/ (a package of their own) and runs each in turn on its seed corpus.
#
#   scripts/fuzz.sh [LIMIT] [TARGET...]
#
# LIMIT: N (inputs per target, -runs=N; default 20000) or Ns (seconds per target, -max_total_time=N).
# TARGET: FuzzGGUF, FuzzSafetensors, FuzzTokenizerJSON, FuzzChatTemplate (the "Fuzz" may be left off); default all,
# that is every directory Fuzz/Sources/Fuzz*/ but FuzzSupport.
#
# The build uses its own scratch path (.build-fuzz) with checked optimisation (-O, not the release -Ounchecked, so
# overflow and bounds traps fire) and -sanitize=fuzzer,address. Inputs that found new coverage go to
# .build-fuzz/corpus/<target>/ (Fuzz/corpus/ holds only the committed seeds); a crash, leak or timeout stops the
# run and leaves its input in .build-fuzz/artifacts/. Extra libFuzzer flags may be given in FUZZ_FLAGS.
# FUZZ_JOBS=N (inputs only, not seconds) runs N processes of LIMIT/N inputs each on the shared corpus, one per core;
# their logs go to .build-fuzz/logs/<target>/fuzz-<job>.log.
#
# Long run (10^6 inputs per target): scripts/fuzz.sh 1000000, or FUZZ_JOBS=2 scripts/fuzz.sh 1000000
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

limit=${1:-20000}
[ $# -gt 0 ] && shift
jobs=${FUZZ_JOBS:-1}
case "$limit" in
  *s) budget="-max_total_time=${limit%s}"; [ "$jobs" -eq 1 ] || { echo "fuzz: FUZZ_JOBS needs an input count" >&2; exit 1; } ;;
  *) budget="-runs=$((limit / jobs))" ;;
esac
parallel=()
[ "$jobs" -eq 1 ] || parallel=("-jobs=$jobs" "-workers=$jobs")

targets=()
if [ $# -gt 0 ]; then
  for t in "$@"; do targets+=("Fuzz${t#Fuzz}"); done
else
  for d in Fuzz/Sources/Fuzz*/; do
    t=$(basename "$d")
    [ "$t" = FuzzSupport ] || targets+=("$t")
  done
fi

scratch=.build-fuzz
start=$(date +%s)
# Debug configuration keeps the root package's release-only flags (-Ounchecked, -target-cpu native) out; -O
# restores optimisation. ld.gold's "Cannot export local symbol" warnings about ASan's own symbols are harmless.
set +e
swift build --package-path Fuzz --scratch-path "$scratch" -c debug -Xswiftc -O -Xswiftc -sanitize=fuzzer,address \
  2>&1 | grep -v "Cannot export local symbol"
status=${PIPESTATUS[0]}
set -e
[ "$status" -eq 0 ] || { echo "fuzz: build failed (status $status)" >&2; exit 1; }
bin=$(swift build --package-path Fuzz --scratch-path "$scratch" -c debug --show-bin-path)
echo "fuzz: built in $(($(date +%s) - start)) s"

# libFuzzer's leak checks would flag Foundation's caches; allocation limits catch huge lengths read from a header.
# Swift's own crash backtracer would hold a crashing input for minutes; libFuzzer's handler reports it at once.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
export SWIFT_BACKTRACE=${SWIFT_BACKTRACE:-enable=no}
for t in "${targets[@]}"; do
  [ -x "$bin/$t" ] || { echo "fuzz: no harness $t (Fuzz/Sources/$t/main.swift)" >&2; exit 1; }
  mkdir -p "$scratch/corpus/$t" "$scratch/artifacts" "Fuzz/corpus/$t"
  dict=()
  [ -f "Fuzz/dict/$t.dict" ] && dict=("-dict=Fuzz/dict/$t.dict")
  echo "fuzz: $t ($budget${parallel:+ in each of $jobs jobs})"
  t0=$(date +%s)
  # libFuzzer writes each job's log to fuzz-<job>.log in the working directory.
  logs="$root/$scratch/logs/$t"
  mkdir -p "$logs"
  # The timeout is generous: a wall-clock alarm, it also fires when a busy or paused machine stalls the process.
  set +e
  # shellcheck disable=SC2086
  (cd "$logs" && "$bin/$t" "$root/$scratch/corpus/$t" "$root/Fuzz/corpus/$t" "$budget" "${parallel[@]}" \
    "${dict[@]/-dict=/-dict=$root/}" -max_len=65536 -timeout=120 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
    -print_final_stats=1 -artifact_prefix="$root/$scratch/artifacts/$t-" ${FUZZ_FLAGS:-}) \
    2>&1 | grep -E "^#[0-9]+[[:space:]]+(INITED|DONE)|^stat::(number_of_executed_units|average_exec_per_sec|peak_rss)|ERROR|WARNING|SUMMARY|Test unit written|==[0-9]+==|^ +#[0-9]+ 0x"
  status=${PIPESTATUS[0]}
  if [ "$jobs" -gt 1 ]; then
    grep -hE "^stat::number_of_executed_units|^Done [0-9]+ runs|ERROR|SUMMARY" "$logs"/fuzz-*.log
  fi
  set -e
  [ "$status" -eq 0 ] || { echo "fuzz: $t failed (status $status); see $scratch/artifacts/" >&2; exit 1; }
  echo "fuzz: $t done in $(($(date +%s) - t0)) s"
done
echo "fuzz: all targets passed in $(($(date +%s) - start)) s"
