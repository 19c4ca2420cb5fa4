"""The remit stage logs ids, codes, counts and dollars under stable event names, never PHI."""

from __future__ import annotations

from structlog.testing import capture_logs

from edi_pipeline.app.remit import process
from edi_pipeline.maps import load_maps
from tests.conftest import FIXTURES

RT = FIXTURES / "835" / "roundtrip.835"


def test_event_names_and_no_patient_names() -> None:
    with capture_logs() as logs:
        process([RT], maps=load_maps())
    events = [e["event"] for e in logs]
    assert events == ["remit.file_read", "remit.finished"]
    assert logs[-1]["claims"] == 11 and logs[-1]["denied_dollars"] == "21380.00"
    rendered = repr(logs)
    # NM1*QC of the fixture: names and member ids never reach a log line
    for phi in ("DOE", "JANE", "ROE", "W000000001"):
        assert phi not in rendered
