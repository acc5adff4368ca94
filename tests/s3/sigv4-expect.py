#!/usr/bin/env python3
"""sigv4-expect.py: botocore's signatures for the signer's unit test.

Usage: sigv4-expect.py CASES.jsonl
Each input line is a JSON object: method, host, path (decoded), query (a
list of [name, value-or-null]), headers (an object), region, access_key,
secret_key, token (or null), amz_date. Each output line is a JSON object:
path (as botocore encodes it in the URL), authorization, canonical_request.
Exits 2 when botocore cannot be imported (the test then skips).
"""
import json
import sys

try:
    from sigv4_botocore import s3_path, sign
except ImportError as e:
    print("botocore unavailable: %s" % e, file=sys.stderr)
    sys.exit(2)

for line in open(sys.argv[1], encoding="utf-8", errors="surrogateescape"):
    c = json.loads(line)
    params = [(n, "" if v is None else v) for n, v in c["query"]]
    auth, canonical = sign(c["method"], c["host"], c["path"], params, c["headers"],
                           c["region"], c["access_key"], c["secret_key"], c.get("token"),
                           c["amz_date"])
    print(json.dumps({"path": s3_path(c["path"]), "authorization": auth,
                      "canonical_request": canonical}))
