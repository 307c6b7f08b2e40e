#!/usr/bin/env python3
"""Generate Prometheus payloads for the benchmarks (bench/compare.sh, cpu.sh, load.sh).

    gen_payload.py big    OUT  # 10,000 families x 10 series each, about 9.6 MB, text 0.0.4
    gen_payload.py big-om OUT  # the same families as OpenMetrics 1.0.0
    gen_payload.py big-pb OUT  # the same families as delimited protobuf
    gen_payload.py openmetrics-of TEXT OUT  # a text page (no timestamps) as OpenMetrics
    gen_payload.py small OUT   # a node_exporter-like page, about 57 KB (fallback
                               # when no real node_exporter can be scraped)

Output is deterministic (fixed seed), valid for Go's expfmt text parser and for
Prometheus: every family has HELP and TYPE lines, label values are escaped,
histograms carry ascending `le` buckets ending in +Inf plus _sum and _count.
"""

import random
import struct
import sys

SEED = 20240601


def esc(v):
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def labels(pairs):
    if not pairs:
        return ""
    return "{" + ",".join('%s="%s"' % (k, esc(v)) for k, v in pairs) + "}"


def fmt(v):
    if isinstance(v, int):
        return str(v)
    return repr(v)


def big_families():
    """10,000 families, each exactly 10 series: 70% counters, 20% gauges,
    10% histograms (7 finite buckets + +Inf + _sum + _count = 10 series).
    Each family: (name, kind, help, series); a counter's or gauge's series are
    (labels, value), a histogram's (labels, [(le, cumulative count)], sum, count)."""
    rnd = random.Random(SEED)
    subsystems = ["http", "grpc", "db", "cache", "queue", "worker", "storage", "auth", "billing", "search"]
    nouns = ["requests", "errors", "bytes", "items", "connections", "retries", "operations", "events", "messages", "jobs"]
    methods = ["GET", "POST", "PUT", "DELETE", "PATCH"]
    paths = ["/api/v1/items", "/api/v1/users", "/api/v2/orders", "/healthz", "/api/v1/search", "/login", "/api/v2/invoices"]
    codes = ["200", "201", "204", "301", "400", "404", "500", "503"]
    regions = ["eu-west-1", "us-east-1", "ap-south-1"]
    buckets = ["0.005", "0.01", "0.05", "0.1", "0.5", "1", "5"]
    for f in range(10000):
        sub = subsystems[f % len(subsystems)]
        noun = nouns[(f // len(subsystems)) % len(nouns)]
        base = "%s_%s_%05d" % (sub, noun, f)
        kind = f % 10
        if kind < 7:
            series = []
            for s in range(10):
                ls = [("code", codes[(s * 3 + f) % len(codes)]), ("handler", paths[(f + s) % len(paths)]),
                      ("method", methods[s % 5])]
                series.append((ls, rnd.randint(0, 10**9)))
            yield (base + "_total", "counter", "Total number of %s handled by the %s subsystem." % (noun, sub), series)
        elif kind < 9:
            series = []
            for s in range(10):
                ls = [("pool", "pool-%d" % s), ("zone", "%s%s" % (regions[s % 3], "abc"[s % 3]))]
                series.append((ls, round(rnd.uniform(0, 5000), 3)))
            yield (base + "_current", "gauge", "Current number of %s in the %s subsystem." % (noun, sub), series)
        else:
            ls = [("handler", paths[f % len(paths)]), ("method", methods[f % 5])]
            c = 0
            counts = []
            for le in buckets:
                c += rnd.randint(0, 50000)
                counts.append((le, c))
            c += rnd.randint(0, 100)
            counts.append(("+Inf", c))
            total = round(c * rnd.uniform(0.01, 0.3), 6)
            yield (base + "_duration_seconds", "histogram", "Latency of %s in the %s subsystem." % (noun, sub),
                   [(ls, counts, total, c)])


def big(out, openmetrics=False):
    """The families as text (0.0.4), or as OpenMetrics 1.0.0 (a counter's family is named
    without its `_total`, and the page ends with `# EOF`)."""
    w = out.write
    for name, kind, help_, series in big_families():
        family = name[: -len("_total")] if openmetrics and kind == "counter" else name
        w("# HELP %s %s\n" % (family, help_))
        w("# TYPE %s %s\n" % (family, kind))
        if kind == "histogram":
            for ls, counts, total, count in series:
                for le, c in counts:
                    w("%s_bucket%s %d\n" % (name, labels(ls + [("le", le)]), c))
                w("%s_sum%s %s\n" % (name, labels(ls), fmt(total)))
                w("%s_count%s %d\n" % (name, labels(ls), count))
        else:
            for ls, v in series:
                w("%s%s %s\n" % (name, labels(ls), fmt(v)))
    if openmetrics:
        w("# EOF\n")


def varint(n):
    b = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        if n:
            b.append(low | 0x80)
        else:
            b.append(low)
            return bytes(b)


def field(number, wire, payload):
    """One protobuf field: a length-delimited one (wire 2) for bytes, else a varint (0) or a
    little-endian double (1)."""
    key = varint(number << 3 | wire)
    if wire == 2:
        return key + varint(len(payload)) + payload
    if wire == 1:
        return key + struct.pack("<d", payload)
    return key + varint(payload)


def big_protobuf(out):
    """The families as delimited protobuf (io.prometheus.client.MetricFamily), as client_golang
    writes them: a counter's name keeps its `_total`, a histogram leaves out its +Inf bucket."""
    types = {"counter": 0, "gauge": 1, "histogram": 4}
    for name, kind, help_, series in big_families():
        fam = field(1, 2, name.encode()) + field(2, 2, help_.encode()) + field(3, 0, types[kind])
        for one in series:
            ls = one[0]
            metric = b"".join(field(1, 2, field(1, 2, k.encode()) + field(2, 2, v.encode())) for k, v in ls)
            if kind == "histogram":
                _, counts, total, count = one
                h = field(1, 0, count) + field(2, 1, float(total))
                for le, c in counts:
                    if le != "+Inf":
                        h += field(3, 2, field(1, 0, c) + field(2, 1, float(le)))
                metric += field(7, 2, h)
            else:
                metric += field(3 if kind == "counter" else 2, 2, field(1, 1, float(one[1])))
            fam += field(4, 2, metric)
        out.write(varint(len(fam)) + fam)


def small(out):
    """A node_exporter-shaped page (~57 KB): go_*, process_*, node_cpu_seconds_total,
    node_filesystem_*, node_network_*, node_disk_* and many single-series gauges."""
    rnd = random.Random(SEED)
    w = out.write

    def fam(name, typ, help_, series):
        w("# HELP %s %s\n# TYPE %s %s\n" % (name, help_, name, typ))
        for ls, v in series:
            w("%s%s %s\n" % (name, labels(ls), fmt(v)))

    fam("go_gc_duration_seconds", "summary", "A summary of the pause duration of garbage collection cycles.",
        [([("quantile", q)], rnd.uniform(1e-5, 1e-3)) for q in ["0", "0.25", "0.5", "0.75", "1"]])
    w("go_gc_duration_seconds_sum 0.0123\ngo_gc_duration_seconds_count 42\n")
    for i in range(25):
        fam("go_memstats_stat_%02d_bytes" % i, "gauge", "Go runtime memory statistic %d." % i,
            [([], rnd.randint(0, 10**8))])
    for i in range(8):
        fam("process_stat_%d" % i, "gauge", "Process statistic %d." % i, [([], float(rnd.randint(0, 10**6)))])
    modes = ["idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user"]
    fam("node_cpu_seconds_total", "counter", "Seconds the CPUs spent in each mode.",
        [([("cpu", str(c)), ("mode", m)], round(rnd.uniform(0, 1e6), 2)) for c in range(2) for m in modes])
    mounts = [("/dev/vda", "/", "ext4"), ("tmpfs", "/run", "tmpfs"), ("tmpfs", "/dev/shm", "tmpfs"),
              ("/dev/vdb", "/var/lib/docker", "xfs"), ("tmpfs", "/run/lock", "tmpfs")]
    for what in ["avail_bytes", "device_error", "files", "files_free", "free_bytes", "readonly", "size_bytes"]:
        fam("node_filesystem_" + what, "gauge", "Filesystem %s." % what.replace("_", " "),
            [([("device", d), ("fstype", t), ("mountpoint", m)], rnd.randint(0, 10**11)) for d, m, t in mounts])
    devs = ["eth0", "lo", "docker0", "veth1a2b3c"]
    for i in range(36):
        fam("node_network_stat_%02d_total" % i, "counter", "Network device statistic %d." % i,
            [([("device", d)], rnd.randint(0, 10**10)) for d in devs])
    disks = ["vda", "vdb", "dm-0"]
    for i in range(18):
        fam("node_disk_stat_%02d_total" % i, "counter", "Disk statistic %d." % i,
            [([("device", d)], rnd.randint(0, 10**9)) for d in disks])
    collectors = ["arp", "bcache", "bonding", "btrfs", "conntrack", "cpu", "cpufreq", "diskstats", "dmi", "edac",
                  "entropy", "fibrechannel", "filefd", "filesystem", "hwmon", "infiniband", "ipvs", "loadavg",
                  "mdadm", "meminfo", "netclass", "netdev", "netstat", "nfs", "nfsd", "nvme", "os", "powersupplyclass",
                  "pressure", "rapl", "schedstat", "selinux", "sockstat", "softnet", "stat", "tapestats", "textfile",
                  "thermal_zone", "time", "timex", "udp_queues", "uname", "vmstat", "xfs", "zfs"]
    fam("node_scrape_collector_duration_seconds", "gauge", "node_exporter: Duration of a collector scrape.",
        [([("collector", c)], round(rnd.uniform(0, 0.01), 9)) for c in collectors])
    fam("node_scrape_collector_success", "gauge", "node_exporter: Whether a collector succeeded.",
        [([("collector", c)], 1) for c in collectors])
    i = 0
    while out.tell() < 56 * 1024:
        fam("node_misc_value_%03d" % i, "gauge", "A node_exporter-style single-series gauge number %d." % i,
            [([], rnd.randint(0, 10**9))])
        i += 1


def openmetrics_of(text):
    """A text-format page (without timestamps) as OpenMetrics 1.0.0: a counter's family loses
    its `_total` (its samples keep or gain it), `untyped` becomes `unknown`, and `# EOF` ends it."""
    lines = text.splitlines()
    counters = {}  # a counter's name in the text page -> its OpenMetrics family name
    for line in lines:
        if line.startswith("# TYPE ") and line.endswith(" counter"):
            name = line.split(" ")[2]
            counters[name] = name[: -len("_total")] if name.endswith("_total") else name
    out = []
    for line in lines:
        if line.startswith("# TYPE ") or line.startswith("# HELP "):
            parts = line.split(" ", 3)
            if parts[2] in counters:
                parts[2] = counters[parts[2]]
            if parts[1] == "TYPE" and parts[3] == "untyped":
                parts[3] = "unknown"
            line = " ".join(parts)
        elif line and not line.startswith("#"):
            name = line.split("{", 1)[0].split(" ", 1)[0]
            if name in counters and not name.endswith("_total"):
                line = name + "_total" + line[len(name):]
        out.append(line)
    return "\n".join(out) + "\n# EOF\n"


def main():
    kinds = {"big": big, "big-om": lambda out: big(out, openmetrics=True), "small": small}
    if len(sys.argv) == 4 and sys.argv[1] == "openmetrics-of":
        with open(sys.argv[2], encoding="utf-8") as f, open(sys.argv[3], "w", encoding="utf-8", newline="\n") as out:
            out.write(openmetrics_of(f.read()))
        return 0
    if len(sys.argv) != 3 or sys.argv[1] not in (*kinds, "big-pb"):
        sys.stderr.write(__doc__)
        return 2
    if sys.argv[1] == "big-pb":
        with open(sys.argv[2], "wb") as out:
            big_protobuf(out)
        return 0
    with open(sys.argv[2], "w", encoding="utf-8", newline="\n") as out:
        kinds[sys.argv[1]](out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
