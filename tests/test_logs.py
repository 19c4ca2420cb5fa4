"""The PHI processor: no name, birth date, member id or address reaches rendered log output."""

from __future__ import annotations

import json
import logging
from datetime import date

import structlog

from edi_pipeline import logs
from edi_pipeline.models import Address, Person


def test_drop_phi_removes_keys_at_every_level() -> None:
    event = {
        "event": "intake.record_quarantined",
        "encounter_id": "E1",
        "member_id": "XYZ123",
        "context": {"patient": {"last_name": "DOE"}, "claim_id": "C1"},
    }
    clean = logs.drop_phi(None, "info", event)
    assert clean == {
        "event": "intake.record_quarantined",
        "encounter_id": "E1",
        "context": {"claim_id": "C1"},
    }


def test_rendered_json_never_contains_phi(capsys) -> None:
    logs.configure("json", logging.DEBUG)
    person = Person(
        "ZZLASTNAME",
        "ZZFIRST",
        date(1961, 2, 3),
        "F",
        Address("1 PHI ST", "PHICITY", "PA", "17101"),
    )
    log = structlog.get_logger()
    with structlog.contextvars.bound_contextvars(encounter_id="E42", last_name="ZZLASTNAME"):
        log.info(
            "coding.claim_coded",
            patient=person,
            member_id="MEMBER99",
            lines=3,
            address={"line1": "1 PHI ST"},
        )
        log.info("intake.record_read", value=person)
    err = capsys.readouterr().err
    for phi in ("ZZLASTNAME", "ZZFIRST", "1961", "MEMBER99", "PHI ST", "PHICITY"):
        assert phi not in err
    events = [json.loads(line) for line in err.splitlines()]
    assert events[0]["encounter_id"] == "E42" and events[0]["lines"] == 3
    assert events[1]["value"] == "<Person>"
    structlog.reset_defaults()
