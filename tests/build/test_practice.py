"""The practice configuration: the bundled demo loads, and every mistake is named."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from edi_pipeline.errors import SettingsError
from edi_pipeline.practice import demo_root, load_practice, parse_practice
from tests.conftest import FIXTURES

DEMO = FIXTURES / "demo" / "practice.toml"


def raw() -> dict:
    return tomllib.loads(DEMO.read_text())


def test_bundled_demo_loads_with_defaults():
    practice = load_practice()
    assert practice.usage == "T"
    assert practice.claims_per_transaction == 5000
    assert practice.billing_provider.address.zip == "171010001"
    assert practice.pay_to is not None and "BOX" in practice.pay_to.line1
    assert practice.receiver_for("aetna").key == "clearinghouse"
    assert (demo_root() / "practice.toml").is_file()


def test_defaults_when_left_out(tmp_path: Path):
    data = raw()
    for key in ("usage", "claims_per_transaction", "line_ending", "claim", "pay_to"):
        data.pop(key, None)
    practice = parse_practice(data, "p.toml")
    assert (practice.usage, practice.claims_per_transaction, practice.line_ending) == (
        "T",
        5000,
        "\n",
    )
    assert practice.claim.assignment == "A"
    assert practice.pay_to is None


def broken(**changes) -> str:
    data = raw()
    for dotted, value in changes.items():
        *parents, leaf = dotted.split("__")
        target = data
        for p in parents:
            target = target[p]
        if value is None:
            target.pop(leaf)
        else:
            target[leaf] = value
    with pytest.raises(SettingsError) as info:
        parse_practice(data, "practice.toml")
    return str(info.value)


def test_po_box_in_the_billing_address_is_refused():
    msg = broken(billing_provider__address__line1="P.O. Box 12")
    assert "[billing_provider].address: field line1" in msg
    assert "PO box" in msg


def test_five_digit_zip_is_refused_for_the_billing_provider():
    assert "9 digits" in broken(billing_provider__address__zip="17101")


def test_npi_check_digit():
    assert "check digit" in broken(billing_provider__npi="1234567890")


def test_every_problem_is_listed_at_once():
    msg = broken(
        usage="X",
        billing_provider__ein="12-3456789",
        submitter__id="lower case",
        claims_per_transaction=6000,
    )
    for needle in ("field usage", "field ein", "field id", "claims_per_transaction"):
        assert needle in msg, needle


def test_unknown_keys_are_errors():
    data = raw()
    data["submitter"]["contact_phon"] = "5555550100"
    with pytest.raises(SettingsError, match="contact_phon: unknown field"):
        parse_practice(data, "practice.toml")


def test_a_payer_no_receiver_takes_is_named():
    data = raw()
    data["receiver"][0]["payers"] = ["aetna"]
    practice = parse_practice(data, "practice.toml")
    with pytest.raises(SettingsError, match="no receiver takes payer 'medicare'"):
        practice.receiver_for("medicare")


def test_a_payer_routed_twice_is_refused():
    data = raw()
    data["receiver"].append(dict(data["receiver"][0], key="medicare-direct"))
    with pytest.raises(SettingsError, match="also routed"):
        parse_practice(data, "practice.toml")


def test_unreadable_and_invalid_files(tmp_path: Path):
    with pytest.raises(SettingsError, match="cannot be read"):
        load_practice(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("key = [")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_practice(bad)
