#!/usr/bin/env python3
"""Self cost per function of two callgrind dumps, largest differences first:
    bench/callgrind_diff.py BEFORE AFTER [SCRAPES] [LINES]
BEFORE and AFTER are dumps kept by `BENCH_KEEP_TMP=1 bench/callgrind_scrape.sh` (one per kind,
callgrind.out.N in the order of BENCH_KINDS); SCRAPES divides every figure (the scrapes the dump
counted). callgrind_annotate 3.19 gives such a dump's whole cost to `clone` even with
--inclusive=no, so this reads the files itself: a cost line counts for the function it is in,
except the line after `calls=`, which is the callee's inclusive cost."""

import sys
from collections import Counter


def self_costs(path):
    costs, fn, after_call = Counter(), None, False
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("fn="):
                fn = line[3:].strip()
            elif line.startswith("calls="):
                after_call = True
            elif line[:1].isdigit() or line[:1] in "+-*":
                if after_call:
                    after_call = False
                    continue
                fields = line.split()
                if len(fields) >= 2:
                    costs[fn] += int(fields[1])
    return costs


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    before, after = self_costs(sys.argv[1]), self_costs(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    lines = int(sys.argv[4]) if len(sys.argv) > 4 else 20
    print(f"total {sum(before.values()) // n:,} -> {sum(after.values()) // n:,}")
    print(f"{'change':>12} {'before':>14} {'after':>14}  function")
    for fn in sorted(set(before) | set(after), key=lambda f: -abs(after[f] - before[f]))[:lines]:
        print(f"{(after[fn] - before[fn]) // n:+12,d} {before[fn] // n:14,d} {after[fn] // n:14,d}  {fn}")


if __name__ == "__main__":
    main()
