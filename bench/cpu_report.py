#!/usr/bin/env python3
"""The tables of bench/cpu.sh, from its results file and its pages' sizes.

    cpu_report.py RESULTS PAGES

Each line of PAGES is a page (payload) and the bytes a verifier reads of it (a gzip page's
decoded size), tab-separated.

Each line of RESULTS is one measured run, tab-separated: round, target, payload, clients,
requests, seconds, CPU seconds of the target (utime + stime; nginx: its workers), p50 us,
p99 us, bytes read by wrk, errors (socket errors and non-2xx).

Every figure is a median over the rounds. A ratio is a ratio of medians; beside it the lowest
and highest ratio within one round, which shows how much one round alone would have said.
"""

import statistics
import sys

NGINX = "nginx-proxy"


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt_us(s):
    return "-" if s is None else f"{s * 1e6:,.0f} µs" if s < 1e-3 else f"{s * 1e3:,.2f} ms"


FORMATS = {"om": "OpenMetrics", "pb": "protobuf", "gz": "text, gzip"}


def page_label(payload, nbytes):
    """'60 KB' or '9.6 MB', and the format when the page is not text."""
    size = f"{nbytes / 1e3:.0f} KB" if nbytes < 1e6 else f"{nbytes / 1e6:.1f} MB"
    _, _, fmt = payload.partition("-")
    return f"{size} {FORMATS[fmt]}" if fmt else size


def main(path, pages):
    size = {}
    with open(pages) as f:
        for line in f:
            if line.strip():
                p, nbytes = line.split("\t")
                size[p] = int(nbytes)
    label = {p: page_label(p, n) for p, n in size.items()}
    runs = {}  # (target, payload, clients) -> {round: row}
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            r, t, p, c, req, secs, cpu, p50, p99, nbytes, errs = line.rstrip("\n").split("\t")
            row = {
                "req": int(req), "secs": float(secs), "cpu": float(cpu), "p50": float(p50) / 1e6,
                "p99": float(p99) / 1e6, "bytes": int(nbytes), "errs": int(errs),
            }
            row["cpu_per"] = row["cpu"] / row["req"] if row["req"] else None
            row["rps"] = row["req"] / row["secs"] if row["secs"] else None
            runs.setdefault((t, p, int(c)), {})[int(r)] = row
    targets = list(dict.fromkeys(k[0] for k in runs))
    payloads = [p for p in size if any(k[1] == p for k in runs)]

    def med(t, p, c, key):
        return median([row[key] for row in runs.get((t, p, c), {}).values()])

    def in_rounds(a, b, p, c, key):
        ra, rb = runs.get((a, p, c), {}), runs.get((b, p, c), {})
        xs = [ra[r][key] / rb[r][key] for r in ra if r in rb and ra[r][key] and rb[r][key]]
        return f"{min(xs):.2f}–{max(xs):.2f}×" if xs else "-"

    print("One client (CPU per scrape = the target's own utime + stime / scrapes served):")
    print()
    print("| target | page | CPU per scrape | vs nginx (in rounds) | p50 | p99 | scrapes/s | errors |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for p in payloads:
        base = med(NGINX, p, 1, "cpu_per")
        for t in targets:
            if (t, p, 1) not in runs:
                continue
            cpu = med(t, p, 1, "cpu_per")
            ratio = f"{cpu / base:.2f}× ({in_rounds(t, NGINX, p, 1, 'cpu_per')})" if cpu and base and t != NGINX else ""
            errs = sum(row["errs"] for row in runs[(t, p, 1)].values())
            print(f"| {t} | {label[p]} | {fmt_us(cpu)} | {ratio} | {fmt_us(med(t, p, 1, 'p50'))} "
                  f"| {fmt_us(med(t, p, 1, 'p99'))} | {med(t, p, 1, 'rps'):,.1f} | {errs} |")
    print()
    print("The verifier inside the server: page bytes (decoded) / (CPU per verified scrape − CPU per "
          "`verify: false` scrape), per round, median:")
    print()
    print("| build | page | verification CPU per scrape | rate |")
    print("|---|---|---:|---:|")
    for t in targets:
        if not t.endswith("-verified"):
            continue
        off = t[: -len("verified")] + "noverify"
        for p in payloads:
            a, b = runs.get((t, p, 1), {}), runs.get((off, p, 1), {})
            extra = [a[r]["cpu_per"] - b[r]["cpu_per"] for r in a if r in b and a[r]["cpu_per"] and b[r]["cpu_per"]]
            d = median(extra)
            rate = f"{size[p] / d / 1e9:.2f} GB/s" if d and d > 0 else "-"
            print(f"| {t[: -len('-verified')]} | {label[p]} | {fmt_us(d)} | {rate} |")
    levels = sorted({k[2] for k in runs if k[2] != 1})
    if levels:
        print()
        print("Rate with many clients (scrapes/s, median; `verify: false` against verified):")
        print()
        print("| clients | page | " + " | ".join(targets) + " | noverify / verified (in rounds) |")
        print("|---:|---|" + "---:|" * len(targets) + "---:|")
        for c in levels:
            for p in payloads:
                cells = [f"{med(t, p, c, 'rps'):,.1f}" if (t, p, c) in runs else "-" for t in targets]
                ratios = []
                for t in targets:
                    if t.endswith("-verified") and (t[:-8] + "noverify", p, c) in runs:
                        off = t[:-8] + "noverify"
                        a, b = med(off, p, c, "rps"), med(t, p, c, "rps")
                        ratios.append(f"{a / b:.2f}× ({in_rounds(off, t, p, c, 'rps')})")
                print(f"| {c} | {label[p]} | " + " | ".join(cells) + f" | {'; '.join(ratios)} |")


if __name__ == "__main__":
    main(*sys.argv[1:3])
