#!/usr/bin/env python3
"""Prints a Google Benchmark JSON report as ratios against the run's baseline(s).

Each benchmark is compared with the baseline named in its label ("vs baseline_x"), else with the first
benchmark whose name starts with "baseline_". Benchmarks that process several packets per iteration
report items_processed; their time is divided by items per iteration, so the ratio is per packet.
Uses the median of the repetitions.
"""
import json
import sys


def main() -> int:
    program, path = sys.argv[1], sys.argv[2]
    with open(path) as f:
        report = json.load(f)
    rows = {}
    for b in report["benchmarks"]:
        if b.get("aggregate_name", "median") != "median":
            continue
        name = b.get("run_name", b["name"])
        per_iter = b["real_time"]
        items = b.get("items_per_second")
        if items:
            # ns per item = 1e9 / items_per_second
            per_item = 1e9 / items
        else:
            per_item = per_iter
        rows[name] = (per_item, b.get("label", ""))
    baselines = [n for n in rows if n.startswith("baseline_")]
    if not baselines:
        print(f"{program}: no baseline_ benchmark")
        return 1
    print(f"{program}")
    for name, (t, label) in rows.items():
        base = baselines[0]
        if label.startswith("vs "):
            base = label[3:].split()[0]
        if base not in rows:
            base = baselines[0]
        ratio = t / rows[base][0]
        if name in baselines:
            print(f"  {name:<44} {t:10.1f} ns  (baseline)")
        else:
            print(f"  {name:<44} {t:10.1f} ns  {ratio:6.3f} x {base}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
