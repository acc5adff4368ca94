#!/usr/bin/env python3
"""delay-proxy.py: network latency in front of the local S3 server, for bench/run.

Usage: delay-proxy.py UPSTREAM_PORT PORTFILE LOG [--delay-ms 20]

Every request waits DELAY ms before it is passed on to 127.0.0.1:UPSTREAM_PORT
(s3rver, or the signature-checking proxy of tests/s3), so each round trip
costs what it would against a store 20 ms away; the answer (status, headers,
body) comes back as the upstream gave it. Connections are kept on both sides
(HTTP/1.1 keep-alive), one upstream connection per client connection, so
concurrent clients are concurrent upstream too. The latency is added per
request, not per TCP connection (a new connection costs no extra round trip
here: the client keeps its connections, so that cost is paid once).

The request goes upstream without its signature (Authorization and
x-amz-* headers): s3rver would check it against its own keys only. The
storage tests check signatures (tests/s3/sigv4-proxy.py); this is for speed.

Each answered request appends "METHOD PATH STATUS BYTES" to LOG, for the
bench to count requests. The port is written to PORTFILE once listening.
"""
import argparse
import http.client
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

A = None
LOCK = threading.Lock()
# Hop-by-hop headers are the proxy's own on each side.
HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
       "proxy-connection"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def upstream(self):
        if getattr(self, "_conn", None) is None:
            self._conn = http.client.HTTPConnection("127.0.0.1", A.upstream_port, timeout=120)
        return self._conn

    def forward(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        time.sleep(A.delay_ms / 1000.0)
        # s3rver would check a signature against its own keys: it gets the
        # request unsigned (the storage tests verify signatures; this is for speed)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP and
                   k.lower() != "authorization" and not k.lower().startswith("x-amz-")}
        for attempt in (1, 2):
            conn = self.upstream()
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                r = conn.getresponse()
                data = r.read()
                break
            except (ConnectionError, http.client.HTTPException):
                # the upstream closed a kept connection: once more on a new one
                conn.close()
                self._conn = None
                if attempt == 2:
                    raise
        self.send_response_only(r.status, r.reason)
        for k, v in r.getheaders():
            if k.lower() not in HOP and k.lower() != "content-length":
                self.send_header(k, v)
        if self.command != "HEAD" or r.getheader("Content-Length") is None:
            self.send_header("Content-Length", str(len(data)))
        else:
            self.send_header("Content-Length", r.getheader("Content-Length"))
        self.end_headers()
        if self.command != "HEAD" and r.status not in (204, 304):
            self.wfile.write(data)
        with LOCK, open(A.log, "a") as f:
            f.write("%s %s %d %d\n" % (self.command, self.path, r.status, len(data)))

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = forward


def main():
    global A
    p = argparse.ArgumentParser()
    p.add_argument("upstream_port", type=int)
    p.add_argument("portfile")
    p.add_argument("log")
    p.add_argument("--delay-ms", type=float, default=20.0)
    A = p.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    with open(A.portfile + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(A.portfile + ".tmp", A.portfile)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
