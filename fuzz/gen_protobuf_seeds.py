#!/usr/bin/env python3
"""Writes a few delimited `io.prometheus.client.MetricFamily` bodies (metrics.proto of
client_model) into the directory given as the only argument, as seeds for verify_protobuf and
(gzipped) verify_gzip. No protobuf library needed: the wire format is written by hand."""

import math
import os
import struct
import sys

VARINT, FIXED64, BYTES = 0, 1, 2
COUNTER, GAUGE, SUMMARY, UNTYPED, HISTOGRAM, GAUGE_HISTOGRAM = range(6)


def varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def zigzag(n):
    return (n << 1) ^ (n >> 63)


def key(field, wire):
    return varint(field << 3 | wire)


def v(field, n):
    return key(field, VARINT) + varint(n)


def d(field, x):
    return key(field, FIXED64) + struct.pack("<d", x)


def b(field, data):
    if isinstance(data, str):
        data = data.encode()
    return key(field, BYTES) + varint(len(data)) + data


def label(name, value):
    return b(1, name) + b(2, value)


def metric(labels=(), timestamp_ms=None, **kind):
    out = b"".join(b(1, label(n, val)) for n, val in labels)
    field = {"gauge": 2, "counter": 3, "summary": 4, "untyped": 5, "histogram": 7}
    for name, body in kind.items():
        out += b(field[name], body)
    if timestamp_ms is not None:
        out += v(6, timestamp_ms)
    return out


def family(name, typ, metrics, help_text=None, unit=None):
    out = b(1, name)
    if help_text is not None:
        out += b(2, help_text)
    out += v(3, typ)
    out += b"".join(b(4, m) for m in metrics)
    if unit is not None:
        out += b(5, unit)
    return out


def delimited(*families):
    return b"".join(varint(len(f)) + f for f in families)


def timestamp(seconds, nanos):
    return v(1, seconds) + v(2, nanos)


def exemplar(labels, value, ts=None):
    out = b"".join(b(1, label(n, val)) for n, val in labels) + d(2, value)
    if ts is not None:
        out += b(3, timestamp(*ts))
    return out


def seeds():
    counter = family(
        "http_requests_total",
        COUNTER,
        [
            metric([("method", "get"), ("code", "200")], counter=d(1, 1027.0)),
            metric(
                [("method", "post"), ("code", "400")],
                timestamp_ms=1395066363000,
                counter=d(1, 3.0) + b(2, exemplar([("trace_id", "abc")], 1.0, (1, 2))),
            ),
        ],
        help_text="The total number of HTTP requests.",
    )
    gauge = family("temperature", GAUGE, [metric(gauge=d(1, -1.5e-3)), metric([("a", 'q"\\\n')], gauge=d(1, math.inf))])
    untyped = family("untyped_metric", UNTYPED, [metric(untyped=d(1, math.nan))])
    summary = family(
        "rpc_duration_seconds",
        SUMMARY,
        [
            metric(
                summary=v(1, 2693)
                + d(2, 1.7560473e07)
                + b(3, d(1, 0.5) + d(2, 4773))
                + b(3, d(1, 0.99) + d(2, 76656))
                + b(4, timestamp(1, 0))
            )
        ],
        help_text="A summary of the RPC duration in seconds.",
    )
    histogram = family(
        "request_duration_seconds",
        HISTOGRAM,
        [
            metric(
                histogram=v(1, 144320)
                + d(2, 53423)
                + b(3, v(1, 24054) + d(2, 0.05))
                + b(3, v(1, 33444) + d(2, 0.1) + b(3, exemplar([("id", "x")], 0.07)))
                + b(3, v(1, 144320) + d(2, math.inf))
            )
        ],
    )
    native = family(
        "native_seconds",
        HISTOGRAM,
        [
            metric(
                histogram=v(1, 10)
                + d(2, 3.5)
                + v(5, zigzag(3))
                + d(6, 1e-128)
                + v(7, 1)
                + b(12, v(1, zigzag(-2)) + v(2, 3))
                + b(13, varint(zigzag(2)) + varint(zigzag(1)) + varint(zigzag(-1)))
                + b(9, v(1, zigzag(0)) + v(2, 1))
                + v(10, zigzag(2))
            )
        ],
    )
    gauge_histogram = family(
        "queue_size", GAUGE_HISTOGRAM, [metric(histogram=d(4, 5.0) + b(3, d(4, 5.0) + d(2, math.inf)))]
    )
    utf8 = family("my.dotted.metric", GAUGE, [metric([("label.with.dots", "ü")], gauge=d(1, 1))])
    return {
        "counter": delimited(counter),
        "all_types": delimited(counter, gauge, untyped, summary, histogram),
        "native_histogram": delimited(native, gauge_histogram),
        "utf8_names": delimited(utf8),
        "empty_family": delimited(family("no_metrics", GAUGE, [])),
        "unit": delimited(family("size_bytes", GAUGE, [metric(gauge=d(1, 1))], unit="bytes")),
    }


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, body in seeds().items():
        with open(os.path.join(out, name + ".pb"), "wb") as f:
            f.write(body)


if __name__ == "__main__":
    main()
