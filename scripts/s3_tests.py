"""Helpers of scripts/s3-tests.sh: the ceph/s3-tests config for a running server, and the report.

`config`  creates the suite's "alt" and "tenant" users (each a project of its own with an admin key,
          as `stratus keys create` makes them) on the server whose data dir is given, asks the server
          who each user is (ListBuckets' Owner), and writes the S3TEST_CONF file.
`report`  reads pytest's JUnit XML, prints passed/total per feature group, the total and the
          percentage, and compares the passes with tests/s3-tests/expected-pass.txt: exit 1 when a
          listed test did not pass; tests that pass but are not listed are printed (or, with
          --update, the list is rewritten from this run).
"""

from __future__ import annotations

import argparse
import configparser
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import boto3
from botocore.config import Config

REGION = "us-east-1"

# Feature groups: the first pattern that matches a test's name (searched, not anchored) decides
# its group. The order matters: `test_versioning_obj_list_marker` is versioning, not listing;
# `test_bucket_policy_multipart` and `test_bucket_list_objects_anonymous` (which needs a public-read
# ACL) are access control, not multipart or listing; `test_multipart_copy_*` is multipart.
GROUPS: list[tuple[str, str]] = [
    ("object lock", r"object_lock|legal_hold|retention|bypass_governance"),
    ("versioning", r"versioning|versioned|version_id|delete_marker"),
    ("POST uploads", r"post_object"),
    ("checksums", r"checksum"),
    ("CORS", r"cors"),
    ("website", r"website|redirect_location|routing_rule"),
    ("lifecycle", r"lifecycle"),
    ("public access/ACL/policy",
     r"acl|policy|public|access_bucket|grant|ownership|anon|_authenticated|expected_bucket_owner"),
    ("tagging", r"tagging|_tags?(_|$)"),
    ("conditional", r"ifmatch|ifnonematch|ifmodified|ifunmodified|if_match|if_none_match|conditional"),
    ("multipart", r"multipart|upload_part|_part_"),
    ("copy", r"copy"),
    ("listing", r"bucket_list|bucketv2_list|listv2|list_objects|key_count|list_marker|list_prefix"),
    ("metadata", r"metadata|cache_control|_expires$|content_encoding|response_headers|unicode"),
    ("get/head/range", r"range|ranged|_head|_read|_get|atomic|torrent|attributes"),
    ("bucket ops", r"bucket|buckets"),
]
OTHER = "other"


def group_of(test: str) -> str:
    for name, pattern in GROUPS:
        if re.search(pattern, test):
            return name
    return OTHER


# --- config ------------------------------------------------------------------------------------
def _clean_env() -> dict[str, str]:
    """The caller's environment without its AWS settings (a profile or region must not leak in)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull, NO_PROXY="127.0.0.1,localhost")
    return env


def _admin_key(stratus_bin: str, endpoint: str, token: str, project: str) -> dict:
    """A new project with an admin key (`stratus keys create` creates the project with its first key)."""
    out = subprocess.run(
        [stratus_bin, "keys", "create", "--project", project, "--role", "admin", "--json"],
        env={**_clean_env(), "STRATUS_ENDPOINT": endpoint, "STRATUS_TOKEN": token},
        capture_output=True, text=True, timeout=60, check=True, stdin=subprocess.DEVNULL).stdout
    return json.loads(out)


def _owner(endpoint: str, access_key: str, secret_key: str) -> tuple[str, str]:
    """(ID, DisplayName) the server reports for this user: the suite compares ACL grants with them."""
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=access_key,
                      aws_secret_access_key=secret_key, config=Config(signature_version="s3v4"))
    owner = s3.list_buckets().get("Owner") or {}
    user_id = owner.get("ID") or access_key
    return user_id, owner.get("DisplayName") or user_id


def write_config(args: argparse.Namespace) -> None:
    data_dir = Path(args.data_dir)
    endpoint = json.loads((data_dir / "server.json").read_text())["endpoint"]
    creds = configparser.ConfigParser()
    creds.read(data_dir / "credentials")
    main = creds["default"]
    users = {"main": (main["aws_access_key_id"], main["aws_secret_access_key"])}
    for role in ("alt", "tenant"):
        key = _admin_key(args.stratus_bin, endpoint, main["stratus_token"], f"s3tests-{role}")
        users[role] = (key["access_key_id"], key["secret_access_key"])

    match = re.fullmatch(r"(https?)://([^:/]+):(\d+)/?", endpoint)
    if not match:
        raise SystemExit(f"s3-tests: unexpected endpoint {endpoint!r} in server.json")
    scheme, host, port = match.groups()
    cfg = configparser.RawConfigParser()
    cfg["DEFAULT"] = {"host": host, "port": port, "is_secure": str(scheme == "https"), "ssl_verify": "False"}
    # Buckets the suite creates start with this prefix; it cleans up only buckets that carry it.
    cfg["fixtures"] = {"bucket prefix": "s3t-{random}-"}
    for role, (access, secret) in users.items():
        user_id, display = _owner(endpoint, access, secret)
        section = {"access_key": access, "secret_key": secret, "user_id": user_id, "display_name": display,
                   "email": f"{role}@s3tests.invalid"}
        if role == "main":
            section["api_name"] = REGION
            # How long the suite's lifecycle tests take one "day" to be (RGW's rgw_lc_debug_interval).
            section["lc_debug_interval"] = str(args.lc_day_seconds)
        if role == "tenant":
            section["tenant"] = "s3tests-tenant"
        cfg[f"s3 {role}"] = section
    # configure() reads the IAM sections unconditionally; the IAM tests are deselected, so these
    # only have to exist: they name the main user, which no test selected here uses through IAM.
    access, secret = users["main"]
    for section in ("iam", "iam root", "iam alt root"):
        cfg[section] = {"access_key": access, "secret_key": secret, "user_id": "unused", "email": "unused@invalid",
                        "display_name": "unused"}
    with open(args.out, "w") as fh:
        cfg.write(fh)


# --- report ------------------------------------------------------------------------------------
def outcomes(junit: Path) -> dict[str, tuple[str, str]]:
    """test name -> (outcome, first line of the failure message) from pytest's JUnit XML."""
    result = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        outcome, message = "passed", ""
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}[child.tag]
                message = (child.get("message") or "").strip().splitlines()[:1]
                message = message[0][:200] if message else ""
                break
        # An error in teardown adds a second entry for the same test: the worst outcome wins.
        name = case.get("name")
        if name not in result or result[name][0] == "passed":
            result[name] = (outcome, message)
    return result


def report(args: argparse.Namespace) -> int:
    results = outcomes(Path(args.junit))
    passed = sorted(t for t, (outcome, _) in results.items() if outcome == "passed")
    expected_path = Path(args.expected)
    expected = [line.strip() for line in expected_path.read_text().splitlines()] if expected_path.exists() else []
    expected = [t for t in expected if t and not t.startswith("#")]
    if args.subset:
        expected = [t for t in expected if t in results]

    per_group: dict[str, list[int]] = {name: [0, 0] for name, _ in GROUPS}
    per_group[OTHER] = [0, 0]
    for test, (outcome, _) in results.items():
        counts = per_group[group_of(test.split("[")[0])]
        counts[1] += 1
        counts[0] += outcome == "passed"
    print("\n== ceph/s3-tests test_s3.py: passed per feature group ==")
    print(f"{'group':<26}{'passed':>8}{'total':>8}")
    for name, (ok, total) in per_group.items():
        if total:
            print(f"{name:<26}{ok:>8}{total:>8}")
    pct = 100.0 * len(passed) / len(results) if results else 0.0
    print(f"{'TOTAL':<26}{len(passed):>8}{len(results):>8}   ({pct:.1f}% passed)")

    if args.update:
        expected_path.write_text("".join(f"{t}\n" for t in passed))
        print(f"s3-tests: wrote {len(passed)} tests to {expected_path}")
        return 0

    passed_set = set(passed)
    regressions = [t for t in expected if t not in passed_set]
    new = [t for t in passed if t not in set(expected)]
    if new:
        print(f"\ns3-tests: {len(new)} tests pass that {expected_path.name} does not list "
              "(add them: scripts/s3-tests.sh --update):")
        for test in new:
            print(f"  + {test}")
    if regressions:
        print(f"\ns3-tests: FAILED: {len(regressions)} tests listed in {expected_path.name} did not pass:")
        for test in regressions:
            outcome, message = results.get(test, ("not run", "not in this run's selection"))
            print(f"  - {test}: {outcome}: {message}")
        return 1
    print(f"\ns3-tests: OK: all {len(expected)} expected tests passed")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    cfg = sub.add_parser("config", help="create the alt/tenant users and write S3TEST_CONF")
    cfg.add_argument("--stratus-bin", required=True)
    cfg.add_argument("--data-dir", required=True)
    cfg.add_argument("--out", required=True)
    cfg.add_argument("--lc-day-seconds", type=int, default=10,
                     help="the server's --lifecycle-day-seconds (the suite's lc_debug_interval)")
    rep = sub.add_parser("report", help="per-group pass counts and the comparison with the expected list")
    rep.add_argument("--junit", required=True)
    rep.add_argument("--expected", required=True)
    rep.add_argument("--update", action="store_true")
    rep.add_argument("--subset", action="store_true", help="compare only the tests that ran")
    args = parser.parse_args()
    if args.command == "config":
        write_config(args)
        return 0
    return report(args)


if __name__ == "__main__":
    sys.exit(main())
