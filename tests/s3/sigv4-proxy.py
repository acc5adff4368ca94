#!/usr/bin/env python3
"""sigv4-proxy.py: a verifying proxy in front of the local S3 server.

Usage: sigv4-proxy.py UPSTREAM_PORT PORTFILE LOG --key AK:SECRET[:TOKEN]...
       [--region R] [--allow-anonymous]

s3rver does not check signatures the way S3 does, so every request of the
storage tests passes here first. The proxy recomputes the request's SigV4
signature with botocore (sigv4_botocore.py) and answers 403
SignatureDoesNotMatch unless the Authorization header is exactly botocore's:
same credential scope, same signed headers, same signature. It also refuses
a path not in canonical encoding, unsigned x-amz-*, Range or If-* headers,
a payload hash that is not the body's, a session token that is not the
key's, and a clock more than 15 minutes off. Requests without
Authorization pass only with --allow-anonymous.

Faults on demand: POST /__ctl/fault with a JSON object
  {"kind": K, "match": SUBSTRING of the decoded path, "count": N, ...}
K: slowdown (503 SlowDown), drop (close without answer), truncate (half
the body under the full Content-Length), deny (403 AccessDenied), slow
(wait "seconds", then answer), pagesize (listings served "size" keys a
page; count ignored, until reset). POST /__ctl/reset clears them.
Keys on demand (a catalog's vended ones, and their expiry): POST
/__ctl/keys {"add": {AK: [SECRET, TOKEN or null]}, "remove": [AK...]};
a removed key is refused from then on (403, unknown access key).
Each request appends to LOG: "METHOD PATH?QUERY STATUS BYTES [FAULT]".
The port is written to PORTFILE once listening.
"""
import argparse
import os
import datetime
import hashlib
import http.client
import json
import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, unquote, urlencode

from sigv4_botocore import s3_path, sign

A = None
LOCK = threading.Lock()
FAULTS = []
PAGE_SIZE = [0]
UPSTREAM = threading.local()
AUTH_RE = re.compile(r"^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/s3/aws4_request, "
                     r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$")


def error_xml(code, message):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>%s</Message>'
            '</Error>' % (code, message)).encode()


def take_fault(path):
    with LOCK:
        for f in FAULTS:
            if f["kind"] != "pagesize" and f.get("count", 1) > 0 and f.get("match", "") in path:
                f["count"] = f.get("count", 1) - 1
                return dict(f)
    return None


def query_pairs(query):
    """Decoded (name, value) pairs; '+' stays '+' (SigV4 encodes a space as %20)."""
    pairs = []
    for part in query.split("&") if query else []:
        name, _, value = part.partition("=")
        pairs.append((unquote(name), unquote(value)))
    return pairs


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def log(self, status, nbytes, note=""):
        with LOCK, open(A.log, "a") as f:
            f.write("%s %s %s %d%s\n" % (self.command, unquote(self.path), status, nbytes,
                                          " " + note if note else ""))

    def reply(self, status, body, headers=(), note="", length=None):
        # logged before the answer goes out: a client that has its answer
        # finds the line (tests count requests as soon as a program ends)
        self.log(status, len(body), note)
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def control(self):
        data = self.body()
        if self.path == "/__ctl/reset":
            with LOCK:
                FAULTS.clear()
                PAGE_SIZE[0] = 0
        elif self.path == "/__ctl/keys":
            k = json.loads(data)
            with LOCK:
                for ak in k.get("remove", []):
                    A.keys.pop(ak, None)
                for ak, (secret, token) in k.get("add", {}).items():
                    A.keys[ak] = (secret, token)
        else:
            f = json.loads(data)
            with LOCK:
                if f["kind"] == "pagesize":
                    PAGE_SIZE[0] = int(f["size"])
                else:
                    FAULTS.append(f)
        self.reply(200, b"ok\n")

    def verify(self, payload):
        """None when the signature is botocore's, else why not."""
        auth = self.headers.get("Authorization")
        if auth is None:
            return None if A.allow_anonymous else "no Authorization header"
        m = AUTH_RE.match(auth)
        if not m:
            return "malformed Authorization header"
        ak, day, region, signed, _ = m.groups()
        if ak not in A.keys:
            return "unknown access key"
        secret, token = A.keys[ak]
        amz_date = self.headers.get("X-Amz-Date", "")
        try:
            when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ")
        except ValueError:
            return "bad X-Amz-Date"
        if abs((datetime.datetime.utcnow() - when).total_seconds()) > 900:
            return "X-Amz-Date more than 15 minutes off"
        if region != A.region:
            return "region %s, expected %s" % (region, A.region)
        if self.headers.get("X-Amz-Security-Token") != (token or None):
            return "session token missing or wrong"
        if self.headers.get("X-Amz-Content-SHA256") != hashlib.sha256(payload).hexdigest():
            return "x-amz-content-sha256 is not the hash of the body"
        names = signed.split(";")
        for h in self.headers.keys():
            low = h.lower()
            if (low.startswith("x-amz-") or low in ("range", "host") or low.startswith("if-")) \
                    and low not in names:
                return "header %s sent but not signed" % low
        raw_path, _, query = self.path.partition("?")
        path = unquote(raw_path)
        if s3_path(path) != raw_path:
            return "path not in canonical encoding (%s, expected %s)" % (raw_path, s3_path(path))
        extra = {h: self.headers[h] for h in names
                 if h != "host" and not h.startswith("x-amz-")}
        want, _ = sign(self.command, self.headers["Host"], path, query_pairs(query), extra,
                       A.region, ak, secret, token, amz_date)
        return None if want == auth else "signature differs from botocore's"

    def upstream(self):
        c = getattr(UPSTREAM, "conn", None)
        if c is None:
            c = UPSTREAM.conn = http.client.HTTPConnection("127.0.0.1", A.upstream, timeout=60)
        return c

    def forward(self, payload):
        raw_path, _, query = self.path.partition("?")
        pairs = query_pairs(query)
        if PAGE_SIZE[0] and ("list-type", "2") in pairs:
            pairs = [p for p in pairs if p[0] != "max-keys"] + [("max-keys", str(PAGE_SIZE[0]))]
        target = raw_path + ("?" + urlencode(pairs, quote_via=quote) if pairs else "")
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() in ("range", "if-none-match", "if-match", "content-type")}
        for attempt in range(2):
            c = self.upstream()
            try:
                c.request(self.command, target, body=payload or None, headers=headers)
                r = c.getresponse()
                return r.status, r.getheaders(), r.read()
            except (http.client.HTTPException, OSError):
                c.close()
                UPSTREAM.conn = None
                if attempt:
                    raise
        return None

    def handle_any(self):
        if self.path.startswith("/__ctl/"):
            return self.control()
        payload = self.body()
        why = self.verify(payload)
        if why:
            code = "InvalidAccessKeyId" if why == "unknown access key" else "SignatureDoesNotMatch"
            return self.reply(403, error_xml(code, why), note="refused: " + why)
        fault = take_fault(unquote(self.path))
        kind = fault["kind"] if fault else ""
        if kind == "slowdown":
            return self.reply(503, error_xml("SlowDown", "Please reduce your request rate."),
                              note="fault slowdown")
        if kind == "deny":
            return self.reply(403, error_xml("AccessDenied", "Access Denied"), note="fault deny")
        if kind == "drop":
            self.log(0, 0, "fault drop")
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return None
        if kind == "slow":
            time.sleep(float(fault.get("seconds", 2)))
        status, headers, body = self.forward(payload)
        keep = [(k, v) for k, v in headers
                if k.lower() in ("etag", "last-modified", "content-range", "content-type",
                                 "accept-ranges")]
        if kind == "truncate" and len(body) > 1:
            self.log(status, len(body) // 2, "fault truncate")
            self.send_response(status)
            for k, v in keep:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return None
        length = dict((k.lower(), v) for k, v in headers).get("content-length") \
            if self.command == "HEAD" else None
        return self.reply(status, body, keep, note="fault " + kind if kind else "", length=length)

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = handle_any


def main():
    global A
    p = argparse.ArgumentParser()
    p.add_argument("upstream", type=int)
    p.add_argument("portfile")
    p.add_argument("log")
    p.add_argument("--key", action="append", default=[])
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--allow-anonymous", action="store_true")
    A = p.parse_args()
    A.keys = {}
    for k in A.key:
        parts = k.split(":")
        A.keys[parts[0]] = (parts[1], parts[2] if len(parts) > 2 else None)
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    with open(A.portfile + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(A.portfile + ".tmp", A.portfile)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
