#!/usr/bin/env python3
"""The paper's evaluation set-ups through `seesaw plan` and `seesaw simulate`: per set-up the best static layout
(chunked prefill over the planner's budget sweep), the paper's Seesaw plan, the planner's best plan, and their
predicted throughput ratios, as a Markdown table (next to the paper's figures, which the cost model never sees).

    tools/paper_setups.py [--sharegpt-prompts 2000] [--arxiv-prompts 500]
"""
import argparse, json, os, subprocess, tempfile

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
seesaw = os.path.join(root, ".build/release/seesaw")

# (hardware, model, workload, the paper's vLLM layout, the paper's Seesaw plan)
SETUPS = [
    ("4xA10", "llama3-15b", "arxiv", "dp2tp2", "pp4:tp4"),
    ("8xA10", "codellama-34b", "arxiv", "dp2tp2pp2", "dp2pp4:dp2tp4"),
    ("8xA10", "llama2-70b", "arxiv", "tp2pp4", "pp8:tp4pp2"),
    ("4xA10", "llama3-15b", "sharegpt", "dp2pp2", "pp4:tp4"),
    ("8xA10", "codellama-34b", "sharegpt", "dp2tp2pp2", "dp2pp4:dp2tp4"),
    ("8xA10", "llama2-70b", "sharegpt", "tp4pp2", "pp8:tp4pp2"),
    ("4xL4", "llama3-15b", "arxiv", "tp2pp2", "pp4:tp4"),
    ("8xL4", "codellama-34b", "arxiv", "dp2tp4", "dp2pp4:dp2tp4"),
    ("8xL4", "llama2-70b", "arxiv", "tp4pp2", "pp8:tp4pp2"),
    ("4xL4", "llama3-15b", "sharegpt", "pp4", "pp4:tp4"),
    ("8xL4", "codellama-34b", "sharegpt", "dp2tp4", "pp8:tp4pp2"),
    ("8xL4", "llama2-70b", "sharegpt", "tp4pp2", "pp8:tp4pp2"),
    ("8xA100-40G-PCIe", "llama2-70b", "arxiv", None, "pp8:tp4pp2"),
    ("8xA100-40G-NVLink", "llama2-70b", "arxiv", None, "pp8:tp4pp2"),
    ("8xA100-40G-PCIe", "llama2-70b", "sharegpt", None, "pp8:tp4pp2"),
    ("8xA100-40G-NVLink", "llama2-70b", "sharegpt", None, "pp8:tp4pp2"),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sharegpt-prompts", type=int, default=2000)
    ap.add_argument("--arxiv-prompts", type=int, default=500)
    a = ap.parse_args()
    out = os.path.join(tempfile.mkdtemp(prefix="seesaw-paper-"), "plan.json")
    print("| GPUs | model | workload | best static (budget) | tok/s | paper's vLLM layout | tok/s | paper's Seesaw plan "
          "| tok/s | vs best static | planner's plan | tok/s | vs best static |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for hardware, model, workload, vllm, paper in SETUPS:
        prompts = a.arxiv_prompts if workload == "arxiv" else a.sharegpt_prompts
        subprocess.run([seesaw, "plan", "--model", model, "--hardware", hardware, "--workload", workload,
                        "--num-prompts", str(prompts), "--output-json", out], check=True, capture_output=True,
                       cwd=root)
        cands = json.load(open(out))["candidates"]
        static = [c for c in cands if c["static"]]
        best_static, best = static[0], cands[0]
        by_plan = {}
        for c in cands:
            by_plan.setdefault(c["plan"].replace(" -> ", ":"), c)
        mine = by_plan.get(paper)
        theirs = by_plan.get(vllm) if vllm else None
        def cell(c):
            return f"{c['tokens_per_second']:.0f}" if c else "does not fit"
        ratio = lambda c: f"{c['tokens_per_second'] / best_static['tokens_per_second']:.2f}x" if c else "-"
        print(f"| {hardware} | {model} | {workload} | {best_static['plan']} ({best_static['token_budget']}) "
              f"| {best_static['tokens_per_second']:.0f} | {vllm or '-'} | {cell(theirs) if vllm else '-'} | {paper.replace(':', ' -> ')} "
              f"| {cell(mine)} | {ratio(mine)} | {best['plan']} | {best['tokens_per_second']:.0f} | {ratio(best)} |",
              flush=True)


if __name__ == "__main__":
    main()
