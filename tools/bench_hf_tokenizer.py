#!/usr/bin/env python3
"""Throughput of Hugging Face `tokenizers` (the Rust library) on the ShareGPT corpus: the figure to compare with.

    .cache/venv-tokenizers/bin/python tools/bench_hf_tokenizer.py [--repeat 3] [--families smollm2,llama3]

For each family in .cache/tokenizers, encodes every text of .cache/data/sharegpt-corpus.jsonl with
add_special_tokens=False, on one thread (RAYON_NUM_THREADS=1, TOKENIZERS_PARALLELISM=false, set before the
library loads):
  - encode:       Tokenizer.encode(text), one text at a time
  - encode_batch: Tokenizer.encode_batch(all texts), one call (still one thread: no per-call overhead, no parallelism)
and reports MB/s of UTF-8 input (10^6 bytes per second), best of --repeat runs, plus tokens per second.
The BPE model keeps a cache of words it has encoded (on by default), so repeated runs see a warm cache; the
"cold" column is encode one text at a time on a freshly loaded Tokenizer (best of --repeat fresh loads).
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["RAYON_RS_NUM_CPUS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

from tokenizers import Tokenizer  # noqa: E402  (after the thread settings)
import tokenizers  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / ".cache" / "data" / "sharegpt-corpus.jsonl"
TOKENIZERS = ROOT / ".cache" / "tokenizers"
FAMILIES = ("smollm2", "mistral-v1", "llama3")


def best_of(repeat: int, fn) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3, help="runs per figure; the best is reported")
    ap.add_argument("--families", default=",".join(FAMILIES))
    ap.add_argument("--json", action="store_true", help="print the results as JSON too")
    args = ap.parse_args()

    if not CORPUS.is_file():
        raise SystemExit(f"bench_hf_tokenizer: {CORPUS} is missing; run scripts/setup-tokenizers.sh")
    texts = [json.loads(line)["text"] for line in CORPUS.open(encoding="utf-8")]
    nbytes = sum(len(t.encode("utf-8")) for t in texts)
    print(f"tokenizers {tokenizers.__version__}, Python {sys.version.split()[0]}, one thread "
          f"(RAYON_NUM_THREADS=1); corpus: {len(texts)} texts, {nbytes:,} UTF-8 bytes; best of {args.repeat}")

    rows = []
    for family in args.families.split(","):
        path = str(TOKENIZERS / family / "tokenizer.json")

        def cold():
            fresh = Tokenizer.from_file(path)
            fresh.encode("x", add_special_tokens=False)
            t0 = time.perf_counter()
            n = sum(len(fresh.encode(t, add_special_tokens=False).ids) for t in texts)
            return time.perf_counter() - t0, n

        t_cold = min(cold()[0] for _ in range(args.repeat))
        tok = Tokenizer.from_file(path)
        tok.encode("warm up", add_special_tokens=False)

        def one_by_one():
            return sum(len(tok.encode(t, add_special_tokens=False).ids) for t in texts)

        def batch():
            return sum(len(e.ids) for e in tok.encode_batch(texts, add_special_tokens=False))

        t_one, n_one = best_of(args.repeat, one_by_one)
        t_batch, n_batch = best_of(args.repeat, batch)
        assert n_one == n_batch, "encode and encode_batch disagree"
        rows.append({
            "family": family, "tokens": n_one, "cold_s": t_cold, "cold_mb_s": nbytes / t_cold / 1e6,
            "encode_s": t_one, "encode_mb_s": nbytes / t_one / 1e6, "encode_tok_s": n_one / t_one,
            "batch_s": t_batch, "batch_mb_s": nbytes / t_batch / 1e6, "batch_tok_s": n_batch / t_batch,
        })

    print()
    print(f"{'family':<12} {'tokens':>9} | {'cold MB/s':>9} | {'encode MB/s':>11} {'Mtok/s':>7} {'s':>7} | "
          f"{'encode_batch MB/s':>17} {'Mtok/s':>7} {'s':>7}")
    print("-" * 100)
    for r in rows:
        print(f"{r['family']:<12} {r['tokens']:>9,} | {r['cold_mb_s']:>9.2f} | "
              f"{r['encode_mb_s']:>11.2f} {r['encode_tok_s'] / 1e6:>7.3f} "
              f"{r['encode_s']:>7.3f} | {r['batch_mb_s']:>17.2f} {r['batch_tok_s'] / 1e6:>7.3f} {r['batch_s']:>7.3f}")
    if args.json:
        print(json.dumps({"bytes": nbytes, "texts": len(texts), "tokenizers": tokenizers.__version__,
                          "repeat": args.repeat, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
