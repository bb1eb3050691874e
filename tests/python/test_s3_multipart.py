"""Multipart uploads, upload_part_copy and managed transfers against the real server."""

from __future__ import annotations

import hashlib

from boto3.s3.transfer import TransferConfig

from stratus_testlib import MIB, multipart_etag, pseudo_random_bytes, quoted_md5, raises_s3

PART = 5 * MIB


def start(s3, bucket, key, **kwargs) -> str:
    return s3.create_multipart_upload(Bucket=bucket, Key=key, **kwargs)["UploadId"]


def upload_parts(s3, bucket, key, upload_id, parts: list[bytes], first: int = 1) -> list[dict]:
    done = []
    for number, data in enumerate(parts, start=first):
        etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data)["ETag"]
        assert etag == quoted_md5(data), number
        done.append({"PartNumber": number, "ETag": etag})
    return done


def complete(s3, bucket, key, upload_id, parts: list[dict]):
    return s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id,
                                        MultipartUpload={"Parts": parts})


def object_keys(s3, bucket) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def upload_ids(s3, bucket) -> list[str]:
    return [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]


def test_multipart_round_trip(s3, bucket):
    parts = [pseudo_random_bytes(f"mp{i}", size) for i, size in enumerate((PART, PART, 1234))]
    upload_id = start(s3, bucket, "big/object", ContentType="application/x-big", Metadata={"origin": "mp"})
    listed = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in listed] == [("big/object", upload_id)]
    done = upload_parts(s3, bucket, "big/object", upload_id, parts)
    # Uploading a part number again replaces it.
    parts[1] = pseudo_random_bytes("mp1-again", PART)
    done[1] = upload_parts(s3, bucket, "big/object", upload_id, [parts[1]], first=2)[0]
    listing = s3.list_parts(Bucket=bucket, Key="big/object", UploadId=upload_id)
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in listing["Parts"]] == [
        (i + 1, quoted_md5(data), len(data)) for i, data in enumerate(parts)]
    assert object_keys(s3, bucket) == []  # nothing visible before completion
    result = complete(s3, bucket, "big/object", upload_id, done)
    expected_etag = multipart_etag(parts)
    assert result["ETag"] == expected_etag and result["Key"] == "big/object" and result["Bucket"] == bucket
    head = s3.head_object(Bucket=bucket, Key="big/object")
    assert head["ETag"] == expected_etag
    assert head["ContentLength"] == sum(map(len, parts))
    assert head["ContentType"] == "application/x-big" and head["Metadata"] == {"origin": "mp"}
    body = s3.get_object(Bucket=bucket, Key="big/object")["Body"].read()
    assert hashlib.sha256(body).digest() == hashlib.sha256(b"".join(parts)).digest()
    ranged = s3.get_object(Bucket=bucket, Key="big/object", Range=f"bytes={PART - 10}-{PART + 9}")["Body"].read()
    assert ranged == parts[0][-10:] + parts[1][:10]
    assert upload_ids(s3, bucket) == []
    assert s3.list_objects_v2(Bucket=bucket)["Contents"][0]["ETag"] == expected_etag
    with raises_s3("NoSuchUpload", 404):
        s3.list_parts(Bucket=bucket, Key="big/object", UploadId=upload_id)


def test_multipart_with_gaps_in_part_numbers(s3, bucket):
    parts = {1: pseudo_random_bytes("g1", PART), 2: b"unused", 3: b"tail"}
    upload_id = start(s3, bucket, "gappy")
    for number, data in parts.items():
        s3.upload_part(Bucket=bucket, Key="gappy", UploadId=upload_id, PartNumber=number, Body=data)
    chosen = [{"PartNumber": n, "ETag": quoted_md5(parts[n])} for n in (1, 3)]
    assert complete(s3, bucket, "gappy", upload_id, chosen)["ETag"] == multipart_etag([parts[1], parts[3]])
    assert s3.get_object(Bucket=bucket, Key="gappy")["Body"].read() == parts[1] + parts[3]


def test_single_small_part_is_allowed(s3, bucket):
    upload_id = start(s3, bucket, "one")
    done = upload_parts(s3, bucket, "one", upload_id, [b"just one small part"])
    assert complete(s3, bucket, "one", upload_id, done)["ETag"] == multipart_etag([b"just one small part"])
    assert s3.get_object(Bucket=bucket, Key="one")["Body"].read() == b"just one small part"


def test_abort(s3, bucket):
    upload_id = start(s3, bucket, "aborted")
    done = upload_parts(s3, bucket, "aborted", upload_id, [b"a" * 100])
    assert s3.abort_multipart_upload(Bucket=bucket, Key="aborted", UploadId=upload_id)[
        "ResponseMetadata"]["HTTPStatusCode"] == 204
    assert upload_ids(s3, bucket) == []
    with raises_s3("NoSuchUpload", 404):
        s3.list_parts(Bucket=bucket, Key="aborted", UploadId=upload_id)
    with raises_s3("NoSuchUpload", 404):
        s3.upload_part(Bucket=bucket, Key="aborted", UploadId=upload_id, PartNumber=2, Body=b"late")
    with raises_s3("NoSuchUpload", 404):
        complete(s3, bucket, "aborted", upload_id, done)
    with raises_s3("NoSuchUpload", 404):
        s3.abort_multipart_upload(Bucket=bucket, Key="aborted", UploadId=upload_id)
    assert object_keys(s3, bucket) == []


def test_unknown_upload_id(s3, bucket):
    bogus = "definitely-not-an-upload-id"
    with raises_s3("NoSuchUpload", 404):
        s3.upload_part(Bucket=bucket, Key="k", UploadId=bogus, PartNumber=1, Body=b"x")
    with raises_s3("NoSuchUpload", 404):
        complete(s3, bucket, "k", bogus, [{"PartNumber": 1, "ETag": quoted_md5(b"x")}])
    # An upload id is bound to its key.
    upload_id = start(s3, bucket, "right-key")
    with raises_s3("NoSuchUpload", 404):
        s3.upload_part(Bucket=bucket, Key="wrong-key", UploadId=upload_id, PartNumber=1, Body=b"x")
    assert object_keys(s3, bucket) == []


def test_failed_completions_change_nothing(s3, bucket):
    small, big = b"s" * 1024, pseudo_random_bytes("big", PART)
    upload_id = start(s3, bucket, "bad")
    done = upload_parts(s3, bucket, "bad", upload_id, [small, big])
    with raises_s3("EntityTooSmall", 400):  # part 1 is not last and under 5 MiB
        complete(s3, bucket, "bad", upload_id, done)
    with raises_s3("InvalidPart", 400):
        complete(s3, bucket, "bad", upload_id, [done[0], {"PartNumber": 2, "ETag": quoted_md5(b"nope")}])
    with raises_s3("InvalidPart", 400):
        complete(s3, bucket, "bad", upload_id, [done[0], {"PartNumber": 7, "ETag": done[1]["ETag"]}])
    with raises_s3("InvalidPartOrder", 400):
        complete(s3, bucket, "bad", upload_id, [done[1], done[0]])
    with raises_s3("MalformedXML", 400):
        complete(s3, bucket, "bad", upload_id, [])
    assert object_keys(s3, bucket) == []
    assert upload_ids(s3, bucket) == [upload_id]
    assert len(s3.list_parts(Bucket=bucket, Key="bad", UploadId=upload_id)["Parts"]) == 2
    # Replace the small first part; the same upload then completes.
    fixed = upload_parts(s3, bucket, "bad", upload_id, [big], first=1)
    assert complete(s3, bucket, "bad", upload_id, [fixed[0], done[1]])["ETag"] == multipart_etag([big, big])
    assert s3.get_object(Bucket=bucket, Key="bad")["Body"].read() == big + big


def test_complete_does_not_clobber_on_failure(s3, bucket):
    s3.put_object(Bucket=bucket, Key="existing", Body=b"keep me")
    upload_id = start(s3, bucket, "existing")
    done = upload_parts(s3, bucket, "existing", upload_id, [b"x" * 10, b"y" * 10])
    with raises_s3("EntityTooSmall", 400):
        complete(s3, bucket, "existing", upload_id, done)
    assert s3.get_object(Bucket=bucket, Key="existing")["Body"].read() == b"keep me"


def test_upload_part_copy(s3, bucket):
    source = pseudo_random_bytes("copy-src", 6 * MIB)
    s3.put_object(Bucket=bucket, Key="src/object", Body=source)
    upload_id = start(s3, bucket, "assembled")
    copied_whole = s3.upload_part_copy(Bucket=bucket, Key="assembled", UploadId=upload_id, PartNumber=1,
                                       CopySource={"Bucket": bucket, "Key": "src/object"})
    assert copied_whole["CopyPartResult"]["ETag"] == quoted_md5(source)
    copied_range = s3.upload_part_copy(Bucket=bucket, Key="assembled", UploadId=upload_id, PartNumber=2,
                                       CopySource={"Bucket": bucket, "Key": "src/object"},
                                       CopySourceRange="bytes=100-1099")
    assert copied_range["CopyPartResult"]["ETag"] == quoted_md5(source[100:1100])
    upload_parts(s3, bucket, "assembled", upload_id, [b"literal part left out"], first=3)
    parts = [{"PartNumber": 1, "ETag": copied_whole["CopyPartResult"]["ETag"]},
             {"PartNumber": 2, "ETag": copied_range["CopyPartResult"]["ETag"]}]
    # Part 2 is under 5 MiB, so it must be the last one completed; part 3 is left out.
    result = complete(s3, bucket, "assembled", upload_id, parts)
    assert result["ETag"] == multipart_etag([source, source[100:1100]])
    body = s3.get_object(Bucket=bucket, Key="assembled")["Body"].read()
    assert body == source + source[100:1100]
    assert s3.get_object(Bucket=bucket, Key="src/object")["Body"].read() == source


def test_upload_part_copy_errors(s3, bucket):
    s3.put_object(Bucket=bucket, Key="small", Body=b"0123456789")
    upload_id = start(s3, bucket, "dest")
    with raises_s3("NoSuchKey", 404):
        s3.upload_part_copy(Bucket=bucket, Key="dest", UploadId=upload_id, PartNumber=1,
                            CopySource={"Bucket": bucket, "Key": "absent"})
    with raises_s3("InvalidRange", 416):
        s3.upload_part_copy(Bucket=bucket, Key="dest", UploadId=upload_id, PartNumber=1,
                            CopySource={"Bucket": bucket, "Key": "small"}, CopySourceRange="bytes=5-50")
    with raises_s3("NoSuchUpload", 404):
        s3.upload_part_copy(Bucket=bucket, Key="dest", UploadId="bogus-upload", PartNumber=1,
                            CopySource={"Bucket": bucket, "Key": "small"})


def test_list_multipart_uploads_with_prefix(s3, bucket):
    ids = {key: start(s3, bucket, key) for key in ("logs/a", "logs/b", "data/c")}
    logs = s3.list_multipart_uploads(Bucket=bucket, Prefix="logs/")["Uploads"]
    assert sorted((u["Key"], u["UploadId"]) for u in logs) == [("logs/a", ids["logs/a"]), ("logs/b", ids["logs/b"])]
    for key, upload_id in ids.items():
        s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
    assert upload_ids(s3, bucket) == []


def test_list_parts_pagination(s3, bucket):
    upload_id = start(s3, bucket, "many-parts")
    parts = [f"part {n}".encode() for n in range(1, 8)]
    upload_parts(s3, bucket, "many-parts", upload_id, parts)
    first = s3.list_parts(Bucket=bucket, Key="many-parts", UploadId=upload_id, MaxParts=3)
    assert [p["PartNumber"] for p in first["Parts"]] == [1, 2, 3] and first["IsTruncated"] is True
    rest = s3.list_parts(Bucket=bucket, Key="many-parts", UploadId=upload_id,
                         PartNumberMarker=int(first["NextPartNumberMarker"]))
    assert [p["PartNumber"] for p in rest["Parts"]] == [4, 5, 6, 7] and rest["IsTruncated"] is False


def test_upload_and_download_file_20mib(s3, bucket, tmp_path):
    data = pseudo_random_bytes("file-20", 20 * MIB)
    src, dst = tmp_path / "upload.bin", tmp_path / "download.bin"
    src.write_bytes(data)
    config = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB, max_concurrency=4)
    s3.upload_file(str(src), bucket, "files/20mib.bin", Config=config)
    head = s3.head_object(Bucket=bucket, Key="files/20mib.bin")
    assert head["ContentLength"] == len(data)
    chunks = [data[i:i + 5 * MIB] for i in range(0, len(data), 5 * MIB)]
    assert head["ETag"] == multipart_etag(chunks)
    s3.download_file(bucket, "files/20mib.bin", str(dst), Config=config)
    assert hashlib.sha256(dst.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()
    # Below the threshold the transfer manager does a plain PUT.
    small = tmp_path / "small.bin"
    small.write_bytes(data[:1000])
    s3.upload_file(str(small), bucket, "files/small.bin", Config=config)
    assert s3.head_object(Bucket=bucket, Key="files/small.bin")["ETag"] == quoted_md5(data[:1000])
