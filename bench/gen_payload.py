#!/usr/bin/env python3
"""Generate Prometheus text-format (0.0.4) payloads for bench/compare.sh.

    gen_payload.py big   OUT   # 10,000 families x 10 series each, about 9.6 MB
    gen_payload.py small OUT   # a node_exporter-like page, about 57 KB (fallback
                               # when no real node_exporter can be scraped)

Output is deterministic (fixed seed), valid for Go's expfmt text parser and for
Prometheus: every family has HELP and TYPE lines, label values are escaped,
histograms carry ascending `le` buckets ending in +Inf plus _sum and _count.
"""

import random
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


def big(out):
    """10,000 families, each exactly 10 series: 70% counters, 20% gauges,
    10% histograms (7 finite buckets + +Inf + _sum + _count = 10 series)."""
    rnd = random.Random(SEED)
    subsystems = ["http", "grpc", "db", "cache", "queue", "worker", "storage", "auth", "billing", "search"]
    nouns = ["requests", "errors", "bytes", "items", "connections", "retries", "operations", "events", "messages", "jobs"]
    methods = ["GET", "POST", "PUT", "DELETE", "PATCH"]
    paths = ["/api/v1/items", "/api/v1/users", "/api/v2/orders", "/healthz", "/api/v1/search", "/login", "/api/v2/invoices"]
    codes = ["200", "201", "204", "301", "400", "404", "500", "503"]
    regions = ["eu-west-1", "us-east-1", "ap-south-1"]
    buckets = ["0.005", "0.01", "0.05", "0.1", "0.5", "1", "5"]
    w = out.write
    for f in range(10000):
        sub = subsystems[f % len(subsystems)]
        noun = nouns[(f // len(subsystems)) % len(nouns)]
        base = "%s_%s_%05d" % (sub, noun, f)
        kind = f % 10
        if kind < 7:
            name = base + "_total"
            w("# HELP %s Total number of %s handled by the %s subsystem.\n" % (name, noun, sub))
            w("# TYPE %s counter\n" % name)
            for s in range(10):
                ls = [("code", codes[(s * 3 + f) % len(codes)]), ("handler", paths[(f + s) % len(paths)]),
                      ("method", methods[s % 5])]
                w("%s%s %d\n" % (name, labels(ls), rnd.randint(0, 10**9)))
        elif kind < 9:
            name = base + "_current"
            w("# HELP %s Current number of %s in the %s subsystem.\n" % (name, noun, sub))
            w("# TYPE %s gauge\n" % name)
            for s in range(10):
                ls = [("pool", "pool-%d" % s), ("zone", "%s%s" % (regions[s % 3], "abc"[s % 3]))]
                w("%s%s %s\n" % (name, labels(ls), fmt(round(rnd.uniform(0, 5000), 3))))
        else:
            name = base + "_duration_seconds"
            w("# HELP %s Latency of %s in the %s subsystem.\n" % (name, noun, sub))
            w("# TYPE %s histogram\n" % name)
            ls = [("handler", paths[f % len(paths)]), ("method", methods[f % 5])]
            c = 0
            for le in buckets:
                c += rnd.randint(0, 50000)
                w("%s_bucket%s %d\n" % (name, labels(ls + [("le", le)]), c))
            c += rnd.randint(0, 100)
            w("%s_bucket%s %d\n" % (name, labels(ls + [("le", "+Inf")]), c))
            w("%s_sum%s %s\n" % (name, labels(ls), fmt(round(c * rnd.uniform(0.01, 0.3), 6))))
            w("%s_count%s %d\n" % (name, labels(ls), c))


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


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("big", "small"):
        sys.stderr.write(__doc__)
        return 2
    with open(sys.argv[2], "w", encoding="utf-8", newline="\n") as out:
        {"big": big, "small": small}[sys.argv[1]](out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
