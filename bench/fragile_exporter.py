#!/usr/bin/env python3
"""A fragile exporter for bench/load.sh: Python's threaded http.server with a listen backlog of
5 and HTTP/1.0 (a connection per request), as many script-based exporters are. It counts the
connections it has open and remembers the most at once.

    fragile_exporter.py PORT

GET /peak answers the most connections open at once since the last GET /reset (which sets it
to what is open now); any other GET gets a small valid metrics page.
"""

import http.server
import sys
import threading

LOCK = threading.Lock()
OPEN = 0
PEAK = 0
PAGE = "".join(
    "# HELP fragile_%d A gauge.\n# TYPE fragile_%d gauge\nfragile_%d{instance=\"a\"} %d\n" % (i, i, i, i)
    for i in range(100)
).encode()


class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 5
    daemon_threads = True


class Handler(http.server.BaseHTTPRequestHandler):
    def setup(self):
        global OPEN, PEAK
        with LOCK:
            OPEN += 1
            PEAK = max(PEAK, OPEN)
        super().setup()

    def finish(self):
        global OPEN
        try:
            super().finish()
        finally:
            with LOCK:
                OPEN -= 1

    def do_GET(self):
        global PEAK
        if self.path == "/peak":
            body = ("%d\n" % PEAK).encode()
        elif self.path == "/reset":
            with LOCK:
                PEAK = OPEN
            body = b"ok\n"
        else:
            body = PAGE
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    Server(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
