#!/usr/bin/env python3
"""Write the bodies bench/README.md's callgrind figures are measured on.

    callgrind_bodies.py DIR

writes into DIR:
  family.txt      one family of 100,000 labelled sample lines (three labels, a new value each)
  openmetrics.txt a 10 MB OpenMetrics body of the shape benches/verify.rs generates
  protobuf.bin    a 50 KB delimited protobuf body, benches/verify.rs's
(the node_exporter page and gen_payload.py's big page are made by bench/callgrind.sh).
Deterministic: the same bytes on every run.
"""

import struct
import sys


def text_body(target, openmetrics):
    out = []
    size = 0
    f = 0
    les = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"]
    while size < target:
        name = "bench_family_%d_seconds" % f
        lines = []
        if f % 3 == 0:
            lines.append("# HELP %s A gauge with a few labels.\n# TYPE %s gauge" % (name, name))
            for i in range(10):
                lines.append('%s{instance="host-%d.example.com:9100",job="node",mode="idle"} %d.%d' % (name, i, i * 1234, i))
        elif f % 3 == 1:
            lines.append("# HELP %s A counter.\n# TYPE %s counter" % (name, name))
            total = "_total" if openmetrics else ""
            for i in range(10):
                lines.append('%s%s{cpu="%d",mode="user"} %d' % (name, total, i, 1000000 + i * 17))
        else:
            lines.append("# HELP %s A histogram.\n# TYPE %s histogram" % (name, name))
            for i, le in enumerate(les):
                lines.append('%s_bucket{handler="/api/v1/query",le="%s"} %d' % (name, le, i * 10))
            lines.append('%s_sum{handler="/api/v1/query"} 12.5\n%s_count{handler="/api/v1/query"} 90' % (name, name))
        chunk = "".join(l + "\n" for l in lines)
        out.append(chunk)
        size += len(chunk)
        f += 1
    if openmetrics:
        out.append("# EOF\n")
    return "".join(out).encode()


def varint(v):
    b = bytearray()
    while v >= 0x80:
        b.append((v & 0x7F) | 0x80)
        v >>= 7
    b.append(v)
    return bytes(b)


def field_bytes(field, data):
    return varint(field << 3 | 2) + varint(len(data)) + data


def proto_body(target):
    out = bytearray()
    f = 0
    while len(out) < target:
        family = field_bytes(1, b"bench_family_%d_seconds" % f)
        family += field_bytes(2, b"A gauge with a few labels.")
        family += varint(3 << 3) + varint(1)
        for i in range(10):
            metric = b""
            for k, v in [("instance", "host-%d.example.com:9100" % i), ("job", "node"), ("mode", "idle")]:
                metric += field_bytes(1, field_bytes(1, k.encode()) + field_bytes(2, v.encode()))
            metric += field_bytes(2, b"\x09" + struct.pack("<d", i * 1.5))
            family += field_bytes(4, metric)
        out += varint(len(family)) + family
        f += 1
    return bytes(out)


def family_body():
    lines = ["# HELP requests_total Requests.", "# TYPE requests_total counter"]
    for i in range(100000):
        lines.append('requests_total{handler="/api/v1/h%d",code="%d",method="GET"} %d' % (i % 97, 200 + i % 5, i))
    return ("\n".join(lines) + "\n").encode()


def main():
    d = sys.argv[1]
    with open(d + "/family.txt", "wb") as f:
        f.write(family_body())
    with open(d + "/openmetrics.txt", "wb") as f:
        f.write(text_body(10 << 20, True))
    with open(d + "/protobuf.bin", "wb") as f:
        f.write(proto_body(50 << 10))


main()
