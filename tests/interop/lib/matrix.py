#!/usr/bin/env python3
"""Prints the interop matrix from the guest's result files: matrix.py RESULTS_DIR SCENARIO...

Each RESULTS_DIR/<scenario>/result holds key=value lines (peers, expect, up, auth, mppe, ping, tcp,
teardown, status, seconds, and first_try when the row ran twice). A failed row is followed by the
relevant log lines the guest collected; so is the first try of a row that passed only on its second
(RESULTS_DIR/<scenario>.first-try), marked "PASS (2nd try)". Exit status 0 when every row passed.
"""
import os
import sys

COLUMNS = [("scenario", None), ("peers", "peers"), ("up", "up"), ("auth", "auth"), ("MPPE mode", "mppe"),
           ("ping", "ping"), ("TCP", "tcp"), ("s", "seconds"), ("result", "status")]


def read_result(path):
    values = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                key, sep, value = line.rstrip("\n").partition("=")
                if sep and key not in values:
                    values[key] = value
                elif sep and key == "status":
                    values[key] = value  # a later status (timeout) wins
    except FileNotFoundError:
        pass
    return values


def main():
    results, scenarios = sys.argv[1], sys.argv[2:]
    rows, failed, flaky = [], [], []
    for name in scenarios:
        values = read_result(os.path.join(results, name, "result"))
        status = values.get("status", "FAIL no result (the scenario did not run to its end)")
        values["status"] = "PASS" if status == "PASS" else "FAIL"
        if status != "PASS":
            failed.append((name, status))
        elif "first_try" in values:
            values["status"] = "PASS (2nd try)"
            flaky.append((name, values["first_try"]))
        rows.append([name] + [values.get(key, "-") or "-" for _, key in COLUMNS[1:]])
    header = [title for title, _ in COLUMNS]
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths))
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
    print(f"{len(rows) - len(failed)} of {len(rows)} scenarios passed" +
          (f", {len(flaky)} of them on a second try" if flaky else ""))
    for name, status in failed:
        print(f"\n==== {name}: {status[5:] if status.startswith('FAIL ') else status}")
        print_logs(results, name)
    for name, status in flaky:
        print(f"\n~~~~ {name} passed on its second try; the first failed: "
              f"{status[5:] if status.startswith('FAIL ') else status}")
        print_logs(results, name + ".first-try")
    return 0 if not failed else 1


def print_logs(results, name):
    log = os.path.join(results, name, "scenario.log")
    try:
        with open(log, encoding="utf-8", errors="replace") as f:
            text = f.read().splitlines()
        start = next((i for i, l in enumerate(text) if l.startswith("---- ")), max(0, len(text) - 40))
        print("\n".join(text[start:][-80:]))
    except FileNotFoundError:
        print("(no scenario log)")
    print(f"(all logs: {os.path.join(results, name)})")


if __name__ == "__main__":
    sys.exit(main())
