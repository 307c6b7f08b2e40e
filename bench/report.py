#!/usr/bin/env python3
"""The tables of bench/compare.sh, from its results file.

Each line of the results file is one measured run, tab-separated:
round, target, payload, req/s, p50 us, p99 us, peak RSS kB, non2xx/errors ("-" where wrk gave
no result). Every figure in the tables is the median over the rounds, except the range of
req/s (slowest and fastest round) and the RSS (the highest peak of any round).
"""

import statistics
import sys


def number(v):
    return None if v == "-" else float(v)


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(v, scale=1.0, digits=2):
    return "-" if v is None else f"{v / scale:.{digits}f}"


def ratio(a, b):
    return f"{a / b:.2f}x" if a is not None and b else "-"


def main(path):
    runs = {}  # (target, payload) -> [(round, rps, p50, p99, rss, "non2xx/err")]
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            r, target, payload, rps, p50, p99, rss, err = line.rstrip("\n").split("\t")
            runs.setdefault((target, payload), []).append(
                (int(r), number(rps), number(p50), number(p99), number(rss), err)
            )

    def col(key, i):
        return [run[i] for run in runs.get(key, [])]

    def peak(key):
        rss = [x for x in col(key, 4) if x]
        return max(rss) if rss else None

    print("medians over the rounds; req/s range: slowest and fastest round; RSS: highest peak of any round")
    head = f"{'target':<18} {'payload':<7} {'req/s':>9} {'req/s range':>19} {'p50 ms':>8} {'p99 ms':>8} {'RSS MiB':>8} {'non2xx/err':>10}"
    print(head)
    print(f"{'------':<18} {'-------':<7} {'-----':>9} {'-----------':>19} {'------':>8} {'------':>8} {'-------':>8} {'----------':>10}")
    for key in runs:
        rps = [x for x in col(key, 1) if x is not None]
        spread = f"{min(rps):.1f}-{max(rps):.1f}" if rps else "-"
        errs = [e.split("/") for e in col(key, 5) if "/" in e]
        err = f"{sum(int(a) for a, _ in errs)}/{sum(int(b) for _, b in errs)}" if errs else "-"
        print(
            f"{key[0]:<18} {key[1]:<7} {fmt(median(rps), digits=1):>9} {spread:>19} "
            f"{fmt(median(col(key, 2)), 1000):>8} {fmt(median(col(key, 3)), 1000):>8} "
            f"{fmt(peak(key), 1024, 1):>8} {err:>10}"
        )

    print()
    print("ratios, ours / other, of the medians; 'in rounds': the same ratio within each round, lowest-highest")
    print("(req/s above 1 is better for ours; p99 and RSS below 1 are)")
    print(f"{'payload':<7} {'mode':<9} {'vs':<12} {'req/s':>7} {'in rounds':>13} {'p99':>7} {'RSS':>7}")
    print(f"{'-------':<7} {'----':<9} {'--':<12} {'-----':>7} {'---------':>13} {'---':>7} {'---':>7}")
    for payload in ("small", "big", "exec"):
        for mode in ("verified", "noverify"):
            ours = ("ours-" + mode, payload)
            if ours not in runs:
                continue
            for other, name in ((("original-" + mode, payload), "original"), (("nginx-proxy", payload), "nginx-proxy")):
                if other not in runs:
                    continue
                theirs = {r: rps for r, rps, *_ in runs[other] if rps}
                per_round = [rps / theirs[r] for r, rps, *_ in runs[ours] if rps and r in theirs]
                spread = f"{min(per_round):.2f}-{max(per_round):.2f}x" if per_round else "-"
                print(
                    f"{payload:<7} {mode:<9} {name:<12} {ratio(median(col(ours, 1)), median(col(other, 1))):>7} "
                    f"{spread:>13} {ratio(median(col(ours, 3)), median(col(other, 3))):>7} "
                    f"{ratio(peak(ours), peak(other)):>7}"
                )


if __name__ == "__main__":
    main(sys.argv[1])
