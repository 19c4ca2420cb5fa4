"""The denial report: aggregates equal the remit JSON, proposals load in the scrub engine, the
HTML is self-contained; and in a real headless Chromium it renders with its charts and totals."""

from __future__ import annotations

import json
import os
import stat
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from edi_pipeline.cli import cli
from edi_pipeline.ledger.sqlite import SqliteLedger
from tests.conftest import FIXTURES

FILES = [FIXTURES / "835" / "roundtrip.835", FIXTURES / "835" / "roundtrip-feb.835"]
CHROMIUM = Path("/usr/bin/chromium")


def remit_json(*args: str) -> dict:
    result = CliRunner().invoke(cli, ["remit", *map(str, FILES), "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_report_figures_equal_remit_json(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # no default ledger here
    doc = remit_json()
    result = CliRunner().invoke(cli, ["report", *map(str, FILES), "--json"])
    assert result.exit_code == 0, result.output
    rep = json.loads(result.stdout)
    assert rep["denied_dollars"] == doc["summary"]["denied_dollars"] == "42760.00"
    assert rep["by_root_cause"] == doc["summary"]["by_root_cause"]
    assert sum(Decimal(f["dollars"]) for f in rep["fixes"]) == Decimal(rep["denied_dollars"])


def test_proposals_are_valid_scrub_rules(tmp_path, monkeypatch) -> None:
    from edi_pipeline.scrub import kinds as _kinds  # noqa: F401 - registers the kinds
    from edi_pipeline.scrub.engine import KINDS, build_rule

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["report", *map(str, FILES), "--json"])
    proposals = json.loads(result.stdout)["proposals"]
    by_kind = {p["kind"]: p for p in proposals}
    # the repeated CO-16 + M119 on J1745 (no NDC sent) for one payer proposes ndc_required
    assert by_kind["ndc_required"]["procedure"] == "J1745"
    assert by_kind["auth_required"]["procedure"] == "J0129"
    assert by_kind["bundling"]["procedure"] == "99214"
    complete = [p for p in proposals if p["complete"]]
    assert {p["kind"] for p in complete} == {"ndc_required", "auth_required", "bundling"}
    for p in complete:
        (raw,) = tomllib.loads(p["toml"])["rule"]
        rule, problems = build_rule(KINDS[raw["kind"]], raw, payer="aetna")
        assert problems == [] and rule is not None, (p["toml"], problems)
    for p in proposals:
        if not p["complete"]:  # left for a person: commented out, still valid TOML
            assert tomllib.loads(p["toml"]) == {}
    result = CliRunner().invoke(cli, ["report", *map(str, FILES), "--json", "--min-denials", "3"])
    assert json.loads(result.stdout)["proposals"] == []


def test_report_from_the_ledger(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    ledger_path = tmp_path / "ledger.sqlite"
    SqliteLedger.open(ledger_path).close()
    doc = remit_json("--ledger", str(ledger_path))  # posts both payments
    html = tmp_path / "out" / "report.html"
    result = CliRunner().invoke(cli, ["report", "--ledger", str(ledger_path), "--html", str(html)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(html.stat().st_mode) == 0o600
    text = html.read_text()
    assert f'id="total-denied" data-value="{doc["summary"]["denied_dollars"]}"' in text
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in text and "<script" not in text


def _chromium_or_skip() -> None:
    if CHROMIUM.exists():
        return
    message = "Debian's chromium is not installed (apt-get install -y chromium chromium-driver)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}: the browser test must run in CI")
    pytest.skip(message)


@pytest.mark.browser
def test_html_report_in_headless_chromium(tmp_path, monkeypatch) -> None:
    _chromium_or_skip()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("playwright is not installed: the browser test must run in CI")
        pytest.skip("playwright is not installed")
    monkeypatch.chdir(tmp_path)
    doc = remit_json()
    summary = doc["summary"]
    html = tmp_path / "report.html"
    result = CliRunner().invoke(cli, ["report", *map(str, FILES), "--html", str(html)])
    assert result.exit_code == 0, result.output
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            page = browser.new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.goto(html.as_uri())
            page.wait_for_load_state("load")
            assert page.title() == "Denials report"
            # the three charts are there and drawn with a real size
            for chart in ("#chart-root-cause", "#chart-payer", "#chart-drug-time"):
                box = page.locator(chart).bounding_box()
                assert box is not None and box["width"] > 300 and box["height"] > 50, chart
            bars = page.locator("#chart-root-cause g.bar")
            assert bars.count() == len(summary["by_root_cause"])
            for i in range(bars.count()):
                bar = bars.nth(i)
                cause = bar.get_attribute("data-label")
                assert bar.get_attribute("data-value") == summary["by_root_cause"][cause]
                assert bar.locator("rect").bounding_box()["width"] >= 1
            assert page.locator("#chart-drug-time g.series").count() >= 5  # one line per drug
            # the totals a person reads equal the remit JSON
            shown = page.locator("#total-denied").inner_text()
            assert shown == f"${Decimal(summary['denied_dollars']):,}"
            rows = page.locator("#table-root-cause tbody tr")
            seen = {}
            for i in range(rows.count()):
                row = rows.nth(i)
                text = row.locator("td.num").inner_text()
                seen[row.get_attribute("data-root-cause")] = text.replace("$", "").replace(",", "")
            assert seen == summary["by_root_cause"]
            assert page.locator("#table-fixes tbody tr").count() == len(summary["by_root_cause"])
            assert page.locator("section.proposal").count() >= 3
            snippets = page.locator("section.proposal pre").all_inner_texts()
            assert any('kind = "ndc_required"' in t and '"J1745"' in t for t in snippets)
        finally:
            browser.close()
    assert requests == [html.as_uri()]  # nothing fetched from anywhere else
