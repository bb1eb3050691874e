"""The console's session API and cookie authentication of the native API, over plain HTTP
against the real server: sign-in, CSRF on every state-changing request, sign-out, roles and
tenancy through a session, and the security headers on the console's files."""

from __future__ import annotations

import json
import time

from stratus_testlib import http_request, unique_bucket

SESSION = "/console/api/session"


def sign_in(server, creds):
    """Signs in; returns (Cookie header value, session document)."""
    body = json.dumps({"access_key_id": creds.access_key_id, "secret_access_key": creds.secret_access_key})
    result = http_request(server.endpoint + SESSION, "POST", body.encode(), {"Content-Type": "application/json"})
    assert result.status == 200, result.body
    set_cookie = result.headers["set-cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie and "Path=/" in set_cookie
    assert "Secure" not in set_cookie, "plain http: a Secure cookie would never come back"
    cookie = set_cookie.split(";", 1)[0]
    assert cookie.startswith("stratus_session=") and len(cookie.split("=", 1)[1]) == 64
    return cookie, result.json()


def call(server, method, path, cookie=None, csrf=None, data=None):
    headers = {}
    if cookie:
        headers["Cookie"] = cookie
    if csrf is not None:
        headers["X-CSRF-Token"] = csrf
    return http_request(server.endpoint + path, method, data, headers)


def bucket_names(server, token):
    listing = http_request(server.endpoint + "/v1/buckets", headers={"Authorization": f"Bearer {token}"})
    return [b["name"] for b in listing.json()["buckets"]]


def test_console_files_are_served_with_security_headers(server):
    page = http_request(server.endpoint + "/", headers={"Accept": "text/html,*/*;q=0.8"})
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    assert b'<script type="module" src="/console/js/app.js">' in page.body
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "DENY"
    script = http_request(server.endpoint + "/console/js/api.js")
    assert script.status == 200 and script.headers["content-type"].startswith("text/javascript")
    assert b"X-CSRF-Token" in script.body
    assert http_request(server.endpoint + "/console/").body == page.body
    # Without asking for HTML, `GET /` is still S3's anonymous ListBuckets, refused in S3's XML.
    sdk = http_request(server.endpoint + "/")
    assert sdk.status == 403 and b"AccessDenied" in sdk.body
    missing = http_request(server.endpoint + "/console/js/nope.js")
    assert missing.status == 404 and missing.headers["content-type"] == "application/problem+json"
    # Anonymous S3 requests elsewhere are still S3's, in S3's XML: NoSuchBucket for a bucket that
    # does not exist (as AWS answers), AccessDenied for one that is not public.
    anonymous = http_request(server.endpoint + "/some-bucket/key")
    assert anonymous.status == 404 and b"NoSuchBucket" in anonymous.body
    private = unique_bucket("private")
    server.client().create_bucket(Bucket=private)
    denied = http_request(f"{server.endpoint}/{private}/key")
    assert denied.status == 403 and b"AccessDenied" in denied.body


def test_bad_credentials_are_refused_slowly_and_create_no_session(server):
    admin = server.admin
    for key_id, secret in [(admin.access_key_id, "wrong"), ("SKNOSUCHKEY", admin.secret_access_key), ("", "")]:
        started = time.monotonic()
        body = json.dumps({"access_key_id": key_id, "secret_access_key": secret}).encode()
        result = http_request(server.endpoint + SESSION, "POST", body, {"Content-Type": "application/json"})
        assert result.status == 401, result.body
        assert result.headers["content-type"] == "application/problem+json"
        assert "set-cookie" not in result.headers
        assert time.monotonic() - started >= 0.25
    malformed = http_request(server.endpoint + SESSION, "POST", b"{not json", {"Content-Type": "application/json"})
    assert malformed.status == 400 and malformed.headers["content-type"] == "application/problem+json"
    none = call(server, "GET", SESSION, cookie="stratus_session=" + "0" * 64)
    assert none.status == 401 and none.headers["content-type"] == "application/problem+json"


def test_session_describes_the_key_and_authenticates_the_native_api(server):
    creds = server.create_key(unique_bucket("sess"), "member")
    cookie, doc = sign_in(server, creds)
    assert doc["project"] == creds.project and doc["role"] == "member"
    assert doc["access_key_id"] == creds.access_key_id and doc["operator"] is False
    assert len(doc["csrf_token"]) == 64
    again = call(server, "GET", SESSION, cookie)
    assert again.status == 200 and again.json() == doc
    listing = call(server, "GET", "/v1/buckets", cookie)
    assert listing.status == 200 and listing.json() == {"buckets": []}
    name = unique_bucket("cookie")
    created = call(server, "PUT", f"/v1/buckets/{name}", cookie, doc["csrf_token"])
    assert created.status == 201, created.body
    assert name in bucket_names(server, creds.token)
    operator_cookie, operator_doc = sign_in(server, server.admin)
    assert operator_doc["operator"] is True and operator_doc["role"] == "admin"
    assert call(server, "GET", "/v1/keys", operator_cookie).status == 200


def test_missing_or_wrong_csrf_token_is_403_and_changes_nothing(server):
    creds = server.create_key(unique_bucket("csrf"), "member")
    cookie, doc = sign_in(server, creds)
    name = unique_bucket("csrf")
    for token in (None, "", "0" * 64, doc["csrf_token"][:-1]):
        refused = call(server, "PUT", f"/v1/buckets/{name}", cookie, token)
        assert refused.status == 403, refused.body
        assert refused.headers["content-type"] == "application/problem+json"
        assert "X-CSRF-Token" in refused.json()["detail"]
    assert name not in bucket_names(server, creds.token)
    # Another session's token is not this session's.
    _, other_doc = sign_in(server, creds)
    assert call(server, "PUT", f"/v1/buckets/{name}", cookie, other_doc["csrf_token"]).status == 403
    assert name not in bucket_names(server, creds.token)
    # Sign-out needs the token too.
    assert call(server, "DELETE", SESSION, cookie).status == 403
    assert call(server, "GET", SESSION, cookie).status == 200
    # A bearer request needs no CSRF token: it is not an ambient credential.
    bearer = http_request(server.endpoint + f"/v1/buckets/{name}", "PUT",
                          headers={"Authorization": f"Bearer {creds.token}"})
    assert bearer.status == 201


def test_logout_and_key_deletion_end_the_session(server):
    creds = server.create_key(unique_bucket("out"), "member")
    cookie, doc = sign_in(server, creds)
    out = call(server, "DELETE", SESSION, cookie, doc["csrf_token"])
    assert out.status == 204 and "Max-Age=0" in out.headers["set-cookie"]
    assert call(server, "GET", SESSION, cookie).status == 401
    assert call(server, "GET", "/v1/buckets", cookie).status == 401

    doomed = server.create_key(creds.project, "member")
    cookie2, _ = sign_in(server, doomed)
    assert call(server, "GET", "/v1/buckets", cookie2).status == 200
    deleted = http_request(server.endpoint + f"/v1/keys/{doomed.access_key_id}", "DELETE",
                           headers={"Authorization": f"Bearer {server.admin.token}"})
    assert deleted.status == 204
    assert call(server, "GET", "/v1/buckets", cookie2).status == 401
    assert call(server, "GET", SESSION, cookie2).status == 401


def test_read_only_session_cannot_write(server):
    project = unique_bucket("ro")
    reader = server.create_key(project, "read-only")
    cookie, doc = sign_in(server, reader)
    assert doc["role"] == "read-only"
    assert call(server, "GET", "/v1/buckets", cookie).status == 200
    name = unique_bucket("ro")
    refused = call(server, "PUT", f"/v1/buckets/{name}", cookie, doc["csrf_token"])
    assert refused.status == 403 and refused.headers["content-type"] == "application/problem+json"
    member = server.create_key(project, "member")
    assert name not in bucket_names(server, member.token)


def test_another_projects_data_is_invisible_through_a_session(server):
    owner = server.create_key(unique_bucket("own"), "member")
    name = unique_bucket("priv")
    assert http_request(server.endpoint + f"/v1/buckets/{name}", "PUT",
                        headers={"Authorization": f"Bearer {owner.token}"}).status == 201
    put = http_request(server.endpoint + f"/v1/buckets/{name}/objects/secret.txt", "PUT", b"classified",
                       {"Authorization": f"Bearer {owner.token}"})
    assert put.status in (200, 201), put.body
    stranger = server.create_key(unique_bucket("str"), "admin")
    cookie, doc = sign_in(server, stranger)
    assert name not in [b["name"] for b in call(server, "GET", "/v1/buckets", cookie).json()["buckets"]]
    read = call(server, "GET", f"/v1/buckets/{name}/objects/secret.txt", cookie)
    assert read.status in (403, 404) and b"classified" not in read.body
    delete = call(server, "DELETE", f"/v1/buckets/{name}/objects/secret.txt", cookie, doc["csrf_token"])
    assert delete.status in (403, 404)
    still = http_request(server.endpoint + f"/v1/buckets/{name}/objects/secret.txt",
                         headers={"Authorization": f"Bearer {owner.token}"})
    assert still.status == 200 and still.body == b"classified"


def test_cost_comparison_endpoint(server):
    cookie, doc = sign_in(server, server.admin)
    params = {"synthetic": "constant", "rate": 5, "service_ms": 120, "memory_mb": 512, "days": 7}
    result = call(server, "POST", "/v1/cost/compare", cookie, doc["csrf_token"], json.dumps(params).encode())
    assert result.status == 200, result.body
    body = result.json()
    assert body["serverless"]["usd"] > 0 and body["always_on"]["usd"] > 0
    assert abs(body["trace"]["mean_rate"] - 5) < 0.01
    bad = call(server, "POST", "/v1/cost/compare", cookie, doc["csrf_token"],
               json.dumps({**params, "synthetic": "sideways"}).encode())
    assert bad.status == 400 and bad.headers["content-type"] == "application/problem+json"


def test_queues_and_topics_are_listed_per_project(server, sqs, sns):
    name = unique_bucket("cq")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="waiting")
    arn = sns.create_topic(Name=name)["TopicArn"]
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])
    cookie, _ = sign_in(server, server.admin)
    queues = call(server, "GET", "/v1/queues", cookie)
    assert queues.status == 200, queues.body
    mine = [q for q in queues.json()["queues"] if q["name"] == name]
    assert len(mine) == 1 and mine[0]["visible"] == 1 and mine[0]["fifo"] is False
    topics = call(server, "GET", "/v1/topics", cookie).json()["topics"]
    topic = next(t for t in topics if t["arn"] == arn)
    assert topic["name"] == name and [s["protocol"] for s in topic["subscriptions"]] == ["sqs"]
    stranger = server.create_key(unique_bucket("cqs"), "admin")
    other_cookie, _ = sign_in(server, stranger)
    assert call(server, "GET", "/v1/queues", other_cookie).json() == {"queues": []}
    assert call(server, "GET", "/v1/topics", other_cookie).json() == {"topics": []}
    assert http_request(server.endpoint + "/v1/queues").status == 401
