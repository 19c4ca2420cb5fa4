"""maps/ack_codes.csv: complete against the code lists pyx12 enforces, checked at load."""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path

import pytest

from edi_pipeline.maps import ack_codes as module
from edi_pipeline.maps import load_maps
from edi_pipeline.maps.schema import Problems

CODES = load_maps().ack_codes
PYX12_MAPS = files("pyx12") / "map"


def pyx12_codes(map_name: str, xid: str, nth: int = 0) -> set[str]:
    text = (PYX12_MAPS / map_name).read_text(encoding="utf-8")
    blocks = re.findall(rf'xid="{re.escape(xid)}">(.*?)</element>', text, re.S)
    return set(re.findall(r"<code>(.*?)</code>", blocks[nth]))


@pytest.mark.parametrize(
    ("kind", "map_name", "xid", "not_in_x12"),
    [
        ("ik304", "999.5010X231.A1.xml", "IK304", set()),
        # pyx12 also allows IK403 "11", which no X12 DE 621 list defines (acks.md, stedi 621)
        ("ik403", "999.5010X231.A1.xml", "IK403", {"11"}),
        ("ik501", "999.5010X231.A1.xml", "IK501", set()),
        ("ak901", "999.5010X231.A1.xml", "AK901", set()),
        ("ik502", "999.5010X231.A1.xml", "IK502", set()),
        ("ak905", "999.5010X231.A1.xml", "AK905", set()),
        ("ta104", "x12.control.00501.xml", "TA104", set()),
        ("ta105", "x12.control.00501.xml", "TA105", set()),
        ("stc_action", "277.5010.X214.xml", "STC03", set()),
    ],
)
def test_every_code_pyx12_allows_has_a_message(kind, map_name, xid, not_in_x12) -> None:
    allowed = pyx12_codes(map_name, xid) - not_in_x12
    assert allowed <= CODES.codes(kind), sorted(allowed - CODES.codes(kind))


def test_every_entity_a_277ca_claim_status_may_name_is_known() -> None:
    text = (PYX12_MAPS / "277.5010.X214.xml").read_text(encoding="utf-8")
    entities: set[str] = set()
    for block in re.findall(r'xid="STC01-03">(.*?)</element>', text, re.S):
        entities |= set(re.findall(r"<code>(.*?)</code>", block))
    assert entities <= CODES.codes("entity"), sorted(entities - CODES.codes("entity"))


def test_rejection_categories_reject_and_acceptance_accepts() -> None:
    for category in ("A3", "A4", "A6", "A7", "A8"):
        assert CODES.outcome("stc_category", category) == "rejected"
    for category in ("A2", "A5"):
        assert CODES.outcome("stc_category", category) == "accepted"
    assert CODES.outcome("stc_category", "A1") == "pending"
    assert CODES.outcome("ik501", "R") == "rejected"
    assert CODES.outcome("ik501", "E") == "accepted_with_errors"
    assert CODES.outcome("ak901", "P") == "partial"
    assert CODES.outcome("ta104", "R") == "rejected"


def test_every_row_has_a_source_and_a_message() -> None:
    for row in CODES.values():
        assert row.source.strip() and row.message.strip() and row.meaning.strip()


def test_status_messages_name_the_entity() -> None:
    assert "{entity}" in CODES.find("stc_status", "562").message
    assert CODES.find("entity", "85").message == "billing provider"


def _load(tmp_path: Path, body: str) -> list[str]:
    (tmp_path / module.FILE).write_text(
        "kind,code,meaning,message,outcome,source\n" + body, encoding="utf-8"
    )
    problems = Problems()
    module.load(tmp_path, problems)
    return list(problems)


def test_a_broken_map_names_file_row_and_field(tmp_path: Path) -> None:
    problems = _load(
        tmp_path,
        "ik304,8,Segment has data element errors,Fix it.,,src\n"
        "ik304,8,Duplicate,Again.,,src\n"
        "ik501,R,Rejected,Resend.,,src\n"
        "stc_category,A7,Invalid,Fix.,refused,src\n"
        "ta105,001,Mismatch,Check {thing}.,,src\n"
        "ik403,7,Invalid code,Fix.,,\n"
        "bogus,1,x,y,,src\n",
    )
    text = "\n".join(problems)
    assert "ack_codes.csv: row 3 (ik304 8): field code: appears twice" in text
    assert "row 4 (ik501 R): field outcome: is required for kind ik501" in text
    assert "row 5: field outcome: must be one of" in text and "'refused'" in text
    assert "row 6 (ta105 001): field message: only stc_status messages may use" in text
    assert "row 7: field source: is required" in text
    assert "row 8: field kind: must be one of" in text
    assert len(problems) == 6


def test_unknown_column_is_an_error(tmp_path: Path) -> None:
    (tmp_path / module.FILE).write_text(
        "kind,code,meaning,message,outcome,source,outcom\nik304,8,m,x,,s,\n", encoding="utf-8"
    )
    problems = Problems()
    module.load(tmp_path, problems)
    assert any("field outcom: unknown field" in p for p in problems)
