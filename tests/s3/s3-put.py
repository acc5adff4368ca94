#!/usr/bin/env python3
"""s3-put.py: put test objects straight into the local S3 server.

Usage: s3-put.py PORT BUCKET DIR [PREFIX]    every file below DIR, as
                                             PREFIX + its path under DIR
       s3-put.py PORT BUCKET --many N PREFIX N small objects PREFIX00000...
Writes to s3rver directly (not through the verifying proxy): seeding is
not what the tests check. A table's version-hint.text goes last, so a
reader polling the table never sees a hint naming a file not yet there.
"""
import http.client
import os
import sys
from urllib.parse import quote


def put(conn, bucket, key, data):
    conn.request("PUT", "/%s/%s" % (bucket, quote(key, safe="/~")), body=data)
    r = conn.getresponse()
    r.read()
    if r.status != 200:
        sys.exit("s3-put: %s: HTTP %d" % (key, r.status))


def main():
    port, bucket = int(sys.argv[1]), sys.argv[2]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    if sys.argv[3] == "--many":
        n, prefix = int(sys.argv[4]), sys.argv[5]
        for i in range(n):
            put(conn, bucket, "%s%05d" % (prefix, i), b"object %d\n" % i)
        return
    top, prefix = sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else ""
    paths = [os.path.join(d, name) for d, _, files in os.walk(top) for name in files]
    for path in sorted(paths, key=lambda p: (os.path.basename(p) == "version-hint.text", p)):
        with open(path, "rb") as f:
            put(conn, bucket, prefix + os.path.relpath(path, top), f.read())


main()
