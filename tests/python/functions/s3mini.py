"""A stdlib-only S3 client for test functions (the sandbox has no boto3 unless a function lists
it in requirements.txt): SigV4-signed GET and PUT with the function's own credentials.

Like botocore, it forwards the invocation's trace header (`_X_AMZN_TRACE_ID`) as
`X-Amzn-Trace-Id`, which is how Stratus, like Lambda, counts an event chain's depth.
"""

import datetime
import hashlib
import hmac
import os
import urllib.parse
import urllib.request


def _sign(key, text):
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def request(method, bucket, key, body=b""):
    endpoint = urllib.parse.urlsplit(os.environ["AWS_ENDPOINT_URL"])
    region = os.environ.get("AWS_REGION", "us-east-1")
    now = datetime.datetime.now(datetime.UTC)
    stamp, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    path = "/" + urllib.parse.quote(bucket) + "/" + urllib.parse.quote(key, safe="/~")
    headers = {"host": endpoint.netloc, "x-amz-content-sha256": "UNSIGNED-PAYLOAD", "x-amz-date": stamp}
    trace = os.environ.get("_X_AMZN_TRACE_ID")
    if trace:
        headers["x-amzn-trace-id"] = trace
    names = sorted(headers)
    canonical = "\n".join([method, path, "", *(f"{n}:{headers[n]}" for n in names), "",
                           ";".join(names), "UNSIGNED-PAYLOAD"])
    scope = f"{day}/{region}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    signing = _sign(("AWS4" + os.environ["AWS_SECRET_ACCESS_KEY"]).encode(), day)
    for part in (region, "s3", "aws4_request"):
        signing = _sign(signing, part)
    signature = hmac.new(signing, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={os.environ['AWS_ACCESS_KEY_ID']}/{scope}, "
                                f"SignedHeaders={';'.join(names)}, Signature={signature}")
    req = urllib.request.Request(endpoint.geturl().rstrip("/") + path, data=body if method == "PUT" else None,
                                 method=method, headers=headers)
    with urllib.request.urlopen(req, timeout=30) as res:
        return res.read()


def get(bucket, key):
    return request("GET", bucket, key)


def put(bucket, key, body):
    return request("PUT", bucket, key, body)


def records(event):
    """(bucket, key) of each S3 event record, with the key decoded as S3 encodes it."""
    for record in event["Records"]:
        s3 = record["s3"]
        yield s3["bucket"]["name"], urllib.parse.unquote_plus(s3["object"]["key"])
