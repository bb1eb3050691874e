"""Static websites: Put/Get/DeleteBucketWebsite (boto3 and `aws s3 website`), serving at
/website/BUCKET/... (index documents, dir -> dir/ redirects, error documents and HTML error
pages, routing rules) and, with --domain, virtual-hosted S3 at BUCKET.DOMAIN and websites at
BUCKET.s3-website.DOMAIN. Raw HTTP against the real binary."""

from __future__ import annotations

import http.client
import urllib.parse
from dataclasses import dataclass

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from stratus_testlib import error_code_of_xml, raises_s3, unique_bucket

DOMAIN = "stratus.test"


def site(s3, **config) -> str:
    """A website bucket visitors may list (so a missing key is 404, not 403, as in S3)."""
    name = unique_bucket("site")
    s3.create_bucket(Bucket=name, ACL="public-read")
    for key, body in {"index.html": b"home", "docs/index.html": b"docs home", "docs/a.html": b"page a",
                      "error.html": b"custom error", "404.html": b"not here"}.items():
        s3.put_object(Bucket=name, Key=key, Body=body, ContentType="text/html", ACL="public-read")
    s3.put_object(Bucket=name, Key="private.html", Body=b"secret", ContentType="text/html")
    s3.put_bucket_website(Bucket=name, WebsiteConfiguration=config or {
        "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "error.html"}})
    return name


@dataclass
class Answer:
    status: int
    headers: dict
    body: bytes


def get(server, bucket: str, path: str = "", method: str = "GET") -> Answer:
    """A website request whose redirects are not followed."""
    host = urllib.parse.urlsplit(server.endpoint).netloc.split(":")[0]
    return Answer(*raw(server, host, f"/website/{bucket}/{path}", method))


def test_index_and_error_documents(server, s3):
    name = site(s3)
    res = get(server, name)
    assert (res.status, res.body, res.headers["content-type"]) == (200, b"home", "text/html")
    assert get(server, name, "docs/").body == b"docs home"
    assert get(server, name, "docs/a.html").body == b"page a"
    redirect = get(server, name, "docs")
    assert redirect.status == 302 and redirect.headers["location"] == f"/website/{name}/docs/"
    missing = get(server, name, "nope.html")
    assert (missing.status, missing.body) == (404, b"custom error")
    private = get(server, name, "private.html")
    assert (private.status, private.body) == (403, b"custom error")
    head = get(server, name, "docs/a.html", method="HEAD")
    assert head.status == 200 and head.body == b"" and head.headers["content-length"] == "6"
    config = s3.get_bucket_website(Bucket=name)
    assert config["IndexDocument"] == {"Suffix": "index.html"} and config["ErrorDocument"] == {"Key": "error.html"}


def test_html_error_pages_without_an_error_document(server, s3):
    name = site(s3, IndexDocument={"Suffix": "index.html"})
    res = get(server, name, "nope.html")
    assert res.status == 404 and res.headers["content-type"].startswith("text/html")
    assert b"<h1>404 Not Found</h1>" in res.body and b"Code: NoSuchKey" in res.body
    assert b"Key: nope.html" in res.body
    res = get(server, name, "private.html")
    assert res.status == 403 and b"Code: AccessDenied" in res.body
    s3.delete_bucket_website(Bucket=name)
    res = get(server, name)
    assert res.status == 404 and b"NoSuchWebsiteConfiguration" in res.body
    with raises_s3("NoSuchWebsiteConfiguration", 404):
        s3.get_bucket_website(Bucket=name)
    res = get(server, unique_bucket())
    assert res.status == 404 and b"NoSuchBucket" in res.body


def test_routing_rules(server, s3):
    name = site(s3, IndexDocument={"Suffix": "index.html"}, RoutingRules=[
        {"Condition": {"KeyPrefixEquals": "old/"}, "Redirect": {"ReplaceKeyPrefixWith": "docs/"}},
        {"Condition": {"KeyPrefixEquals": "ext/"},
         "Redirect": {"HostName": "example.com", "Protocol": "https", "HttpRedirectCode": "302"}},
        {"Condition": {"HttpErrorCodeReturnedEquals": "404"}, "Redirect": {"ReplaceKeyWith": "404.html"}},
    ])
    host = urllib.parse.urlsplit(server.endpoint).netloc
    res = get(server, name, "old/a.html")
    assert res.status == 301 and res.headers["location"] == f"http://{host}/website/{name}/docs/a.html"
    res = get(server, name, "ext/x")
    assert res.status == 302 and res.headers["location"] == "https://example.com/ext/x"
    res = get(server, name, "gone.html")
    assert res.status == 301 and res.headers["location"] == f"http://{host}/website/{name}/404.html"
    assert get(server, name, "docs/a.html").body == b"page a"  # no rule matches: served


def test_redirect_all_requests(server, s3):
    name = site(s3, RedirectAllRequestsTo={"HostName": "www.example.com", "Protocol": "https"})
    res = get(server, name, "a/b.html")
    assert res.status == 301 and res.headers["location"] == "https://www.example.com/a/b.html"


@pytest.mark.parametrize("config, code", [
    ({"IndexDocument": {"Suffix": "index.html"}, "RoutingRules": [
        {"Condition": {"KeyPrefixEquals": "docs/"}, "Redirect": {"ReplaceKeyPrefixWith": "docs/"}}]},
     "InvalidRequest"),
    ({"IndexDocument": {"Suffix": "index.html"}, "RoutingRules": [
        {"Redirect": {"ReplaceKeyPrefixWith": "v2/"}}]}, "InvalidRequest"),
    ({"IndexDocument": {"Suffix": "index.html"}, "RoutingRules": [
        {"Condition": {"KeyPrefixEquals": "a/"}, "Redirect": {"ReplaceKeyWith": "a/index.html"}}]},
     "InvalidRequest"),
    ({"ErrorDocument": {"Key": "error.html"}}, "InvalidArgument"),
    ({"IndexDocument": {"Suffix": "dir/index.html"}}, "InvalidArgument"),
    ({"IndexDocument": {"Suffix": "index.html"},
      "RedirectAllRequestsTo": {"HostName": "example.com"}}, "InvalidRequest"),
])
def test_bad_configurations_are_refused_and_change_nothing(server, s3, config, code):
    name = site(s3)
    before = s3.get_bucket_website(Bucket=name)
    with raises_s3(code, 400):
        s3.put_bucket_website(Bucket=name, WebsiteConfiguration=config)
    after = s3.get_bucket_website(Bucket=name)
    assert {k: after[k] for k in ("IndexDocument", "ErrorDocument")} == \
        {k: before[k] for k in ("IndexDocument", "ErrorDocument")}
    assert "RoutingRules" not in after


def test_aws_cli_website(server, aws, cli_bucket, s3):
    aws("s3", "website", f"s3://{cli_bucket}", "--index-document", "index.html", "--error-document", "err.html")
    config = aws.json("s3api", "get-bucket-website", "--bucket", cli_bucket)
    assert config["IndexDocument"] == {"Suffix": "index.html"} and config["ErrorDocument"] == {"Key": "err.html"}
    s3.put_object(Bucket=cli_bucket, Key="index.html", Body=b"cli site", ACL="public-read")
    assert get(server, cli_bucket).body == b"cli site"


# --- --domain: virtual hosts --------------------------------------------------------------------

@pytest.fixture(scope="module")
def domain_server(tmp_path_factory):
    from stratus_testlib import StratusServer

    root = tmp_path_factory.mktemp("domain")
    srv = StratusServer(root / "data", root / "server.log", ("--domain", DOMAIN)).start()
    yield srv
    srv.kill()


def raw(server, host: str, path: str, method: str = "GET", headers: dict | None = None, body: bytes = b""):
    """A request to the server's port with `host` in the Host header (no DNS needed)."""
    port = urllib.parse.urlsplit(server.endpoint).port
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(method, path, body=body or None, headers={"Host": f"{host}:{port}", **(headers or {})})
    res = conn.getresponse()
    out = (res.status, {k.lower(): v for k, v in res.getheaders()}, res.read())
    conn.close()
    return out


def signed(server, host: str, path: str, method: str = "GET", body: bytes = b""):
    """A SigV4-signed request addressed by `host` (virtual-hosted style)."""
    port = urllib.parse.urlsplit(server.endpoint).port
    creds = server.admin
    request = AWSRequest(method=method, url=f"http://{host}:{port}{path}", data=body)
    S3SigV4Auth(Credentials(creds.access_key_id, creds.secret_access_key), "s3", "us-east-1").add_auth(request)
    headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
    return raw(server, host, path, method, headers, body)


def test_virtual_hosted_s3_and_websites(domain_server):
    s3 = domain_server.client()
    name = unique_bucket("vh")
    s3.create_bucket(Bucket=name)
    # Visitors may not list the bucket yet: a missing key is 403 to them.
    status, _, _ = signed(domain_server, f"{name}.{DOMAIN}", "/hello.txt", "PUT", b"virtual")
    assert status == 200
    assert s3.get_object(Bucket=name, Key="hello.txt")["Body"].read() == b"virtual"
    status, _, body = signed(domain_server, f"{name}.{DOMAIN}", "/?list-type=2")
    assert status == 200 and b"<Key>hello.txt</Key>" in body
    # Anonymous requests on the bucket's host get what anonymous path-style requests get.
    status, _, body = raw(domain_server, f"{name}.{DOMAIN}", "/hello.txt")
    assert status == 403 and error_code_of_xml(body) == "AccessDenied"
    s3.put_object_acl(Bucket=name, Key="hello.txt", ACL="public-read")
    assert raw(domain_server, f"{name}.{DOMAIN}", "/hello.txt")[2] == b"virtual"
    # A key that looks like the native API is still a key on the bucket's host.
    s3.put_object(Bucket=name, Key="v1/health", Body=b"a key", ACL="public-read")
    assert raw(domain_server, f"{name}.{DOMAIN}", "/v1/health")[2] == b"a key"
    # The bare domain routes as before.
    status, _, body = raw(domain_server, DOMAIN, "/v1/health")
    assert status == 200 and b"ok" in body.lower()

    s3.put_object(Bucket=name, Key="index.html", Body=b"vh home", ACL="public-read", ContentType="text/html")
    s3.put_bucket_website(Bucket=name, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    status, headers, body = raw(domain_server, f"{name}.s3-website.{DOMAIN}", "/")
    assert (status, body) == (200, b"vh home")
    status, headers, body = raw(domain_server, f"{name}.s3-website.{DOMAIN}", "/missing")
    assert status == 403 and b"AccessDenied" in body
    s3.put_bucket_acl(Bucket=name, ACL="public-read")
    status, headers, body = raw(domain_server, f"{name}.s3-website.{DOMAIN}", "/missing")
    assert status == 404 and b"NoSuchKey" in body
