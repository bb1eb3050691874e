"""CORS: Put/Get/DeleteBucketCors through boto3, browsers' preflights (unsigned OPTIONS) and the
Access-Control-* headers of actual responses, over raw HTTP against the real binary."""

from __future__ import annotations

import pytest

from stratus_testlib import error_code_of_xml, http_request, raises_s3

RULES = [
    {"AllowedOrigins": ["http://*.example.com"], "AllowedMethods": ["PUT", "POST"],
     "AllowedHeaders": ["content-type", "x-amz-*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 600},
    {"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "HEAD"]},
]


def preflight(server, bucket: str, origin: str | None, method: str | None, headers: str | None = None):
    sent = {}
    if origin:
        sent["Origin"] = origin
    if method:
        sent["Access-Control-Request-Method"] = method
    if headers:
        sent["Access-Control-Request-Headers"] = headers
    return http_request(f"{server.endpoint}/{bucket}/photo.jpg", method="OPTIONS", headers=sent)


def test_rules_round_trip_and_answer_preflights(server, s3, bucket):
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == RULES

    res = preflight(server, bucket, "http://app.example.com", "PUT", "Content-Type, X-Amz-Date")
    assert res.status == 200, res.body
    assert res.headers["access-control-allow-origin"] == "http://app.example.com"
    assert res.headers["access-control-allow-methods"] == "PUT, POST"
    assert res.headers["access-control-allow-headers"] == "content-type, x-amz-date"
    assert res.headers["access-control-expose-headers"] == "ETag"
    assert res.headers["access-control-max-age"] == "600"
    assert "Origin" in res.headers["vary"]

    res = preflight(server, bucket, "http://anywhere.test", "GET")
    assert res.status == 200 and res.headers["access-control-allow-origin"] == "*"

    for origin, method, headers in [("http://evil.test", "PUT", None),                 # origin
                                    ("http://app.example.com", "DELETE", None),        # method
                                    ("http://app.example.com", "PUT", "authorization")]:  # header
        res = preflight(server, bucket, origin, method, headers)
        assert res.status == 403 and error_code_of_xml(res.body) == "CORSResponse", (origin, method)
        assert "access-control-allow-origin" not in res.headers


def test_preflights_without_rules_or_fields(server, s3, bucket):
    res = preflight(server, bucket, "http://a.test", "GET")
    assert res.status == 403 and error_code_of_xml(res.body) == "CORSResponse"
    assert b"CORS is not enabled for this bucket" in res.body
    assert preflight(server, bucket, None, "GET").status == 400
    assert preflight(server, bucket, "http://a.test", None).status == 400
    with raises_s3("NoSuchCORSConfiguration", 404):
        s3.get_bucket_cors(Bucket=bucket)


def test_actual_responses_carry_the_matching_rule(server, s3, bucket):
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    s3.put_object(Bucket=bucket, Key="photo.jpg", Body=b"jpeg", ACL="public-read")
    url = f"{server.endpoint}/{bucket}/photo.jpg"
    res = http_request(url, headers={"Origin": "http://site.test"})
    assert res.status == 200 and res.body == b"jpeg"
    assert res.headers["access-control-allow-origin"] == "*"
    assert res.headers["access-control-allow-methods"] == "GET, HEAD"
    assert "Origin" in res.headers["vary"]
    # No Origin, no CORS headers; a method no rule allows for this origin, none either.
    assert "access-control-allow-origin" not in http_request(url).headers
    s3.delete_bucket_cors(Bucket=bucket)
    assert "access-control-allow-origin" not in http_request(url, headers={"Origin": "http://site.test"}).headers
    assert preflight(server, bucket, "http://a.test", "GET").status == 403


@pytest.mark.parametrize("rule, message", [
    ({"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}, "Unsupported method is PATCH"),
    ({"AllowedOrigins": ["http://*.*.example.com"], "AllowedMethods": ["GET"]}, "more than one wildcard"),
])
def test_invalid_rules_are_refused_and_change_nothing(s3, bucket, rule, message):
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    with raises_s3("InvalidRequest", 400) as info:
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [rule]})
    assert message in info.value.response["Error"]["Message"]
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == RULES


def test_other_projects_cannot_read_or_change_rules(server, s3, bucket):
    other = server.client(server.create_key("cors-other", "member"))
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    with raises_s3("AccessDenied", 403):
        other.get_bucket_cors(Bucket=bucket)
    with raises_s3("AccessDenied", 403):
        other.delete_bucket_cors(Bucket=bucket)
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == RULES
