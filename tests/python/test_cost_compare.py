"""`stratus cost compare`: serverless vs always-on pricing, run as the real binary (offline).

Expected figures are computed here by hand from the published formulas (docs/cost-compare.md),
not read back from the tool.
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET

import pytest

from stratus_testlib import run_stratus

# AWS Lambda x86 and t3.micro on-demand prices (the catalog's defaults).
PER_MILLION_REQUESTS = 0.20
PER_GB_SECOND = 0.0000166667
T3_MICRO_HOURLY = 0.0104


def compare(*args: str) -> dict:
    proc = run_stratus("cost", "compare", *args, "--json")
    return json.loads(proc.stdout)


def refused(*args: str) -> str:
    proc = run_stratus("cost", "compare", *args, check=False)
    assert proc.returncode != 0, proc.stdout
    assert proc.stdout == ""
    return proc.stderr


def test_constant_trace_break_even_is_the_hand_calculation():
    # 10 req/s for 2 days, 100 ms at 128 MB: one t3.micro (2 servers of 128 MB in 1 GiB).
    result = compare("--synthetic", "constant", "--rate", "10", "--days", "2",
                     "--service-ms", "100", "--memory-mb", "128")
    per_request = PER_MILLION_REQUESTS / 1e6 + 0.100 * (128 / 1024) * PER_GB_SECOND
    requests = 10 * 2 * 86400
    assert result["trace"]["requests"] == pytest.approx(requests)
    assert result["trace"]["peak_rate"] == pytest.approx(10)
    assert result["serverless"]["usd"] == pytest.approx(requests * per_request, rel=1e-9)
    fleet = result["always_on"]
    assert (fleet["instance"], fleet["count"], fleet["servers"]) == ("t3.micro", 1, 2)
    assert fleet["usd"] == pytest.approx(48 * T3_MICRO_HOURLY)
    assert fleet["p95_ms_at_peak"] <= result["workload"]["p95_bound_ms"] == pytest.approx(500)
    # Serverless per hour at rate r: r × 3600 × per_request; equal to the fleet's hourly price at
    # r* = hourly / (3600 × per_request); utilisation r* × S / servers.
    rate = T3_MICRO_HOURLY / (3600 * per_request)
    assert result["break_even"]["rate"] == pytest.approx(rate, rel=1e-9)
    assert result["break_even"]["utilisation"] == pytest.approx(rate * 0.1 / 2, rel=1e-9)
    assert result["break_even"]["reachable"] is True
    ratio = requests * per_request / (48 * T3_MICRO_HOURLY)
    assert result["serverless_over_always_on"] == pytest.approx(ratio, rel=1e-9)
    assert result["savings_percent"] == pytest.approx((1 - ratio) * 100, rel=1e-9)
    assert result["source"].startswith("synthetic constant")


def test_custom_catalog_and_csv_trace(tmp_path):
    catalog = tmp_path / "prices.toml"
    catalog.write_text(
        "[lambda]\nper_million_requests = 1.0\nper_gb_second = 0.00001\n\n"
        "[[instances]]\nname = \"box\"\nvcpus = 4\nmemory_gib = 8.0\nhourly = 0.1\n"
    )
    trace = tmp_path / "trace.csv"
    # Four 15-minute intervals: 9000, 0, 4500, 4500 requests (peak 10/s, mean 5/s).
    trace.write_text("start_seconds,requests\n0,9000\n900,0\n1800,4500\n2700,4500\n")
    result = compare("--trace", str(trace), "--catalog", str(catalog),
                     "--service-ms", "49.2", "--memory-mb", "256", "--p95-ms", "400")
    # 49.2 ms bills as 50 ms: 1e-6 + 0.05 × 0.25 × 1e-5 = 1.125e-6 USD per request.
    per_request = 1e-6 + 0.050 * 0.25 * 0.00001
    assert result["workload"]["billed_ms"] == 50
    assert result["serverless"]["usd"] == pytest.approx(18000 * per_request, rel=1e-9)
    assert result["trace"]["period_hours"] == pytest.approx(1.0)
    assert result["trace"]["peak_rate"] == pytest.approx(10.0)
    fleet = result["always_on"]
    assert (fleet["instance"], fleet["count"], fleet["servers"]) == ("box", 1, 4)
    assert fleet["usd"] == pytest.approx(0.1)
    rate = 0.1 / (3600 * per_request)
    assert result["break_even"]["rate"] == pytest.approx(rate, rel=1e-9)
    assert result["break_even"]["utilisation"] == pytest.approx(rate * 0.0492 / 4, rel=1e-9)


def test_mm1_fleet_meets_the_closed_form_bound(tmp_path):
    # One 1-vCPU instance type: M/M/1, p95 = ln 20 / (μ − λ). S = 100 ms, λ = 4/s ⇒ 499.3 ms,
    # within a 500 ms bound; at 4.1/s it needs a second instance.
    catalog = tmp_path / "one.json"
    catalog.write_text(json.dumps({"instances": [
        {"name": "one", "vcpus": 1, "memory_gib": 1.0, "hourly": 0.01}]}))
    at_4 = compare("--synthetic", "constant", "--rate", "4", "--days", "1",
                   "--catalog", str(catalog), "--p95-ms", "500")
    assert at_4["always_on"]["count"] == 1
    assert at_4["always_on"]["p95_ms_at_peak"] == pytest.approx(1000 * math.log(20) / (10 - 4))
    at_41 = compare("--synthetic", "constant", "--rate", "4.1", "--days", "1",
                    "--catalog", str(catalog), "--p95-ms", "500")
    assert at_41["always_on"]["count"] == 2


def test_intermittent_trace_sizes_for_its_peak_and_serverless_saves():
    result = compare("--synthetic", "intermittent", "--rate", "1", "--days", "7",
                     "--active-minutes", "6")
    assert result["trace"]["peak_rate"] == pytest.approx(10.0)
    assert result["always_on"]["peak_utilisation"] == pytest.approx(
        10 * result["always_on"]["mean_utilisation"])
    assert result["savings_percent"] > 70


def test_table_and_svg_chart(tmp_path):
    chart = tmp_path / "compare.svg"
    proc = run_stratus("cost", "compare", "--synthetic", "diurnal", "--rate", "20", "--days", "3",
                       "--chart", str(chart))
    for label in ("serverless", "always-on", "break-even", "× t3.micro"):
        assert label in proc.stdout
    root = ET.parse(chart).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = " ".join("".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "break-even" in texts and "mean utilisation" in texts


@pytest.mark.parametrize("args, message", [
    (("--synthetic", "sometimes"), "unknown synthetic trace"),
    (("--synthetic", "constant", "--rate", "-5"), "non-negative"),
    (("--synthetic", "constant", "--days", "0"), "days"),
    (("--synthetic", "constant", "--trace", "x.csv"), "cannot be used with"),
    ((), "--trace <FILE>|--synthetic <KIND>"),
    (("--synthetic", "constant", "--memory-mb", "64"), "memory"),
    (("--synthetic", "constant", "--service-ms", "100", "--p95-ms", "250"), "must exceed"),
    (("--synthetic", "constant", "--chart", "CHART.png"), "PNG charts are not supported"),
    (("--synthetic", "constant", "--chart", "CHART.pdf"), "must be an .svg"),
])
def test_bad_input_is_refused_and_writes_nothing(tmp_path, args, message):
    chart = tmp_path / "chart.svg"
    args = tuple(a.replace("CHART", str(tmp_path / "chart")) for a in args)
    extra = () if "--chart" in args else ("--chart", str(chart))
    stderr = refused(*args, *extra)
    assert message in stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("body, message", [
    ("time,count\n0,1\n60,1\n", "header"),
    ("start_seconds,requests\n0,1\n60,-2\n", "line 3"),
    ("start_seconds,requests\n60,1\n0,1\n", "not after"),
    ("start_seconds,requests\n0,1\n60,1\n180,1\n", "every interval"),
    ("start_seconds,requests\n0,one\n60,1\n", "line 2"),
])
def test_malformed_trace_files_are_refused(tmp_path, body, message):
    trace = tmp_path / "trace.csv"
    trace.write_text(body)
    assert message in refused("--trace", str(trace))


def test_bad_catalog_is_refused(tmp_path):
    catalog = tmp_path / "prices.toml"
    catalog.write_text("[lamda]\nper_gb_second = 1\n")
    assert "not a valid price catalog" in refused("--synthetic", "constant", "--catalog", str(catalog))
    catalog.write_text("[[instances]]\nname = \"x\"\nvcpus = 0\nmemory_gib = 1.0\nhourly = 1.0\n")
    assert "vcpus > 0" in refused("--synthetic", "constant", "--catalog", str(catalog))
