"""Pytest fixtures for the Stratus end-to-end tests; the helpers live in stratus_testlib.py.

Every server is the real `stratus` binary on 127.0.0.1 port 0 inside a pytest tmp dir.
"""

from __future__ import annotations

import pytest

from stratus_testlib import ALL_SERVERS, StratusServer, aws_client, unique_bucket

# Fixtures other modules define, for every test module: `endpoint` (an HTTP subscriber for SNS)
# and `aws` (the aws CLI against the session's server).
pytest_plugins = ["sns_helpers", "test_awscli"]


def _start_server(tmp_path_factory, name: str) -> StratusServer:
    root = tmp_path_factory.mktemp(name)
    return StratusServer(root / "data", root / "server.log").start()


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """A server shared by tests that only need isolation by bucket name."""
    srv = _start_server(tmp_path_factory, "shared")
    yield srv
    srv.kill()


@pytest.fixture
def fresh_server(tmp_path_factory):
    """A server of one's own, for tests that restart it or inspect its data dir."""
    srv = _start_server(tmp_path_factory, "fresh")
    yield srv
    srv.kill()


@pytest.fixture
def new_server(tmp_path_factory):
    """A factory for unstarted servers on new data dirs (the test starts and stops them)."""
    made = []

    def make(name: str = "srv", *extra_args: str) -> StratusServer:
        root = tmp_path_factory.mktemp(name)
        made.append(StratusServer(root / "data", root / "server.log", extra_args))
        return made[-1]

    yield make
    for srv in made:
        srv.kill()


@pytest.fixture
def sqs(server):
    return aws_client(server, "sqs")


@pytest.fixture
def sns(server):
    return aws_client(server, "sns")


@pytest.fixture
def s3(server):
    return server.client()


@pytest.fixture
def bucket(s3):
    name = unique_bucket()
    s3.create_bucket(Bucket=name)
    return name


# --- show the server's log when a test fails --------------------------------------------------
def pytest_runtest_setup(item):
    # Servers that already exist (shared ones) only contribute what they log during this test.
    item._stratus_log_offsets = {id(srv): srv.log_size() for srv in ALL_SERVERS}
    item._stratus_first_server = len(ALL_SERVERS)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if not rep.failed:
        return
    involved = [v for v in getattr(item, "funcargs", {}).values() if isinstance(v, StratusServer)]
    involved += ALL_SERVERS[getattr(item, "_stratus_first_server", len(ALL_SERVERS)):]
    offsets = getattr(item, "_stratus_log_offsets", {})
    seen = set()
    for srv in involved:
        if id(srv) not in seen:
            seen.add(id(srv))
            rep.sections.append((f"stratus server log {srv.data_dir}", srv.log_tail(since=offsets.get(id(srv), 0))))


def pytest_sessionfinish(session, exitstatus):
    for srv in ALL_SERVERS:
        srv.kill()
