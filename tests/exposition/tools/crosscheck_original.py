#!/usr/bin/env python3
"""Cross-check text exposition test cases against the original exporter_exporter.

For every case file (``*.good.txt`` / ``*.bad.txt``) this serves the file's exact
bytes from a tiny HTTP server on 127.0.0.1 with
``Content-Type: text/plain; version=0.0.4``, proxies it through the original Go
binary (Debian's ``prometheus-exporter-exporter``, 0.4.0) as an http module with
verification on, and records the original's verdict:

    200 -> accept, 500 -> reject, anything else -> error

Only loopback addresses are used; every process started here is stopped before
exit. Standard library only.

Usage:
    crosscheck_original.py [--binary PATH] [--json OUT] [CASE_FILE_OR_DIR ...]

With no case arguments it checks ../text/ relative to this script. Prints one
tab-separated line per case (file, expected, original, agree, original's log
reason) and a summary. Exit status: 0 when every case got a 200 or a 500, 1 when
some request failed otherwise, 2 when the original could not be started.
Disagreements between the file name's verdict and the original do not change the
exit status: they are the point of the report (see ../text/PROVENANCE.md).
"""

import argparse
import http.server
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

DEFAULT_BINARY = "/usr/bin/prometheus-exporter-exporter"
CONTENT_TYPE = "text/plain; version=0.0.4"
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CASES = os.path.normpath(os.path.join(HERE, "..", "text"))


def collect_cases(args):
    paths = args or [DEFAULT_CASES]
    files = []
    for p in paths:
        if os.path.isdir(p):
            for name in sorted(os.listdir(p)):
                if name.endswith(".good.txt") or name.endswith(".bad.txt"):
                    files.append(os.path.join(p, name))
        else:
            files.append(p)
    return files


def expected_of(path):
    name = os.path.basename(path)
    if name.endswith(".good.txt"):
        return "accept"
    if name.endswith(".bad.txt"):
        return "reject"
    return "?"


def make_handler(cases):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802 (stdlib naming)
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            key = (query.get("case") or [""])[0]
            body = cases.get(key)
            if body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *args):  # keep the report clean
            pass

    return Handler


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def read_new(fh):
    data = fh.read()
    return data.decode("utf-8", "replace") if data else ""


def reason_from_log(text):
    for line in text.splitlines():
        if "failed" in line or "error" in line.lower():
            return line.strip()
    return ""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", default=DEFAULT_BINARY)
    ap.add_argument("--json", help="write per-case results to this file")
    ap.add_argument("cases", nargs="*")
    opts = ap.parse_args()

    files = collect_cases(opts.cases)
    if not files:
        print("no case files found", file=sys.stderr)
        return 2
    keys = {}
    bodies = {}
    for i, path in enumerate(files):
        key = "c%d" % i
        keys[path] = key
        with open(path, "rb") as fh:
            bodies[key] = fh.read()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(bodies))
    upstream_port = server.server_address[1]
    server_thread = threading.Thread(target=server.serve_forever, daemon=True)
    server_thread.start()

    tmpdir = tempfile.TemporaryDirectory(prefix="expexp-crosscheck-")
    cfg = os.path.join(tmpdir.name, "expexp.yml")
    with open(cfg, "w") as fh:
        fh.write(
            "modules: {m: {method: http, http: {port: %d, address: 127.0.0.1, path: /x}}}\n"
            % upstream_port
        )
    log_path = os.path.join(tmpdir.name, "original.log")
    log_w = open(log_path, "wb")
    log_r = open(log_path, "rb")

    proc = None
    results = []
    failures = 0
    try:
        listen_port = free_port()
        proc = subprocess.Popen(
            [opts.binary, "-config.file", cfg,
             "-web.listen-address", "127.0.0.1:%d" % listen_port],
            stdin=subprocess.DEVNULL, stdout=log_w, stderr=log_w,
        )
        if not wait_listening(listen_port, proc):
            print("original did not start; its log:\n" + read_new(log_r), file=sys.stderr)
            return 2
        read_new(log_r)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        for path in files:
            url = "http://127.0.0.1:%d/proxy?module=m&case=%s" % (listen_port, keys[path])
            try:
                with opener.open(url, timeout=30) as resp:
                    status = resp.status
                    resp.read()
            except urllib.error.HTTPError as e:
                status = e.code
                e.read()
            except OSError as e:
                status = "error: %s" % e
            time.sleep(0.01)  # let the log line land
            reason = reason_from_log(read_new(log_r))
            if status == 200:
                got = "accept"
            elif status == 500:
                got = "reject"
            else:
                got = "other:%s" % status
                failures += 1
            exp = expected_of(path)
            results.append({
                "file": os.path.basename(path),
                "expected": exp,
                "original": got,
                "agree": got == exp,
                "reason": reason,
            })
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        server.shutdown()
        server.server_close()
        log_w.close()
        log_r.close()
        tmpdir.cleanup()

    for r in results:
        print("%s\t%s\t%s\t%s\t%s" % (
            r["file"], r["expected"], r["original"],
            "agree" if r["agree"] else "DIFFER", r["reason"]))
    differ = sum(1 for r in results if not r["agree"])
    print("# %d cases, %d agree, %d differ, %d request failures"
          % (len(results), len(results) - differ, differ, failures))
    if opts.json:
        with open(opts.json, "w") as fh:
            json.dump(results, fh, indent=1)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
