#!/usr/bin/env python3
"""httpd.py: a small HTTP server for the fetch tests.

Usage: httpd.py DOCROOT LOG PORTFILE

Serves the files of DOCROOT with an ETag (a hash of the content) and a
Last-Modified (the file's mtime), answers If-None-Match / If-Modified-Since
with 304 and no body, and appends one line per request to LOG:
"METHOD PATH STATUS BYTES_OF_BODY_SENT". Query parameters shape the answer:
  cc=VALUE       send Cache-Control: VALUE
  expires=N      send Expires: now + N seconds (and Date)
  novalidator=1  send neither ETag nor Last-Modified
  status=N       answer with status N (a short error body)
  sleep=S        wait S seconds before answering
Special paths:
  /redirect?n=N&to=PATH   a chain of N 302 redirects ending at PATH
  /header?name=H          the value of request header H as the body
  POST to any path        "posted:" + the request body
The chosen port is written to PORTFILE once the server listens.
"""
import email.utils
import hashlib
import os
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DOCROOT, LOG, PORTFILE = sys.argv[1], sys.argv[2], sys.argv[3]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def record(self, status, nbytes):
        with open(LOG, "a") as f:
            f.write("%s %s %d %d\n" % (self.command, self.path, status, nbytes))

    def answer(self, status, body=b"", headers=()):
        # logged before the answer goes out: a client that has its answer
        # finds the line (tests count requests as soon as a program ends)
        self.record(status, 0 if status == 304 else len(body))
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 304 and self.command != "HEAD":
            self.wfile.write(body)

    def params(self):
        u = urllib.parse.urlsplit(self.path)
        return u.path, dict(urllib.parse.parse_qsl(u.query))

    def special(self, path, q):
        if "sleep" in q:
            time.sleep(float(q["sleep"]))
        if path == "/redirect":
            n = int(q.get("n", "1"))
            to = q.get("to", "/")
            loc = "/redirect?n=%d&to=%s" % (n - 1, urllib.parse.quote(to)) if n > 1 else to
            self.answer(302, b"moved\n", [("Location", loc)])
            return True
        if path == "/header":
            self.answer(200, (self.headers.get(q.get("name", ""), "") + "\n").encode())
            return True
        if "status" in q:
            self.answer(int(q["status"]), b"error page\n")
            return True
        return False

    def do_GET(self):
        path, q = self.params()
        if self.special(path, q):
            return
        file = os.path.join(DOCROOT, path.lstrip("/"))
        if not os.path.isfile(file):
            self.answer(404, b"not found\n")
            return
        with open(file, "rb") as f:
            body = f.read()
        headers = []
        etag = '"%s"' % hashlib.sha256(body).hexdigest()[:16]
        mtime = email.utils.formatdate(os.stat(file).st_mtime, usegmt=True)
        if q.get("novalidator") != "1":
            headers += [("ETag", etag), ("Last-Modified", mtime)]
        if "cc" in q:
            headers.append(("Cache-Control", q["cc"]))
        if "expires" in q:
            now = time.time()
            headers.append(("Date", email.utils.formatdate(now, usegmt=True)))
            headers.append(("Expires", email.utils.formatdate(now + int(q["expires"]), usegmt=True)))
        inm = self.headers.get("If-None-Match")
        if q.get("novalidator") != "1" and inm == etag:
            self.answer(304, headers=headers)
            return
        self.answer(200, body, headers)

    do_HEAD = do_GET

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(n)
        self.answer(200, b"posted:" + data + b"\n")


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(PORTFILE + ".tmp", PORTFILE)
server.serve_forever()
