#!/usr/bin/env python3
"""catalog-server.py: an Iceberg REST catalog for the tests (standard library
http.server), serving the tables the tests write on disk with ice-mktable.

Usage: catalog-server.py WAREHOUSE_DIR PORTFILE LOG [options]

Tables are the folders under WAREHOUSE_DIR holding a metadata/ folder; the
folders above them are namespaces (WAREHOUSE_DIR/a/b/orders is the table
orders of the namespace a.b). The current metadata is the highest-numbered
*.metadata.json of the table's metadata/ folder.

Options:
  --prefix P         sent as overrides.prefix; paths are /v1/P/...
  --warehouse W      the only warehouse known (GET /v1/config?warehouse=W)
  --separator S      advertised as namespace-separator (URL-encoded, e.g. %2E);
                     %1F is always understood too
  --page-size N      the largest page of a paginated listing (default 2)
  --client ID:SECRET an OAuth2 client (repeatable): auth is then required
  --token T          a static bearer token accepted (repeatable): auth required
  --expires-in S     lifetime of the tokens issued (default 3600)
  --no-etag          loadTable sends no ETag
  --spec PATH        the OpenAPI yaml to validate every JSON answer against
  --log-header H     add "H=VALUE" of request header H to each log line
  --s3-root URI      the warehouse is a copy of the tables in object storage
                     under URI (s3://lake/wh): metadata-location is given
                     there (the tests put the files with s3_put)

The protocol: GET /v1/config, GET .../namespaces (?parent=, pagination),
GET .../namespaces/NS/tables (pagination), GET .../namespaces/NS/tables/T
(?snapshots=all|refs, If-None-Match, X-Iceberg-Access-Delegation), POST
/v1/oauth/tokens (client credentials, form or basic auth). Pagination: a
request with pageToken (even empty) gets pages of at most min(pageSize,
--page-size) items; without pageToken everything at once.

Control (tests only, never authenticated), POST with a JSON body:
  /__ctl/fail   {"match": "substring of the path", "status": 503, "times": 1,
                 "retry_after": "1", "malformed": false}: the next `times`
                 matching requests fail so (malformed: a 200 whose body is not
                 JSON); status 0 with "malformed" true is the same
  /__ctl/vend   {"storage-credentials": [...], "config": {...}}: sent with
                 loadTable when vended credentials are asked for
  /__ctl/expire {"expires_in": S, "status": 401|419}: lifetime of tokens issued
                 from now, and the status an expired token gets
  /__ctl/revoke {}: every token issued so far becomes invalid; with
                 {"expire": true} they become expired instead
  /__ctl/reset  {}: no failures pending
The LOG gets one line per request:
  "METHOD PATH STATUS BYTES inm=IF-NONE-MATCH deleg=HEADER auth=ok|none|bad|expired t=MS"
and "INVALID SCHEMA PATH: why" for every answer that breaks the spec's schemas.
The chosen port is written to PORTFILE once the server listens.
"""
import argparse
import base64
import gzip
import hashlib
import json
import os
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ap = argparse.ArgumentParser()
ap.add_argument("warehouse_dir")
ap.add_argument("portfile")
ap.add_argument("log")
ap.add_argument("--prefix", default="")
ap.add_argument("--warehouse")
ap.add_argument("--separator")
ap.add_argument("--page-size", type=int, default=2)
ap.add_argument("--client", action="append", default=[])
ap.add_argument("--token", action="append", default=[])
ap.add_argument("--expires-in", type=int, default=3600)
ap.add_argument("--no-etag", action="store_true")
ap.add_argument("--spec")
ap.add_argument("--log-header", action="append", default=[])
ap.add_argument("--s3-root")
ARGS = ap.parse_args()

LOCK = threading.Lock()
STATE = {
    "fail": [],            # pending failure rules
    "vend": None,          # storage-credentials and config to vend
    "tokens": {},          # issued token -> expiry (monotonic s)
    "expires_in": ARGS.expires_in,
    "expired_status": 401,
    "serial": 0,
}
CLIENTS = dict(c.split(":", 1) for c in ARGS.client)
AUTH_REQUIRED = bool(CLIENTS or ARGS.token)


# ---- validation against the spec's component schemas -------------------------

def openapi_to_jsonschema(node):
    """The yaml's schemas as JSON Schema 2020-12: OpenAPI's leftover
    `nullable: true` becomes a null alternative."""
    if isinstance(node, list):
        return [openapi_to_jsonschema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: openapi_to_jsonschema(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable") is True:
        return {"anyOf": [out, {"type": "null"}]}
    return out


class Validator:
    def __init__(self, spec):
        self.root = None
        self.why_not = None
        if not spec or not os.path.exists(spec):
            self.why_not = "the REST spec (../shared/iceberg-rest) is absent: answers not validated"
            return
        try:
            import jsonschema
            import yaml
        except ImportError as e:
            self.why_not = "python3-jsonschema or python3-yaml missing (%s): answers not validated" % e
            return
        with open(spec) as f:
            doc = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        self.root = {"components": {"schemas": openapi_to_jsonschema(doc["components"]["schemas"])}}
        self.jsonschema = jsonschema
        self.cache = {}

    def check(self, schema, body):
        """None when valid (or not validating), else the first error."""
        if self.root is None:
            return None
        v = self.cache.get(schema)
        if v is None:
            root = dict(self.root)
            root["$ref"] = "#/components/schemas/" + schema
            v = self.jsonschema.Draft202012Validator(root)
            self.cache[schema] = v
        err = next(iter(v.iter_errors(body)), None)
        if err is None:
            return None
        return "%s at %s" % (err.message[:200], "/".join(str(p) for p in err.absolute_path))


VALIDATOR = Validator(ARGS.spec)
if VALIDATOR.why_not:
    print("catalog-server: " + VALIDATOR.why_not, file=sys.stderr)


# ---- the tables on disk --------------------------------------------------------

def is_table(d):
    return os.path.isdir(os.path.join(d, "metadata"))


def ns_dir(levels):
    d = os.path.join(ARGS.warehouse_dir, *levels)
    return d if levels and os.path.isdir(d) and not is_table(d) else None


def children(levels):
    """(namespaces, tables) directly under a namespace ([] = the top)."""
    d = os.path.join(ARGS.warehouse_dir, *levels)
    nss, tables = [], []
    for name in sorted(os.listdir(d)):
        p = os.path.join(d, name)
        if not os.path.isdir(p) or name.startswith("."):
            continue
        (tables if is_table(p) else nss).append(name)
    return nss, tables


def metadata_version(name):
    m = re.match(r"v?(\d+)([.-].*)?\.metadata\.json(\.gz)?$", name)
    return int(m.group(1)) if m else -1


def current_metadata(table_dir):
    md = os.path.join(table_dir, "metadata")
    names = [n for n in os.listdir(md) if metadata_version(n) >= 0]
    if not names:
        return None
    best = max(names, key=metadata_version)
    return os.path.join(md, best)


def metadata_location(path):
    """Where the metadata file is for clients: on disk, or in object storage."""
    if not ARGS.s3_root:
        return os.path.abspath(path)
    rel = os.path.relpath(path, ARGS.warehouse_dir)
    return ARGS.s3_root.rstrip("/") + "/" + rel.replace(os.sep, "/")


def read_metadata(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        return json.loads(f.read())


def refs_only(md):
    """The metadata with only the snapshots some ref (or the current) names."""
    keep = {r["snapshot-id"] for r in (md.get("refs") or {}).values()}
    if md.get("current-snapshot-id") is not None:
        keep.add(md["current-snapshot-id"])
    out = dict(md)
    out["snapshots"] = [s for s in md.get("snapshots", []) if s["snapshot-id"] in keep]
    return out


# ---- the handler ---------------------------------------------------------------

def error_body(status, kind, message):
    return {"error": {"message": message, "type": kind, "code": status}}


ERROR_TYPES = {400: "BadRequestException", 401: "NotAuthorizedException",
               403: "ForbiddenException", 404: "NoSuchTableException",
               419: "AuthenticationTimeoutException", 429: "TooManyRequestsException",
               500: "InternalServerError", 503: "ServiceUnavailableException"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    # -- answering and logging --
    def record(self, status, nbytes, auth):
        line = "%s %s %d %d inm=%s deleg=%s auth=%s t=%d\n" % (
            self.command, self.path, status, nbytes,
            self.headers.get("If-None-Match", "-").replace(" ", "_"),
            self.headers.get("X-Iceberg-Access-Delegation", "-"), auth,
            int(time.monotonic() * 1000))
        for h in ARGS.log_header:
            line = line[:-1] + " %s=%s\n" % (h, self.headers.get(h, "-"))
        with LOCK, open(ARGS.log, "a") as f:
            f.write(line)

    def send(self, status, body=None, schema=None, headers=(), raw=None):
        if raw is not None:
            data = raw
        elif body is not None:
            if schema:
                why = VALIDATOR.check(schema, body)
                if why:
                    with LOCK, open(ARGS.log, "a") as f:
                        f.write("INVALID %s %s: %s\n" % (schema, self.path, why))
                    print("catalog-server: INVALID %s %s: %s" % (schema, self.path, why),
                          file=sys.stderr)
            data = json.dumps(body).encode()
        else:
            data = b""
        # logged before the answer goes out: a client that has its answer
        # finds the line (tests count requests as soon as a program ends)
        self.record(status, len(data) if status != 304 else 0, self.auth_state)
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if status != 304:
            if data:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if status != 304:
            self.wfile.write(data)

    def fail(self, status, message, kind=None):
        self.send(status, error_body(status, kind or ERROR_TYPES.get(status, "Exception"), message),
                  "IcebergErrorResponse")

    # -- failures on demand --
    def injected(self):
        with LOCK:
            for rule in STATE["fail"]:
                if rule["match"] in self.path and rule["times"] > 0:
                    rule["times"] -= 1
                    return dict(rule)
        return None

    def apply_fault(self, rule):
        if rule.get("malformed"):
            self.send(200, raw=b'{"this is": not json')
            return
        status = rule["status"]
        headers = [("Retry-After", rule["retry_after"])] if rule.get("retry_after") else []
        self.send(status, error_body(status, ERROR_TYPES.get(status, "Exception"), "injected failure"),
                  "IcebergErrorResponse", headers)

    # -- auth --
    def check_auth(self):
        """None when the request may go on, else the status to refuse with."""
        if not AUTH_REQUIRED:
            self.auth_state = "none"
            return None
        h = self.headers.get("Authorization", "")
        if not h.startswith("Bearer "):
            self.auth_state = "none"
            return 401
        tok = h[7:]
        if tok in ARGS.token:
            self.auth_state = "ok"
            return None
        with LOCK:
            exp = STATE["tokens"].get(tok)
            expired_status = STATE["expired_status"]
        if exp is None:
            self.auth_state = "bad"
            return 401
        if time.monotonic() >= exp:
            self.auth_state = "expired"
            return expired_status
        self.auth_state = "ok"
        return None

    def token_endpoint(self):
        n = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(n).decode(), keep_blank_values=True)
        get = lambda k: (form.get(k) or [None])[0]
        cid, secret = get("client_id"), get("client_secret")
        basic = self.headers.get("Authorization", "")
        if basic.startswith("Basic "):
            cid, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
        self.auth_state = "scope=%s" % get("scope")
        if get("grant_type") != "client_credentials":
            self.send(400, {"error": "unsupported_grant_type"}, "OAuthError")
            return
        if cid not in CLIENTS or CLIENTS[cid] != secret:
            self.send(401, {"error": "invalid_client", "error_description": "unknown client or wrong secret"},
                      "OAuthError")
            return
        with LOCK:
            STATE["serial"] += 1
            tok = "tok%d-%s" % (STATE["serial"], hashlib.sha256(os.urandom(16)).hexdigest()[:16])
            life = STATE["expires_in"]
            STATE["tokens"][tok] = time.monotonic() + life
        self.send(200, {"access_token": tok, "token_type": "bearer", "expires_in": life,
                        "issued_token_type": "urn:ietf:params:oauth:token-type:access_token"},
                  "OAuthTokenResponse")

    # -- control --
    def control(self, what):
        n = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(n) or b"{}")
        with LOCK:
            if what == "fail":
                body.setdefault("times", 1)
                body.setdefault("status", 0)
                STATE["fail"].append(body)
            elif what == "vend":
                STATE["vend"] = body
            elif what == "expire":
                STATE["expires_in"] = body.get("expires_in", STATE["expires_in"])
                STATE["expired_status"] = body.get("status", STATE["expired_status"])
            elif what == "revoke" and body.get("expire"):
                for tok in STATE["tokens"]:
                    STATE["tokens"][tok] = 0
            elif what == "revoke":
                STATE["tokens"].clear()
            elif what == "reset":
                STATE["fail"] = []
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    # -- the catalog --
    def do_POST(self):
        self.auth_state = "-"
        path = urllib.parse.urlsplit(self.path).path
        if path.startswith("/__ctl/"):
            self.control(path[7:])
            return
        rule = self.injected()
        if rule:
            self.apply_fault(rule)
            return
        if path == "/v1/oauth/tokens":
            self.token_endpoint()
            return
        self.fail(405 if path.startswith("/v1/") else 404, "not served by the test catalog")

    def do_GET(self):
        self.auth_state = "-"
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        refused = self.check_auth()
        if refused:
            self.fail(refused, "authentication required" if refused == 401 else "token expired")
            return
        rule = self.injected()
        if rule:
            self.apply_fault(rule)
            return
        if url.path == "/v1/config":
            self.config(query)
            return
        root = "/v1/" + (ARGS.prefix + "/" if ARGS.prefix else "")
        if not url.path.startswith(root):
            self.fail(404, "no such path (prefix?)", "NoSuchPathException")
            return
        parts = url.path[len(root):].split("/")
        if parts == ["namespaces"]:
            self.list_namespaces(query)
        elif len(parts) == 3 and parts[0] == "namespaces" and parts[2] == "tables":
            self.list_tables(self.namespace(parts[1]), query)
        elif len(parts) == 4 and parts[0] == "namespaces" and parts[2] == "tables":
            self.load_table(self.namespace(parts[1]), urllib.parse.unquote(parts[3]), query)
        else:
            self.fail(404, "no such path", "NoSuchPathException")

    def namespace(self, raw):
        """The levels of an encoded namespace: the advertised separator and
        %1F both split."""
        seps = ["%1F", "%1f"] + ([ARGS.separator] if ARGS.separator else [])
        levels = [raw]
        for sep in seps:
            levels = [p for l in levels for p in l.split(sep)]
        return [urllib.parse.unquote(l) for l in levels]

    def config(self, query):
        wh = (query.get("warehouse") or [None])[0]
        if ARGS.warehouse and wh != ARGS.warehouse:
            self.fail(404, "no warehouse %s" % wh, "NoSuchWarehouseException")
            return
        overrides = {}
        if ARGS.prefix:
            overrides["prefix"] = ARGS.prefix
        if ARGS.separator:
            overrides["namespace-separator"] = ARGS.separator
        self.send(200, {"defaults": {"clients": "4"}, "overrides": overrides,
                        "endpoints": ["GET /v1/{prefix}/namespaces",
                                      "GET /v1/{prefix}/namespaces/{namespace}/tables",
                                      "GET /v1/{prefix}/namespaces/{namespace}/tables/{table}"]},
                  "CatalogConfig")

    def page(self, items, query):
        """(items of this page, next-page-token or None)."""
        if "pageToken" not in query:
            return items, None
        start = int(query["pageToken"][0][4:] or 0) if query["pageToken"][0] else 0
        size = ARGS.page_size
        if "pageSize" in query:
            size = min(size, int(query["pageSize"][0]))
        end = start + size
        return items[start:end], ("page%d" % end if end < len(items) else None)

    def list_namespaces(self, query):
        parent = (query.get("parent") or [""])[0]
        levels = self.namespace(urllib.parse.quote(parent, safe="")) if parent else []
        if levels and not ns_dir(levels):
            self.fail(404, "no namespace %s" % ".".join(levels), "NoSuchNamespaceException")
            return
        nss, _ = children(levels)
        items, nxt = self.page([levels + [n] for n in nss], query)
        body = {"namespaces": items}
        if "pageToken" in query:
            body["next-page-token"] = nxt
        self.send(200, body, "ListNamespacesResponse")

    def list_tables(self, levels, query):
        if not ns_dir(levels):
            self.fail(404, "no namespace %s" % ".".join(levels), "NoSuchNamespaceException")
            return
        _, tables = children(levels)
        items, nxt = self.page([{"namespace": levels, "name": t} for t in tables], query)
        body = {"identifiers": items}
        if "pageToken" in query:
            body["next-page-token"] = nxt
        self.send(200, body, "ListTablesResponse")

    def load_table(self, levels, name, query):
        d = os.path.join(ARGS.warehouse_dir, *levels, name) if ns_dir(levels) else None
        loc = current_metadata(d) if d and is_table(d) else None
        if not loc:
            self.fail(404, "no table %s" % ".".join(levels + [name]), "NoSuchTableException")
            return
        mode = (query.get("snapshots") or ["all"])[0]
        if mode not in ("all", "refs"):
            self.fail(400, "snapshots must be all or refs")
            return
        etag = '"%s"' % hashlib.sha256(("%s|%s|%d" % (loc, mode, os.stat(loc).st_mtime_ns)).encode()).hexdigest()[:32]
        headers = [] if ARGS.no_etag else [("ETag", etag)]
        if not ARGS.no_etag and self.headers.get("If-None-Match") == etag:
            self.send(304, headers=headers)
            return
        md = read_metadata(loc)
        body = {"metadata-location": metadata_location(loc), "metadata": refs_only(md) if mode == "refs" else md,
                "config": {}}
        deleg = self.headers.get("X-Iceberg-Access-Delegation", "")
        with LOCK:
            vend = STATE["vend"]
        if vend and "vended-credentials" in deleg:
            body["config"] = dict(vend.get("config", {}))
            if "storage-credentials" in vend:
                body["storage-credentials"] = vend["storage-credentials"]
        self.send(200, body, "LoadTableResult", headers)


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    tmp = ARGS.portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, ARGS.portfile)
    srv.serve_forever()


if __name__ == "__main__":
    main()
