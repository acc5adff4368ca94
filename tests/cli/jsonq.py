#!/usr/bin/env python3
"""jsonq: print a Python expression over each JSON line of stdin, for tests.

Usage: jsonq.py EXPR [--all | --doc]
  EXPR is evaluated with `r` bound to each record (or `rs` to the list of all
  records with --all, or `r` to stdin read as one JSON document with --doc). Integers stay exact (jq 1.6 rounds 64-bit ids).
  Output: str() of the value, one per line; None prints as null.
"""
import json
import sys


def show(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        return json.dumps(v, separators=(",", ":"))
    return str(v)


def main():
    expr = sys.argv[1]
    if "--doc" in sys.argv[2:]:
        print(show(eval(expr, {"r": json.load(sys.stdin)})))
        return
    records = [json.loads(line) for line in sys.stdin if line.strip()]
    if "--all" in sys.argv[2:]:
        print(show(eval(expr, {"rs": records})))
        return
    for r in records:
        print(show(eval(expr, {"r": r})))


try:
    main()
except BrokenPipeError:
    sys.stderr.close()
