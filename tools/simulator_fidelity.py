#!/usr/bin/env python3
"""Simulator fidelity on this machine (issue: performance model): `seesaw calibrate`, then real `bench throughput`
runs of SmolLM2 in several layouts, then `seesaw simulate` of the same requests on the calibrated device, and a
table of the errors (end-to-end time, mean prefill-step and decode-step times).

On a shared host both sides keep their fastest try: calibrate with --repeats, each layout's bench run --runs times.

    tools/simulator_fidelity.py [--runs 3] [--layouts tp1,tp2,pp2,pp2:tp2] [--prompts 64 --input 128 --output 32]
"""
import argparse, json, os, subprocess, sys, tempfile

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
seesaw = os.path.join(root, ".build/release/seesaw")
model = os.path.join(root, ".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf")


def layout_args(layout):
    if ":" in layout:
        prefill, decode = layout.split(":")
        return ["--prefill-parallel", prefill, "--decode-parallel", decode]
    return ["--parallel", layout]


def ranks(layout):
    config = layout.split(":")[0]
    n = 1
    for kind in ("dp", "tp", "pp"):
        if kind in config:
            digits = config.split(kind)[1]
            n *= int("".join(c for c in digits[:2] if c.isdigit()) or 1)
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--layouts", default="tp1,tp2,pp2,pp2:tp2")
    ap.add_argument("--prompts", type=int, default=64)
    ap.add_argument("--input", type=int, default=128)
    ap.add_argument("--output", type=int, default=32)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="seesaw-fidelity-")
    device = os.path.join(work, "cpu.json")
    subprocess.run([seesaw, "calibrate", "--model", model, "--repeats", str(a.runs), "--prompt-length", str(a.input),
                    "--output", device], check=True)
    requests = ["--num-prompts", str(a.prompts)]
    print("| layout | runs | measured s | simulated s | error | prefill step ms | simulated | error "
          "| decode step ms | simulated | error |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for layout in a.layouts.split(","):
        out = os.path.join(work, "run.json")
        runs = []
        for _ in range(a.runs):
            subprocess.run([seesaw, "bench", "throughput", "--model", model, "--dataset", "random", "--input-len",
                            str(a.input), "--output-len", str(a.output), "--output-json", out] + requests
                           + layout_args(layout), check=True, capture_output=True)
            runs.append(json.load(open(out)))
        best = min(runs, key=lambda r: r["elapsed_time"])
        subprocess.run([seesaw, "simulate", "--model", model, "--hardware", f"{ranks(layout)}x{device}", "--workload",
                        f"fixed:{a.input}:{a.output}", "--plan", layout, "--output-json", out] + requests,
                       check=True, capture_output=True)
        sim = json.load(open(out))
        keys = ("elapsed_time", "prefill_step_ms", "decode_step_ms")
        cells = []
        for k in keys:
            cells += [f"{best[k]:.1f}" if k == "elapsed_time" else f"{best[k]:.0f}" if k == "prefill_step_ms"
                      else f"{best[k]:.1f}", f"{sim[k]:.1f}", f"{100 * (sim[k] / best[k] - 1):+.1f}%"]
        print(f"| {layout.replace(':', ' -> ')} | {len(runs)} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
