#!/usr/bin/env python3
"""Prints a Google Benchmark JSON report as ratios against the run's baseline(s).

Each benchmark is compared with the baseline named in its label ("vs baseline_x"), else with the first
benchmark whose name starts with "baseline_". Benchmarks that process several packets per iteration
report items_processed; their time is divided by items per iteration, so the ratio is per packet.
Uses the median of the repetitions. A benchmark that skipped itself (SkipWithError, e.g. the RADIUS ones
without a server) is listed with its reason. --rate NOUN adds each one's items per second ("logins/s").
"""
import json
import sys


def main() -> int:
    args = sys.argv[1:]
    rate = None
    if args[:1] == ["--rate"]:
        rate, args = args[1], args[2:]
    program, path = args[0], args[1]
    with open(path) as f:
        report = json.load(f)
    rows = {}
    skipped = {}
    for b in report["benchmarks"]:
        name = b.get("run_name", b["name"])
        if b.get("error_occurred"):
            skipped[name] = b.get("error_message", "")
            continue
        if b.get("aggregate_name", "median") != "median":
            continue
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
        per_second = f"  {1e9 / t:12.1f} {rate}/s" if rate and t > 0 else ""
        if name in baselines:
            print(f"  {name:<44} {t:10.1f} ns{per_second}  (baseline)")
        else:
            print(f"  {name:<44} {t:10.1f} ns{per_second}  {ratio:6.3f} x {base}")
    for name, why in skipped.items():
        print(f"  {name:<44} skipped: {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
