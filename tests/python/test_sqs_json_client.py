"""scripts/sqs_json_client.py, the stdlib SQS client of scripts/bench-queues.py: its signatures
equal botocore's, and on the real server it gets what boto3 gets (bodies, attributes, digests,
error codes), so the benchmark measures a client that speaks exactly what boto3 speaks."""

from __future__ import annotations

import sys

import pytest

from stratus_testlib import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "scripts"))
from sqs_client_check import check_against_boto3, check_signature  # noqa: E402
from sqs_json_client import SqsError, SqsJsonClient  # noqa: E402


def test_signature_equals_botocores():
    check_signature()


def test_agrees_with_boto3_on_the_server(server):
    admin = server.admin
    check_against_boto3(server.endpoint, admin.access_key_id, admin.secret_access_key)


def test_a_wrong_secret_is_refused_in_sqs_error_format(server):
    client = SqsJsonClient(server.endpoint, server.admin.access_key_id, "not-the-secret")
    with pytest.raises(SqsError) as refused:
        client.call("ListQueues", {})
    # SQS itself says SignatureDoesNotMatch; Stratus's shared verifier says InvalidSignatureException
    # (Lambda's name). Either way a JSON error document, 403, about the signature.
    assert refused.value.status == 403 and refused.value.code in (
        "SignatureDoesNotMatch", "InvalidSignatureException"), refused.value
