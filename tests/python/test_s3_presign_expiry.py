"""Presigned URL validity (SigV4): S3 accepts X-Amz-Expires from 0 to 604800 seconds (seven days)
and refuses a URL past its expiry, all with 403 AccessDenied; a browser's preflight (OPTIONS) to a
presigned URL is a CORS preflight, not a signed request. Raw HTTP against the real binary."""

from __future__ import annotations

import time

import pytest

from stratus_testlib import error_code_of_xml, http_request

WEEK = 7 * 24 * 60 * 60


def presign(s3, bucket, method="get_object", expires=3600, **params):
    http_method = "GET" if method == "get_object" else "PUT"
    return s3.generate_presigned_url(ClientMethod=method, Params={"Bucket": bucket, "Key": "k", **params},
                                     ExpiresIn=expires, HttpMethod=http_method)


def test_urls_valid_up_to_a_week_work(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"hello")
    for expires in (1, 3600, WEEK):
        res = http_request(presign(s3, bucket, expires=expires))
        assert (res.status, res.body) == (200, b"hello")


@pytest.mark.parametrize("expires", [WEEK + 1, 609901, -7])
def test_expiry_out_of_range_is_access_denied(s3, bucket, expires):
    s3.put_object(Bucket=bucket, Key="k", Body=b"hello")
    res = http_request(presign(s3, bucket, expires=expires))
    assert res.status == 403, res.body
    assert error_code_of_xml(res.body) == "AccessDenied"
    assert b"X-Amz-Expires" in res.body


def test_an_expired_url_is_refused_and_writes_nothing(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"original")
    for url in (presign(s3, bucket, "put_object", expires=-1000), presign(s3, bucket, "put_object", expires=1)):
        time.sleep(2)  # the 1-second URL runs out
        res = http_request(url, method="PUT", data=b"overwritten")
        assert res.status == 403, res.body
        assert error_code_of_xml(res.body) == "AccessDenied"
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"original"


def test_expired_message_says_so(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"hello")
    url = presign(s3, bucket, expires=1)
    time.sleep(2)
    res = http_request(url)
    assert res.status == 403
    assert b"Request has expired" in res.body


@pytest.mark.parametrize("method", ["get_object", "put_object"])
def test_preflight_to_a_presigned_url_is_a_cors_preflight(s3, bucket, method):
    s3.put_object(Bucket=bucket, Key="k", Body=b"hello")
    url = presign(s3, bucket, method, expires=100000)
    http_method = "GET" if method == "get_object" else "PUT"
    # Without an Origin it is a bad preflight (400), not a failed signature (403).
    res = http_request(url, method="OPTIONS")
    assert res.status == 400, res.body
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["http://app.example"], "AllowedMethods": [http_method]}]})
    res = http_request(url, method="OPTIONS", headers={
        "Origin": "http://app.example", "Access-Control-Request-Method": http_method})
    assert res.status == 200, res.body
    assert res.headers["access-control-allow-origin"] == "http://app.example"
    refused = http_request(url, method="OPTIONS", headers={
        "Origin": "http://other.example", "Access-Control-Request-Method": http_method})
    assert refused.status == 403
    # The preflight changed nothing.
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"hello"
