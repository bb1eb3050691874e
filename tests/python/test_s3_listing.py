"""ListObjectsV2 / ListObjects (v1): prefixes, delimiters, pagination, ordering."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from stratus_testlib import quoted_md5, unique_bucket

MANY = 1100  # more than one default page of 1000
MAX_PAGES = 200  # bound on hand-followed pagination

TREE = ["a/1", "a/2", "b/x/1", "b/x/2", "b/y", "c", "d/", "d/e/f", "e-1", "e-2-x", "e-2-y"]


@pytest.fixture(scope="module")
def many_bucket(server):
    s3 = server.client()
    name = unique_bucket("many")
    s3.create_bucket(Bucket=name)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: s3.put_object(Bucket=name, Key=f"obj/{i:05d}", Body=str(i).encode()), range(MANY)))
    return name


@pytest.fixture
def tree_bucket(s3, bucket):
    for key in TREE:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    return bucket


def walk_v2(s3, bucket, **kwargs) -> tuple[list[str], list[str], int]:
    """Follows continuation tokens by hand; returns keys, common prefixes and the page count."""
    keys, prefixes, pages, token = [], [], 0, None
    for _ in range(MAX_PAGES):
        args = dict(kwargs, ContinuationToken=token) if token else kwargs
        page = s3.list_objects_v2(Bucket=bucket, **args)
        pages += 1
        page_keys = [o["Key"] for o in page.get("Contents", [])]
        page_prefixes = [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        assert page["KeyCount"] == len(page_keys) + len(page_prefixes)
        if "MaxKeys" in kwargs:
            assert page["KeyCount"] <= kwargs["MaxKeys"]
        keys += page_keys
        prefixes += page_prefixes
        if not page["IsTruncated"]:
            assert "NextContinuationToken" not in page
            return keys, prefixes, pages
        token = page["NextContinuationToken"]
        assert token
    raise AssertionError(f"pagination did not end within {MAX_PAGES} pages; {len(keys)} keys so far, "
                         f"last ones {keys[-3:]}")


def test_default_page_is_1000(server, many_bucket):
    s3 = server.client()
    first = s3.list_objects_v2(Bucket=many_bucket)
    assert first["KeyCount"] == 1000 and first["MaxKeys"] == 1000 and first["IsTruncated"] is True
    keys = [o["Key"] for o in first["Contents"]]
    assert keys == [f"obj/{i:05d}" for i in range(1000)]
    second = s3.list_objects_v2(Bucket=many_bucket, ContinuationToken=first["NextContinuationToken"])
    assert [o["Key"] for o in second["Contents"]] == [f"obj/{i:05d}" for i in range(1000, MANY)]
    assert second["IsTruncated"] is False and second["KeyCount"] == MANY - 1000


def test_small_pages_cover_everything_once(server, many_bucket):
    s3 = server.client()
    keys, prefixes, pages = walk_v2(s3, many_bucket, MaxKeys=97)
    assert keys == [f"obj/{i:05d}" for i in range(MANY)] and prefixes == []
    assert pages == -(-MANY // 97)
    paginated = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=many_bucket, PaginationConfig={"PageSize": 250}):
        paginated += [o["Key"] for o in page.get("Contents", [])]
    assert paginated == keys


def test_v1_marker_pagination(server, many_bucket):
    s3 = server.client()
    keys, marker = [], ""
    for _ in range(100):
        page = s3.list_objects(Bucket=many_bucket, Marker=marker, MaxKeys=300)
        page_keys = [o["Key"] for o in page.get("Contents", [])]
        assert len(page_keys) <= 300
        keys += page_keys
        if not page["IsTruncated"]:
            break
        marker = page.get("NextMarker") or page_keys[-1]
    assert keys == [f"obj/{i:05d}" for i in range(MANY)]


def test_start_after_and_prefix(server, many_bucket):
    s3 = server.client()
    page = s3.list_objects_v2(Bucket=many_bucket, StartAfter="obj/01090")
    assert [o["Key"] for o in page["Contents"]] == [f"obj/{i:05d}" for i in range(1091, MANY)]
    assert page["StartAfter"] == "obj/01090"
    keys, _, _ = walk_v2(s3, many_bucket, StartAfter="obj/00995", Prefix="obj/0100", MaxKeys=4)
    assert keys == [f"obj/{i:05d}" for i in range(1000, 1010)]
    assert s3.list_objects_v2(Bucket=many_bucket, StartAfter="obj/99999")["KeyCount"] == 0
    assert s3.list_objects_v2(Bucket=many_bucket, Prefix="nothing/")["KeyCount"] == 0


def test_object_fields(s3, tree_bucket):
    page = s3.list_objects_v2(Bucket=tree_bucket, Prefix="b/y")
    assert page["KeyCount"] == 1 and page["IsTruncated"] is False, (page["KeyCount"], page["IsTruncated"])
    obj = page["Contents"][0]
    assert obj["Key"] == "b/y" and obj["Size"] == 3 and obj["ETag"] == quoted_md5(b"b/y")
    assert obj["LastModified"] and obj.get("StorageClass", "STANDARD") == "STANDARD"
    assert page["Prefix"] == "b/y" and page["Name"] == tree_bucket


def test_prefix_equal_to_a_key(s3, tree_bucket):
    """The key that equals the prefix is listed once, on every API and page size."""
    for prefix, expected in (("c", ["c"]), ("d/", ["d/", "d/e/f"]), ("a/1", ["a/1"])):
        for max_keys in (1, 2, 1000):
            keys, prefixes, _ = walk_v2(s3, tree_bucket, Prefix=prefix, MaxKeys=max_keys)
            assert (keys, prefixes) == (expected, []), (prefix, max_keys, len(keys))
        v1 = s3.list_objects(Bucket=tree_bucket, Prefix=prefix)
        assert [o["Key"] for o in v1["Contents"]] == expected and v1["IsTruncated"] is False, prefix
    keys, prefixes, _ = walk_v2(s3, tree_bucket, Prefix="c", Delimiter="/")
    assert (keys, prefixes) == (["c"], [])


def test_delimiter(s3, tree_bucket):
    keys, prefixes, _ = walk_v2(s3, tree_bucket, Delimiter="/")
    assert keys == ["c", "e-1", "e-2-x", "e-2-y"] and prefixes == ["a/", "b/", "d/"]
    keys, prefixes, _ = walk_v2(s3, tree_bucket, Delimiter="/", Prefix="b/")
    assert keys == ["b/y"] and prefixes == ["b/x/"]
    keys, prefixes, _ = walk_v2(s3, tree_bucket, Delimiter="/", Prefix="d/")
    assert keys == ["d/"] and prefixes == ["d/e/"]
    keys, prefixes, _ = walk_v2(s3, tree_bucket, Delimiter="-", Prefix="e-")
    assert keys == ["e-1"] and prefixes == ["e-2-"]
    page = s3.list_objects_v2(Bucket=tree_bucket, Delimiter="/")
    assert page["Delimiter"] == "/"


def test_delimiter_with_tiny_pages(s3, tree_bucket):
    """Common prefixes count towards MaxKeys and are never repeated on a later page."""
    for max_keys in (1, 2, 3):
        keys, prefixes, pages = walk_v2(s3, tree_bucket, Delimiter="/", MaxKeys=max_keys)
        assert keys == ["c", "e-1", "e-2-x", "e-2-y"], max_keys
        assert prefixes == ["a/", "b/", "d/"], max_keys
        assert pages == -(-7 // max_keys), max_keys


def test_v1_delimiter_and_next_marker(s3, tree_bucket):
    page = s3.list_objects(Bucket=tree_bucket, Delimiter="/", MaxKeys=2)
    assert page["IsTruncated"] is True
    seen = [o["Key"] for o in page.get("Contents", [])] + [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    assert sorted(seen) == ["a/", "b/"]
    rest = s3.list_objects(Bucket=tree_bucket, Delimiter="/", Marker=page["NextMarker"])
    assert [o["Key"] for o in rest["Contents"]] == ["c", "e-1", "e-2-x", "e-2-y"]
    assert [p["Prefix"] for p in rest["CommonPrefixes"]] == ["d/"]
    assert rest["IsTruncated"] is False


def test_utf8_binary_order_and_url_encoding(s3, bucket):
    keys = ["B", "a", "z", "ä", "日本", "a b", "a+b", "a%b", "a&b<c>", "~tilde"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    expected = sorted(keys, key=lambda k: k.encode("utf-8"))
    assert walk_v2(s3, bucket)[0] == expected
    assert walk_v2(s3, bucket, MaxKeys=3)[0] == expected
    # XML-special characters survive the listing (boto3 asks for EncodingType=url and decodes it).
    raw = s3.list_objects_v2(Bucket=bucket, Prefix="a&")
    assert [o["Key"] for o in raw["Contents"]] == ["a&b<c>"]


def test_list_empty_bucket(s3, bucket):
    page = s3.list_objects_v2(Bucket=bucket)
    assert page["KeyCount"] == 0 and page["IsTruncated"] is False and "Contents" not in page
    v1 = s3.list_objects(Bucket=bucket)
    assert "Contents" not in v1 and v1["IsTruncated"] is False
