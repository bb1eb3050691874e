"""S3 versioning, Object Lock and object tagging with boto3 and the aws CLI: version ids, null
versions, delete markers, ListObjectVersions, reads/copies/deletes of a version, retention,
legal hold, and the errors AWS gives when a lock forbids a change (with nothing changed)."""

from __future__ import annotations

import datetime as dt

from stratus_testlib import http_request, raises_s3, unique_bucket


def versioned_bucket(s3, lock: bool = False) -> str:
    name = unique_bucket("ver")
    if lock:
        s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    else:
        s3.create_bucket(Bucket=name)
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def body_of(s3, bucket, key, **kwargs) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key, **kwargs)["Body"].read()


def all_versions(s3, bucket, **kwargs):
    listing = s3.list_object_versions(Bucket=bucket, **kwargs)
    return listing.get("Versions", []), listing.get("DeleteMarkers", [])


def test_versioning_state_starts_absent_then_enabled_and_suspended(s3, bucket):
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"
    with raises_s3("MalformedXML", 400):
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Off"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"


def test_every_overwrite_is_kept_and_readable_by_version(s3):
    bucket = versioned_bucket(s3)
    ids = [s3.put_object(Bucket=bucket, Key="k", Body=f"v{i}".encode())["VersionId"] for i in range(3)]
    assert len(set(ids)) == 3 and all(ids)
    assert body_of(s3, bucket, "k") == b"v2"
    for i, version in enumerate(ids):
        got = s3.get_object(Bucket=bucket, Key="k", VersionId=version)
        assert got["Body"].read() == f"v{i}".encode()
        assert got["VersionId"] == version
        assert s3.head_object(Bucket=bucket, Key="k", VersionId=version)["VersionId"] == version
    versions, markers = all_versions(s3, bucket)
    assert [v["VersionId"] for v in versions] == list(reversed(ids))
    assert [v["IsLatest"] for v in versions] == [True, False, False]
    assert markers == []


def test_delete_adds_a_marker_and_removing_it_restores_the_object(s3):
    bucket = versioned_bucket(s3)
    first = s3.put_object(Bucket=bucket, Key="doc", Body=b"keep me")["VersionId"]
    deleted = s3.delete_object(Bucket=bucket, Key="doc")
    assert deleted["DeleteMarker"] is True
    marker = deleted["VersionId"]
    with raises_s3("NoSuchKey", 404) as info:
        s3.get_object(Bucket=bucket, Key="doc")
    headers = info.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert headers.get("x-amz-delete-marker") == "true"
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    # The old version is still there, and a GET of the marker itself is not allowed.
    assert body_of(s3, bucket, "doc", VersionId=first) == b"keep me"
    with raises_s3("MethodNotAllowed", 405):
        s3.get_object(Bucket=bucket, Key="doc", VersionId=marker)
    versions, markers = all_versions(s3, bucket)
    assert [m["VersionId"] for m in markers] == [marker] and markers[0]["IsLatest"] is True
    assert [v["VersionId"] for v in versions] == [first] and versions[0]["IsLatest"] is False
    # Deleting the marker by id makes the previous version current again.
    undone = s3.delete_object(Bucket=bucket, Key="doc", VersionId=marker)
    assert undone["DeleteMarker"] is True and undone["VersionId"] == marker
    assert body_of(s3, bucket, "doc") == b"keep me"


def test_deleting_a_version_for_good_promotes_the_previous_one(s3):
    bucket = versioned_bucket(s3)
    old = s3.put_object(Bucket=bucket, Key="k", Body=b"old")["VersionId"]
    new = s3.put_object(Bucket=bucket, Key="k", Body=b"new")["VersionId"]
    assert s3.delete_object(Bucket=bucket, Key="k", VersionId=new)["VersionId"] == new
    assert body_of(s3, bucket, "k") == b"old"
    with raises_s3("NoSuchVersion", 404):
        s3.get_object(Bucket=bucket, Key="k", VersionId=new)
    versions, _ = all_versions(s3, bucket)
    assert [(v["VersionId"], v["IsLatest"]) for v in versions] == [(old, True)]
    # A bucket with versions left is not empty; once all are gone it can be deleted.
    with raises_s3("BucketNotEmpty", 409):
        s3.delete_bucket(Bucket=bucket)
    s3.delete_object(Bucket=bucket, Key="k", VersionId=old)
    s3.delete_bucket(Bucket=bucket)


def test_null_version_from_before_versioning_and_while_suspended(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"before")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"enabled")["VersionId"]
    assert body_of(s3, bucket, "k", VersionId="null") == b"before"
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"suspended")
    assert put.get("VersionId") in (None, "null")
    # Suspended writes replace the one null version; the enabled-era version stays.
    versions, _ = all_versions(s3, bucket)
    assert [(v["VersionId"], v["IsLatest"]) for v in versions] == [("null", True), (v1, False)]
    assert body_of(s3, bucket, "k", VersionId="null") == b"suspended"
    assert body_of(s3, bucket, "k", VersionId=v1) == b"enabled"


def test_copy_of_an_old_version_and_multipart_into_a_versioned_bucket(s3):
    bucket = versioned_bucket(s3)
    old = s3.put_object(Bucket=bucket, Key="src", Body=b"first")["VersionId"]
    s3.put_object(Bucket=bucket, Key="src", Body=b"second")
    copied = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src", "VersionId": old})
    assert copied["CopySourceVersionId"] == old and copied["VersionId"]
    assert body_of(s3, bucket, "dst") == b"first"
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=1, Body=b"x" * 1024)
    done = s3.complete_multipart_upload(
        Bucket=bucket,
        Key="big",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    assert done["VersionId"]
    assert s3.head_object(Bucket=bucket, Key="big")["VersionId"] == done["VersionId"]


def test_batch_delete_reports_markers_and_versions(s3):
    bucket = versioned_bucket(s3)
    a = s3.put_object(Bucket=bucket, Key="a", Body=b"a")["VersionId"]
    s3.put_object(Bucket=bucket, Key="b", Body=b"b")
    result = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a", "VersionId": a}, {"Key": "b"}]})
    by_key = {d["Key"]: d for d in result["Deleted"]}
    assert by_key["a"]["VersionId"] == a and not by_key["a"].get("DeleteMarker")
    assert by_key["b"]["DeleteMarker"] is True and by_key["b"]["DeleteMarkerVersionId"]
    versions, markers = all_versions(s3, bucket)
    assert [v["Key"] for v in versions] == ["b"] and [m["Key"] for m in markers] == ["b"]


def test_list_object_versions_pages_with_markers_and_delimiter(s3):
    bucket = versioned_bucket(s3)
    expected = []
    for key in ["a", "b", "dir/x", "dir/y"]:
        for n in range(3):
            expected.append((key, s3.put_object(Bucket=bucket, Key=key, Body=f"{key}{n}".encode())["VersionId"]))
    newest_first = sorted(expected, key=lambda kv: (kv[0], -expected.index(kv)))
    seen, kwargs = [], {}
    while True:
        page = s3.list_object_versions(Bucket=bucket, MaxKeys=4, **kwargs)
        seen += [(v["Key"], v["VersionId"]) for v in page.get("Versions", [])]
        if not page["IsTruncated"]:
            break
        kwargs = {"KeyMarker": page["NextKeyMarker"], "VersionIdMarker": page["NextVersionIdMarker"]}
    assert seen == newest_first
    rolled = s3.list_object_versions(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in rolled["CommonPrefixes"]] == ["dir/"]
    assert {v["Key"] for v in rolled["Versions"]} == {"a", "b"}
    with raises_s3("InvalidArgument", 400):
        s3.list_object_versions(Bucket=bucket, VersionIdMarker=expected[0][1])


def test_object_tags_per_version(s3):
    bucket = versioned_bucket(s3)
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"1", Tagging="team=ml&stage=raw")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"2")["VersionId"]
    tags = s3.get_object_tagging(Bucket=bucket, Key="k", VersionId=v1)
    assert tags["TagSet"] == [{"Key": "team", "Value": "ml"}, {"Key": "stage", "Value": "raw"}]
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=v1)["TagCount"] == 2
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == []
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": [{"Key": "x", "Value": "y"}]})
    assert s3.get_object_tagging(Bucket=bucket, Key="k", VersionId=v2)["TagSet"] == [{"Key": "x", "Value": "y"}]
    too_many = {"TagSet": [{"Key": f"k{i}", "Value": "v"} for i in range(11)]}
    with raises_s3("BadRequest", 400):
        s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=too_many)
    dupes = {"TagSet": [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]}
    with raises_s3("InvalidTag", 400):
        s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=dupes)
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == [{"Key": "x", "Value": "y"}]
    s3.delete_object_tagging(Bucket=bucket, Key="k")
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == []


# --- Object Lock -----------------------------------------------------------------------------
def until(days: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(days=days)


def test_lock_configuration_needs_a_lock_enabled_bucket(s3, bucket):
    config = {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}}
    with raises_s3("InvalidBucketState", 409):
        s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=config)
    with raises_s3("ObjectLockConfigurationNotFoundError", 404):
        s3.get_object_lock_configuration(Bucket=bucket)
    locked = versioned_bucket(s3, lock=True)
    assert s3.get_bucket_versioning(Bucket=locked)["Status"] == "Enabled"
    s3.put_object_lock_configuration(Bucket=locked, ObjectLockConfiguration=config)
    assert s3.get_object_lock_configuration(Bucket=locked)["ObjectLockConfiguration"] == config
    with raises_s3("InvalidBucketState", 409):
        s3.put_bucket_versioning(Bucket=locked, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=locked)["Status"] == "Enabled"


def test_compliance_retention_blocks_delete_and_is_never_shortened(s3):
    bucket = versioned_bucket(s3, lock=True)
    version = s3.put_object(
        Bucket=bucket, Key="ckpt", Body=b"weights", ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=until(2)
    )["VersionId"]
    head = s3.head_object(Bucket=bucket, Key="ckpt")
    assert head["ObjectLockMode"] == "COMPLIANCE"
    with raises_s3("AccessDenied", 403):
        s3.delete_object(Bucket=bucket, Key="ckpt", VersionId=version)
    with raises_s3("AccessDenied", 403):
        s3.delete_object(Bucket=bucket, Key="ckpt", VersionId=version, BypassGovernanceRetention=True)
    with raises_s3("AccessDenied", 403):
        s3.put_object_retention(
            Bucket=bucket, Key="ckpt", VersionId=version, Retention={"Mode": "COMPLIANCE", "RetainUntilDate": until(1)}
        )
    with raises_s3("AccessDenied", 403):
        s3.put_object_retention(
            Bucket=bucket,
            Key="ckpt",
            VersionId=version,
            Retention={"Mode": "GOVERNANCE", "RetainUntilDate": until(3)},
            BypassGovernanceRetention=True,
        )
    kept = s3.get_object_retention(Bucket=bucket, Key="ckpt", VersionId=version)["Retention"]
    assert kept["Mode"] == "COMPLIANCE" and kept["RetainUntilDate"] > until(1.9)
    # Extending is allowed; the version is still there and readable.
    s3.put_object_retention(
        Bucket=bucket, Key="ckpt", VersionId=version, Retention={"Mode": "COMPLIANCE", "RetainUntilDate": until(5)}
    )
    assert body_of(s3, bucket, "ckpt", VersionId=version) == b"weights"
    # A delete without a version id only adds a marker: allowed, nothing is destroyed.
    assert s3.delete_object(Bucket=bucket, Key="ckpt")["DeleteMarker"] is True
    assert body_of(s3, bucket, "ckpt", VersionId=version) == b"weights"


def test_governance_retention_yields_only_to_bypass(s3):
    bucket = versioned_bucket(s3, lock=True)
    version = s3.put_object(
        Bucket=bucket, Key="g", Body=b"x", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=until(1)
    )["VersionId"]
    with raises_s3("AccessDenied", 403):
        s3.delete_object(Bucket=bucket, Key="g", VersionId=version)
    with raises_s3("AccessDenied", 403):
        s3.put_object_retention(
            Bucket=bucket, Key="g", VersionId=version, Retention={"Mode": "GOVERNANCE", "RetainUntilDate": until(0.5)}
        )
    s3.delete_object(Bucket=bucket, Key="g", VersionId=version, BypassGovernanceRetention=True)
    with raises_s3("NoSuchVersion", 404):
        s3.get_object(Bucket=bucket, Key="g", VersionId=version)


def test_legal_hold_blocks_delete_until_lifted(s3):
    bucket = versioned_bucket(s3, lock=True)
    version = s3.put_object(Bucket=bucket, Key="h", Body=b"x", ObjectLockLegalHoldStatus="ON")["VersionId"]
    assert s3.get_object_legal_hold(Bucket=bucket, Key="h")["LegalHold"]["Status"] == "ON"
    with raises_s3("AccessDenied", 403):
        s3.delete_object(Bucket=bucket, Key="h", VersionId=version, BypassGovernanceRetention=True)
    s3.put_object_legal_hold(Bucket=bucket, Key="h", VersionId=version, LegalHold={"Status": "OFF"})
    s3.delete_object(Bucket=bucket, Key="h", VersionId=version)
    assert all_versions(s3, bucket) == ([], [])


def test_default_retention_applies_to_new_versions(s3):
    bucket = versioned_bucket(s3, lock=True)
    s3.put_object_lock_configuration(
        Bucket=bucket,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 2}},
        },
    )
    version = s3.put_object(Bucket=bucket, Key="d", Body=b"x")["VersionId"]
    retention = s3.get_object_retention(Bucket=bucket, Key="d", VersionId=version)["Retention"]
    assert retention["Mode"] == "GOVERNANCE"
    assert until(1.9) < retention["RetainUntilDate"] < until(2.1)
    with raises_s3("AccessDenied", 403):
        s3.delete_object(Bucket=bucket, Key="d", VersionId=version)


def test_lock_requests_on_a_bucket_without_lock_are_refused(s3):
    bucket = versioned_bucket(s3)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    with raises_s3("InvalidRequest", 400):
        s3.put_object_retention(Bucket=bucket, Key="k", Retention={"Mode": "GOVERNANCE", "RetainUntilDate": until(1)})
    with raises_s3("InvalidRequest", 400):
        s3.get_object_legal_hold(Bucket=bucket, Key="k")
    # Lock headers on a write: refused, as AWS does, and nothing is written.
    with raises_s3("InvalidRequest", 400):
        s3.put_object(Bucket=bucket, Key="locked", Body=b"x", ObjectLockMode="GOVERNANCE",
                      ObjectLockRetainUntilDate=until(1))
    with raises_s3("InvalidRequest", 400):
        s3.put_object(Bucket=bucket, Key="locked", Body=b"x", ObjectLockLegalHoldStatus="ON")
    with raises_s3("InvalidRequest", 400):
        s3.create_multipart_upload(Bucket=bucket, Key="locked", ObjectLockLegalHoldStatus="ON")
    with raises_s3("InvalidRequest", 400):
        s3.copy_object(Bucket=bucket, Key="locked", CopySource={"Bucket": bucket, "Key": "k"},
                       ObjectLockLegalHoldStatus="ON")
    assert "Versions" not in s3.list_object_versions(Bucket=bucket, Prefix="locked")
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)


def test_versions_count_toward_storage(server):
    """Every version is stored and billed: the project's storage grows with each overwrite,
    a delete marker adds nothing, and deleting versions for good frees their bytes."""
    project = unique_bucket("verq")
    s3 = server.client(server.create_key(project, "admin"))
    bucket = versioned_bucket(s3)
    ids = [s3.put_object(Bucket=bucket, Key="k", Body=b"z" * 1000)["VersionId"] for _ in range(3)]
    assert project_storage(server, project) == (3000, 3)
    marker = s3.delete_object(Bucket=bucket, Key="k")["VersionId"]
    assert project_storage(server, project) == (3000, 3)
    for version in [*ids, marker]:
        s3.delete_object(Bucket=bucket, Key="k", VersionId=version)
    assert project_storage(server, project) == (0, 0)


def project_storage(server, project) -> tuple[int, int]:
    res = http_request(f"{server.endpoint}/v1/projects/{project}/quota",
                       headers={"Authorization": f"Bearer {server.admin.token}"})
    assert res.status == 200, (res.status, res.body)
    usage = res.json()["usage"]
    return usage["storage_bytes"], usage["objects"]
