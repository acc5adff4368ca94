"""sigv4_botocore: the SigV4 signature botocore computes for a request.

The independent reference of the storage tests: IceCache's signer
(lib/storage/sigv4.c) must produce exactly the Authorization header that
botocore's S3 signer produces for the same request at the same time.
Used by sigv4-proxy.py (every request of the S3 tests) and by
sigv4-expect.py (the signer's unit test).
"""
from urllib.parse import quote

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def s3_path(decoded):
    """A key path as botocore puts it in a URL: every byte but unreserved
    characters and '/' percent-encoded."""
    return quote(decoded.encode("utf-8", "surrogateescape"), safe="/~")


def sign(method, host, path, params, headers, region, access_key, secret_key, token, amz_date,
         scheme="http"):
    """The Authorization header and canonical request botocore makes.

    path is decoded; params a list of (name, value) decoded pairs (value ''
    for a parameter without value); headers the further headers to sign
    (Range, If-None-Match...), without Host and the x-amz-* ones that the
    signer adds itself. amz_date pins the clock (20240101T000000Z)."""
    url = "%s://%s%s" % (scheme, host, s3_path(path))
    req = AWSRequest(method=method, url=url, headers=dict(headers), params=dict(params))
    auth = S3SigV4Auth(Credentials(access_key, secret_key, token or None), "s3", region)
    # add_auth() reads the clock; these are its steps with the clock pinned.
    req.context["timestamp"] = amz_date
    auth._modify_request_before_signing(req)
    canonical = auth.canonical_request(req)
    sts = auth.string_to_sign(req, canonical)
    signature = auth.signature(sts, req)
    auth._inject_signature_to_request(req, signature)
    return req.headers["Authorization"], canonical
