#!/usr/bin/env python3
"""Simulator fidelity on this machine (issue: performance model): `seesaw calibrate`, then real `bench throughput`
runs of SmolLM2 in several layouts, then `seesaw simulate` of the same requests on the calibrated device, and a
table of the errors (end-to-end time, mean prefill-step and decode-step times).

Rounds: each calibrates and then runs every layout once, and the table gives medians over the rounds (the host's
speed drifts by up to 2x over minutes; a comparison holds only within one round). A device is what one rank gets
(`calibrate --ranks N` gives each of N ranks cores / N kernel threads, as the engine does). With `--per-layout`,
each layout is calibrated right before its run, at the run's step sizes only (decode steps of all prompts, prefill
steps of the default budget of 2,048 tokens, both as micro-batches when the layout has pipeline stages), so that the
two sides are measured within a minute of each other. With `--bracket` as well, each layout is calibrated again
right after its run, and the simulated figures are the mean of the two calibrations' predictions: the host's speed
at the run is then bracketed rather than taken from the minute before it, as `bench` brackets its roofline. A
layout with a tensor-parallel phase is calibrated with `--tensor-parallel` too, so that its device carries the
lockstep contention of its shards.

    tools/simulator_fidelity.py [--rounds 3] [--layouts tp1,tp2,pp2,pp2:tp2] [--prompts 64 --input 128 --output 32]
                                [--per-layout [--bracket]]
"""
import argparse, json, os, statistics, subprocess, sys, tempfile

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
seesaw = os.path.join(root, ".build/release/seesaw")
model = os.path.join(root, ".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf")


def layout_args(layout):
    if ":" in layout:
        prefill, decode = layout.split(":")
        return ["--prefill-parallel", prefill, "--decode-parallel", decode]
    return ["--parallel", layout]


def degree(config, kind):
    """The degree of `kind` (dp, tp or pp) in a layout like tp2pp2; 1 when it is absent."""
    if kind not in config:
        return 1
    return int("".join(c for c in config.split(kind)[1][:2] if c.isdigit()) or 1)


def ranks(layout):
    config = layout.split(":")[0]
    return degree(config, "dp") * degree(config, "tp") * degree(config, "pp")


def stage_tokens(config, tokens):
    """Tokens of each micro-batch a stage of `config` computes in a step of `tokens` tokens, as
    `ParallelExecutor.microBatches` splits it: pp to 4 pp pieces of at least 512 tokens; the whole step without pp."""
    pp = degree(config, "pp")
    count = 1 if pp == 1 else min(tokens, max(pp, min(4 * pp, tokens // 512)))
    return tokens // count


def step_sizes(layout, prompts, input_len):
    """The forward-pass sizes of a layout's steps (decode of all prompts, prefill of the 2,048-token budget) as its
    stages run them, micro-batches for pipelines: calibrating at these keeps the simulator off the ends of its
    efficiency curve, where it would extrapolate."""
    prefill_config, decode_config = (layout.split(":") + [layout])[:2]
    decode, prefill = prompts, min(prompts * input_len, 2048)  # 2048: the engine's default token budget
    return sorted({stage_tokens(decode_config, decode), stage_tokens(prefill_config, prefill)})


KEYS = ("elapsed_time", "prefill_step_ms", "decode_step_ms")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--layouts", default="tp1,tp2,pp2,pp2:tp2")
    ap.add_argument("--prompts", type=int, default=64)
    ap.add_argument("--input", type=int, default=128)
    ap.add_argument("--output", type=int, default=32)
    ap.add_argument("--per-layout", action="store_true")
    ap.add_argument("--bracket", action="store_true")
    a = ap.parse_args()
    if a.bracket and not a.per_layout:
        ap.error("--bracket needs --per-layout")
    work = tempfile.mkdtemp(prefix="seesaw-fidelity-")
    out = os.path.join(work, "run.json")
    requests = ["--num-prompts", str(a.prompts)]
    layouts = a.layouts.split(",")
    # Each round calibrates, then runs every layout once right after, so that both sides of a comparison see the
    # machine in the same state; the table reports each figure's median over the rounds.
    table = {layout: {k: [] for k in KEYS} for layout in layouts}
    for r in range(a.rounds):
        def calibrate(n, path, layout=None):
            sizes = [str(t) for t in step_sizes(layout, a.prompts, a.input)] if layout else []
            steps = ["--step-tokens"] + sizes if a.per_layout else []
            contention = ["--contention-tokens"] + sizes if a.per_layout else []
            # A layout with a tensor-parallel phase also gets its shards' lockstep contention.
            tp = max([degree(c, "tp") for c in layout.split(":")] if layout else [1])
            lockstep = ["--tensor-parallel", str(tp)] if tp > 1 else []
            subprocess.run([seesaw, "calibrate", "--model", model, "--prompt-length", str(a.input), "--ranks", str(n),
                            "--output", path] + steps + contention + lockstep, check=True, capture_output=True)
        devices = {}
        if not a.per_layout:
            for n in sorted({ranks(layout) for layout in layouts}):
                devices[n] = os.path.join(work, f"cpu-{r}-{n}.json")
                calibrate(n, devices[n])
        for layout in layouts:
            device = devices.get(ranks(layout)) or os.path.join(work, f"cpu-{r}-{layout}.json")
            if a.per_layout:
                calibrate(ranks(layout), device, layout)
            subprocess.run([seesaw, "bench", "throughput", "--model", model, "--dataset", "random", "--input-len",
                            str(a.input), "--output-len", str(a.output), "--output-json", out] + requests
                           + layout_args(layout), check=True, capture_output=True)
            real = json.load(open(out))
            calibrations = [device]
            if a.bracket:
                calibrations.append(os.path.join(work, f"cpu-{r}-{layout}-after.json"))
                calibrate(ranks(layout), calibrations[-1], layout)
            sims = []
            for path in calibrations:
                subprocess.run([seesaw, "simulate", "--model", model, "--hardware", f"{ranks(layout)}x{path}",
                                "--workload", f"fixed:{a.input}:{a.output}", "--plan", layout, "--output-json", out]
                               + requests, check=True, capture_output=True)
                sims.append(json.load(open(out)))
            sim = {k: statistics.mean(s[k] for s in sims) for k in KEYS}
            for k in KEYS:
                table[layout][k].append((real[k], sim[k]))
            print(f"round {r + 1} {layout}: " + ", ".join(
                f"{k} {real[k]:.1f} vs {sim[k]:.1f} ({100 * (sim[k] / real[k] - 1):+.1f}%)" for k in KEYS), flush=True)
    print("| layout | rounds | measured s | simulated s | error | prefill step ms | simulated | error "
          "| decode step ms | simulated | error |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for layout in layouts:
        cells = []
        for k in KEYS:
            pairs = table[layout][k]
            real = statistics.median(p[0] for p in pairs)
            sim = statistics.median(p[1] for p in pairs)
            error = statistics.median(100 * (p[1] / p[0] - 1) for p in pairs)
            cells += [f"{real:.1f}", f"{sim:.1f}", f"{error:+.1f}%"]
        print(f"| {layout.replace(':', ' -> ')} | {a.rounds} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    sys.exit(main())
