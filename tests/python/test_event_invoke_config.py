"""Put/Get/Update/Delete/ListFunctionEventInvokeConfig(s) with boto3: retries, maximum event age
and destinations of asynchronous invocations, validated as Lambda does; a refused request
changes nothing."""

from __future__ import annotations

import datetime as dt

import boto3
import pytest

from lambda_helpers import create_python_function, lambda_client, raises_lambda, unique_name
from stratus_testlib import REGION, account_id, client_config

SOURCE = "def handler(event, context):\n    return event\n"


@pytest.fixture
def lam(server):
    return lambda_client(server)


@pytest.fixture
def unchecked(server):
    """A client that lets out-of-range values reach the server (botocore checks them first)."""
    creds = server.admin
    session = boto3.session.Session(aws_access_key_id=creds.access_key_id,
                                    aws_secret_access_key=creds.secret_access_key, region_name=REGION)
    return session.client("lambda", endpoint_url=server.endpoint,
                          config=client_config(signature_version="v4", parameter_validation=False))


@pytest.fixture
def function(lam):
    return create_python_function(lam, SOURCE)


def arn(server, service: str, resource: str, project: str | None = None) -> str:
    account = account_id(project or server.admin.project)
    return f"arn:aws:{service}:us-east-1:{account}:{resource}"


def without_metadata(config: dict) -> dict:
    return {k: v for k, v in config.items() if k != "ResponseMetadata"}


def test_put_get_update_list_delete(server, lam, function):
    queue = arn(server, "sqs", "failures")
    topic = arn(server, "sns", "successes")
    put = lam.put_function_event_invoke_config(
        FunctionName=function, MaximumRetryAttempts=1, MaximumEventAgeInSeconds=120,
        DestinationConfig={"OnFailure": {"Destination": queue}})
    assert put["FunctionArn"] == arn(server, "lambda", f"function:{function}:$LATEST")
    assert put["MaximumRetryAttempts"] == 1
    assert put["MaximumEventAgeInSeconds"] == 120
    assert put["DestinationConfig"]["OnFailure"] == {"Destination": queue}
    assert put["DestinationConfig"].get("OnSuccess", {}) == {}
    assert isinstance(put["LastModified"], dt.datetime)
    assert abs(put["LastModified"].timestamp() - dt.datetime.now().timestamp()) < 60

    got = lam.get_function_event_invoke_config(FunctionName=function)
    assert without_metadata(got) == without_metadata(put)

    # Update merges: only the retry count and OnSuccess change.
    updated = lam.update_function_event_invoke_config(
        FunctionName=function, MaximumRetryAttempts=0,
        DestinationConfig={"OnSuccess": {"Destination": topic}})
    assert updated["MaximumRetryAttempts"] == 0
    assert updated["MaximumEventAgeInSeconds"] == 120
    assert updated["DestinationConfig"]["OnFailure"] == {"Destination": queue}
    assert updated["DestinationConfig"]["OnSuccess"] == {"Destination": topic}

    # Put replaces: what it does not name is gone.
    replaced = lam.put_function_event_invoke_config(FunctionName=function, MaximumEventAgeInSeconds=60)
    assert "MaximumRetryAttempts" not in replaced
    assert replaced["DestinationConfig"].get("OnFailure", {}) == {}

    listed = lam.list_function_event_invoke_configs(FunctionName=function)["FunctionEventInvokeConfigs"]
    assert [c["FunctionArn"] for c in listed] == [replaced["FunctionArn"]]
    assert listed[0]["MaximumEventAgeInSeconds"] == 60

    lam.delete_function_event_invoke_config(FunctionName=function)
    with raises_lambda("ResourceNotFoundException", 404):
        lam.get_function_event_invoke_config(FunctionName=function)
    with raises_lambda("ResourceNotFoundException", 404):
        lam.delete_function_event_invoke_config(FunctionName=function)
    assert lam.list_function_event_invoke_configs(FunctionName=function)["FunctionEventInvokeConfigs"] == []


def test_unset_config_and_unknown_function_are_not_found(lam, function):
    with raises_lambda("ResourceNotFoundException", 404):
        lam.get_function_event_invoke_config(FunctionName=function)
    missing = unique_name("missing")
    with raises_lambda("ResourceNotFoundException", 404):
        lam.put_function_event_invoke_config(FunctionName=missing, MaximumRetryAttempts=1)
    with raises_lambda("ResourceNotFoundException", 404):
        lam.list_function_event_invoke_configs(FunctionName=missing)


def test_function_name_forms_and_qualifiers(server, lam, function):
    full = arn(server, "lambda", f"function:{function}")
    partial = f"{account_id(server.admin.project)}:function:{function}"
    lam.put_function_event_invoke_config(FunctionName=full, MaximumRetryAttempts=2)
    assert lam.get_function_event_invoke_config(FunctionName=partial)["MaximumRetryAttempts"] == 2
    version = lam.publish_version(FunctionName=function)["Version"]
    lam.put_function_event_invoke_config(FunctionName=function, Qualifier=version, MaximumRetryAttempts=0)
    versioned = lam.get_function_event_invoke_config(FunctionName=f"{function}:{version}")
    assert versioned["FunctionArn"].endswith(f":function:{function}:{version}")
    assert versioned["MaximumRetryAttempts"] == 0
    # $LATEST keeps its own settings.
    assert lam.get_function_event_invoke_config(FunctionName=function)["MaximumRetryAttempts"] == 2
    listed = lam.list_function_event_invoke_configs(FunctionName=function)["FunctionEventInvokeConfigs"]
    assert len(listed) == 2
    page = lam.list_function_event_invoke_configs(FunctionName=function, MaxItems=1)
    assert len(page["FunctionEventInvokeConfigs"]) == 1 and page["NextMarker"]
    rest = lam.list_function_event_invoke_configs(FunctionName=function, Marker=page["NextMarker"])
    assert {c["FunctionArn"] for c in page["FunctionEventInvokeConfigs"] + rest["FunctionEventInvokeConfigs"]} \
        == {c["FunctionArn"] for c in listed}
    with raises_lambda("ResourceNotFoundException", 404):
        lam.put_function_event_invoke_config(FunctionName=function, Qualifier="99", MaximumRetryAttempts=0)


def test_invalid_settings_are_refused_and_change_nothing(server, lam, unchecked, function):
    queue = arn(server, "sqs", "q")
    before = without_metadata(lam.put_function_event_invoke_config(
        FunctionName=function, MaximumRetryAttempts=1, DestinationConfig={"OnFailure": {"Destination": queue}}))
    bad_requests = [
        {"MaximumRetryAttempts": 3},
        {"MaximumRetryAttempts": -1},
        {"MaximumEventAgeInSeconds": 59},
        {"MaximumEventAgeInSeconds": 21601},
        # EventBridge and S3 destinations are not supported here.
        {"DestinationConfig": {"OnFailure": {"Destination": arn(server, "events", "event-bus/default")}}},
        {"DestinationConfig": {"OnFailure": {"Destination": "arn:aws:s3:::some-bucket"}}},
        # Another project's queue, a function that does not exist, no ARN at all.
        {"DestinationConfig": {"OnFailure": {"Destination": arn(server, "sqs", "q", project="someone-else")}}},
        {"DestinationConfig": {"OnSuccess": {"Destination": arn(server, "lambda", "function:no-such-fn")}}},
        {"DestinationConfig": {"OnSuccess": {"Destination": "not-an-arn"}}},
    ]
    for request in bad_requests:
        for operation in (unchecked.put_function_event_invoke_config, unchecked.update_function_event_invoke_config):
            with raises_lambda("InvalidParameterValueException", 400) as info:
                operation(FunctionName=function, **request)
            assert info.value.response["Error"]["Message"], request
    assert without_metadata(lam.get_function_event_invoke_config(FunctionName=function)) == before


def test_unsupported_destination_message_names_the_service(server, unchecked, function):
    with raises_lambda("InvalidParameterValueException", 400) as info:
        unchecked.put_function_event_invoke_config(
            FunctionName=function,
            DestinationConfig={"OnFailure": {"Destination": arn(server, "events", "event-bus/default")}})
    assert "events" in info.value.response["Error"]["Message"]


def test_function_destination_in_project_is_accepted(server, lam, function):
    target = create_python_function(lam, SOURCE)
    target_arn = arn(server, "lambda", f"function:{target}")
    put = lam.put_function_event_invoke_config(
        FunctionName=function, DestinationConfig={"OnSuccess": {"Destination": target_arn}})
    assert put["DestinationConfig"]["OnSuccess"] == {"Destination": target_arn}


def test_other_projects_cannot_see_or_change_it(server, lam, function):
    lam.put_function_event_invoke_config(FunctionName=function, MaximumRetryAttempts=1)
    other = lambda_client(server, server.create_key(unique_name("proj"), "admin"))
    with raises_lambda("ResourceNotFoundException", 404):
        other.get_function_event_invoke_config(FunctionName=function)
    with raises_lambda("ResourceNotFoundException", 404):
        other.delete_function_event_invoke_config(FunctionName=function)
    assert lam.get_function_event_invoke_config(FunctionName=function)["MaximumRetryAttempts"] == 1


def test_read_only_keys_cannot_change_it(server, lam, function):
    reader = lambda_client(server, server.create_key(server.admin.project, "read-only"))
    with raises_lambda("AccessDeniedException", 403):
        reader.put_function_event_invoke_config(FunctionName=function, MaximumRetryAttempts=1)
    with raises_lambda("ResourceNotFoundException", 404):
        lam.get_function_event_invoke_config(FunctionName=function)


def test_deleting_the_function_deletes_its_config(lam):
    name = create_python_function(lam, SOURCE)
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
    lam.delete_function(FunctionName=name)
    create_python_function(lam, SOURCE, name=name)
    with raises_lambda("ResourceNotFoundException", 404):
        lam.get_function_event_invoke_config(FunctionName=name)
