"""Multipart checksums (CreateMultipartUpload's ChecksumAlgorithm and ChecksumType) through
boto3 and the aws CLI, and GetObjectAttributes: part checksums are verified on UploadPart,
listed by ListParts, combined on CompleteMultipartUpload (COMPOSITE: the checksum of the
concatenated part checksums, `-N`; FULL_OBJECT: the CRC of the whole object) and returned by
HEAD/GET with ChecksumMode=ENABLED. Bad input gets S3's error and changes nothing.

Expected values are computed here independently: zlib/hashlib, and small table-driven CRC32C
and CRC64NVME (the venv has no awscrt, so botocore cannot compute those two)."""

from __future__ import annotations

import base64
import hashlib
import zlib

import pytest

from stratus_testlib import MIB, pseudo_random_bytes, raises_s3


def _reflected_table(poly: int) -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC32C = _reflected_table(0x82F63B78)
_CRC64NVME = _reflected_table(0x9A6C9329AC4BC9B5)


def _crc(table: list[int], data: bytes, mask: int) -> int:
    crc = mask
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ mask


def digest(algorithm: str, data: bytes) -> bytes:
    if algorithm == "CRC32":
        return zlib.crc32(data).to_bytes(4, "big")
    if algorithm == "CRC32C":
        return _crc(_CRC32C, data, 0xFFFFFFFF).to_bytes(4, "big")
    if algorithm == "CRC64NVME":
        return _crc(_CRC64NVME, data, 0xFFFFFFFFFFFFFFFF).to_bytes(8, "big")
    return hashlib.new(algorithm.lower(), data).digest()


def b64sum(algorithm: str, data: bytes) -> str:
    return base64.b64encode(digest(algorithm, data)).decode()


def composite(algorithm: str, parts: list[bytes]) -> str:
    joined = b"".join(digest(algorithm, p) for p in parts)
    return f"{b64sum(algorithm, joined)}-{len(parts)}"


def test_crc_helpers_match_known_vectors():
    # The standard check value of each CRC over "123456789".
    assert digest("CRC32C", b"123456789").hex() == "e3069283"
    assert digest("CRC64NVME", b"123456789").hex() == "ae8b14860a799888"


def upload_parts(s3, bucket, key, algorithm, parts, kind=None):
    kwargs = {"ChecksumType": kind} if kind else {}
    created = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm=algorithm, **kwargs)
    assert created["ChecksumAlgorithm"] == algorithm
    upload = created["UploadId"]
    listed = []
    for number, body in enumerate(parts, start=1):
        member = f"Checksum{algorithm}"
        done = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=number, Body=body,
                              **{member: b64sum(algorithm, body)})
        assert done[member] == b64sum(algorithm, body)
        listed.append({"PartNumber": number, "ETag": done["ETag"], member: done[member]})
    return upload, listed, created


TWO_PARTS = [pseudo_random_bytes("mpc-1", 5 * MIB), pseudo_random_bytes("mpc-2", 1234)]


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "SHA1", "SHA256"])
def test_composite_checksum_of_the_parts(s3, bucket, algorithm):
    upload, listed, created = upload_parts(s3, bucket, "c", algorithm, TWO_PARTS)
    assert created["ChecksumType"] == "COMPOSITE"
    member = f"Checksum{algorithm}"
    parts = s3.list_parts(Bucket=bucket, Key="c", UploadId=upload)
    assert [p[member] for p in parts["Parts"]] == [b64sum(algorithm, p) for p in TWO_PARTS]
    assert (parts["ChecksumAlgorithm"], parts["ChecksumType"]) == (algorithm, "COMPOSITE")

    done = s3.complete_multipart_upload(Bucket=bucket, Key="c", UploadId=upload,
                                        MultipartUpload={"Parts": listed})
    expected = composite(algorithm, TWO_PARTS)
    assert done[member] == expected and done["ChecksumType"] == "COMPOSITE"
    assert member not in s3.head_object(Bucket=bucket, Key="c")
    head = s3.head_object(Bucket=bucket, Key="c", ChecksumMode="ENABLED")
    assert head[member] == expected and head["ChecksumType"] == "COMPOSITE"
    # A read of one part carries that part's checksum (s3-tests' 3-parts helper).
    for number, body in enumerate(TWO_PARTS, start=1):
        part = s3.get_object(Bucket=bucket, Key="c", PartNumber=number)
        assert (part[member], part["ChecksumType"]) == (b64sum(algorithm, body), "COMPOSITE")
        assert part["Body"].read() == body


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "CRC64NVME"])
def test_full_object_checksum_is_the_crc_of_the_whole_object(s3, bucket, algorithm):
    upload, listed, created = upload_parts(s3, bucket, "f", algorithm, TWO_PARTS, kind="FULL_OBJECT")
    assert created["ChecksumType"] == "FULL_OBJECT"
    done = s3.complete_multipart_upload(Bucket=bucket, Key="f", UploadId=upload,
                                        MultipartUpload={"Parts": listed},
                                        **{f"Checksum{algorithm}": b64sum(algorithm, b"".join(TWO_PARTS))})
    member = f"Checksum{algorithm}"
    assert done[member] == b64sum(algorithm, b"".join(TWO_PARTS))
    assert done["ChecksumType"] == "FULL_OBJECT"
    head = s3.head_object(Bucket=bucket, Key="f", ChecksumMode="ENABLED")
    assert (head[member], head["ChecksumType"]) == (done[member], "FULL_OBJECT")


def test_crc64nvme_defaults_to_full_object(s3, bucket):
    created = s3.create_multipart_upload(Bucket=bucket, Key="d", ChecksumAlgorithm="CRC64NVME")
    assert created["ChecksumType"] == "FULL_OBJECT"


@pytest.mark.parametrize(("algorithm", "kind"), [("SHA256", "FULL_OBJECT"), ("SHA1", "FULL_OBJECT"),
                                                 ("CRC64NVME", "COMPOSITE")])
def test_impossible_algorithm_and_type_pairs_are_refused(s3, bucket, algorithm, kind):
    with raises_s3("InvalidRequest", 400):
        s3.create_multipart_upload(Bucket=bucket, Key="bad", ChecksumAlgorithm=algorithm, ChecksumType=kind)
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_a_wrong_part_checksum_is_bad_digest_and_stores_no_part(s3, bucket):
    upload = s3.create_multipart_upload(Bucket=bucket, Key="w", ChecksumAlgorithm="SHA256")["UploadId"]
    with raises_s3("BadDigest", 400):
        s3.upload_part(Bucket=bucket, Key="w", UploadId=upload, PartNumber=1, Body=b"A" * 1024,
                       ChecksumSHA256=b64sum("SHA256", b"B" * 1024))
    assert s3.list_parts(Bucket=bucket, Key="w", UploadId=upload).get("Parts", []) == []


def test_complete_checks_the_declared_and_listed_checksums(s3, bucket):
    # After ceph/s3-tests test_multipart_checksum_sha256.
    body = b"A" * 1024
    upload, listed, _ = upload_parts(s3, bucket, "v", "SHA256", [body])
    with raises_s3("BadDigest", 400):
        s3.complete_multipart_upload(Bucket=bucket, Key="v", UploadId=upload, ChecksumSHA256="bad",
                                     MultipartUpload={"Parts": listed})
    wrong = [{**listed[0], "ChecksumSHA256": b64sum("SHA256", b"other")}]
    with raises_s3("InvalidPart", 400):
        s3.complete_multipart_upload(Bucket=bucket, Key="v", UploadId=upload,
                                     MultipartUpload={"Parts": wrong})
    with raises_s3("404", 404):
        s3.head_object(Bucket=bucket, Key="v")
    expected = "Ok6Cs5b96ux6+MWQkJO7UBT5sKPBeXBLwvj/hK89smg=-1"
    done = s3.complete_multipart_upload(Bucket=bucket, Key="v", UploadId=upload, ChecksumSHA256=expected,
                                        MultipartUpload={"Parts": listed})
    assert done["ChecksumSHA256"] == expected == composite("SHA256", [body])
    assert s3.get_object(Bucket=bucket, Key="v")["Body"].read() == body


# --- GetObjectAttributes ------------------------------------------------------------------------

ALL_ATTRIBUTES = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]


def test_attributes_of_a_simple_object(s3, bucket):
    body = b"A" * 1024
    put = s3.put_object(Bucket=bucket, Key="simple", Body=body, ChecksumAlgorithm="SHA256",
                        ChecksumSHA256=b64sum("SHA256", body))
    got = s3.get_object_attributes(Bucket=bucket, Key="simple", ObjectAttributes=ALL_ATTRIBUTES)
    assert got["ETag"] == put["ETag"].strip('"')
    assert got["ObjectSize"] == 1024 and got["StorageClass"] == "STANDARD"
    assert got["Checksum"]["ChecksumSHA256"] == b64sum("SHA256", body)
    assert got["Checksum"]["ChecksumType"] == "FULL_OBJECT"
    assert "ObjectParts" not in got and "DeleteMarker" not in got
    only_size = s3.get_object_attributes(Bucket=bucket, Key="simple", ObjectAttributes=["ObjectSize"])
    assert only_size["ObjectSize"] == 1024 and "ETag" not in only_size and "StorageClass" not in only_size


def test_attributes_of_a_multipart_object_page_their_parts(s3, bucket):
    parts = [pseudo_random_bytes(f"attr-{i}", 5 * MIB) for i in range(3)] + [b"tail"]
    upload, listed, _ = upload_parts(s3, bucket, "mp", "SHA256", parts)
    done = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload,
                                        MultipartUpload={"Parts": listed})
    got = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=ALL_ATTRIBUTES)
    assert got["ETag"] == done["ETag"].strip('"')
    assert got["ObjectSize"] == sum(map(len, parts))
    assert got["Checksum"]["ChecksumSHA256"] == done["ChecksumSHA256"]
    object_parts = got["ObjectParts"]
    assert object_parts["TotalPartsCount"] == 4 and object_parts["IsTruncated"] is False
    assert [(p["PartNumber"], p["Size"], p["ChecksumSHA256"]) for p in object_parts["Parts"]] == [
        (n, len(b), b64sum("SHA256", b)) for n, b in enumerate(parts, start=1)]

    page = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=ALL_ATTRIBUTES,
                                    MaxParts=1, PartNumberMarker=2)["ObjectParts"]
    assert (page["MaxParts"], page["PartNumberMarker"], page["IsTruncated"], page["NextPartNumberMarker"]) \
        == (1, 2, True, 3)
    assert [p["PartNumber"] for p in page["Parts"]] == [3]
    last = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=["ObjectParts"],
                                    MaxParts=10, PartNumberMarker=3)["ObjectParts"]
    assert [p["PartNumber"] for p in last["Parts"]] == [4] and last["IsTruncated"] is False


def test_attributes_errors(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    with raises_s3("NoSuchKey", 404):
        s3.get_object_attributes(Bucket=bucket, Key="missing", ObjectAttributes=["ETag"])
    with raises_s3("InvalidArgument", 400):
        s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["Colour"])
    other = server.client(server.create_key("attr-other-project"))
    with raises_s3("AccessDenied", 403):
        other.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["ETag"])


# --- the aws CLI --------------------------------------------------------------------------------


def test_aws_cli_multipart_copy_has_a_checksum(aws, bucket, tmp_path, s3):
    data = pseudo_random_bytes("cli-20mb", 20 * MIB)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    aws("s3", "cp", str(path), f"s3://{bucket}/big.bin")
    head = aws.json("s3api", "head-object", "--bucket", bucket, "--key", "big.bin", "--checksum-mode", "ENABLED")
    assert head["ContentLength"] == len(data)
    sums = {k: v for k, v in head.items() if k.startswith("Checksum") and k != "ChecksumType"}
    # The venv's CLI (s3transfer) creates multipart uploads with CRC32 and sends every part's
    # CRC32: the object checksum must be the composite of the parts it sent.
    assert list(sums) == ["ChecksumCRC32"] and head["ChecksumType"] == "COMPOSITE", head
    attributes = s3.get_object_attributes(Bucket=bucket, Key="big.bin", ObjectAttributes=["ObjectParts"])
    sizes = [p["Size"] for p in attributes["ObjectParts"]["Parts"]]
    assert sum(sizes) == len(data) and len(sizes) > 1
    chunks, offset = [], 0
    for size in sizes:
        chunks.append(data[offset:offset + size])
        offset += size
    assert sums["ChecksumCRC32"] == composite("CRC32", chunks)
    assert [p["ChecksumCRC32"] for p in attributes["ObjectParts"]["Parts"]] == [b64sum("CRC32", c) for c in chunks]
    got = tmp_path / "back.bin"
    aws("s3", "cp", f"s3://{bucket}/big.bin", str(got))
    assert got.read_bytes() == data
