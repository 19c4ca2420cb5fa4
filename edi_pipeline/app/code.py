"""The code workflow: encounter exports → intake → coding, without scrub or X12.

``code_files`` reads every record of every input in order, codes each accepted encounter, and
keeps the outcome of each (claim, or the coding problems that held it) beside the rejected
records; ``run_json`` renders the ``code --json`` document: per claim its lines, each with the
facts it was derived from, in input order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import structlog

from edi_pipeline.coding import code
from edi_pipeline.intake import read_file
from edi_pipeline.maps import Maps
from edi_pipeline.models import Claim, Coded, Problem, Rejection, ServiceLine, money

log = structlog.get_logger()


@dataclass
class CodeRun:
    """Every encounter read, coded or not, and every record rejected, in input order."""

    coded: list[Coded] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)

    @property
    def claims(self) -> list[Claim]:
        return [c.claim for c in self.coded if c.claim is not None]

    @property
    def not_coded(self) -> list[Coded]:
        return [c for c in self.coded if c.claim is None]

    @property
    def exit_code(self) -> int:
        """0 every record coded; 1 some rejected at intake or not coded (the run completed)."""
        return 0 if not self.rejected and not self.not_coded else 1


def code_files(paths: Iterable[Path], *, maps: Maps) -> CodeRun:
    run = CodeRun()
    for path in paths:
        for item in read_file(Path(path), maps):
            if isinstance(item, Rejection):
                run.rejected.append(item)
                continue
            result = code(item, maps)
            run.coded.append(result)
            if result.claim is None:
                log.info(
                    "coding.encounter_not_coded",
                    encounter_id=item.encounter_id,
                    codes=sorted({p.code for p in result.problems if p.severity == "error"}),
                )
    claims = run.claims
    log.info(
        "coding.finished",
        coded=len(claims),
        not_coded=len(run.not_coded),
        rejected=len(run.rejected),
        lines=sum(len(c.lines) for c in claims),
        charge=money(sum((c.total_charge for c in claims), Decimal("0.00"))),
    )
    return run


def _number(value: Decimal) -> int | str:
    """Whole units as a JSON integer, anything else as an exact decimal string."""
    if value == value.to_integral_value():
        return int(value)
    return str(value)


def problem_json(problem: Problem) -> dict[str, Any]:
    return {
        "code": problem.code,
        "severity": problem.severity,
        "field": problem.where.field,
        "message": problem.message,
    }


def line_json(number: int, line: ServiceLine) -> dict[str, Any]:
    return {
        "line": number,
        "kind": line.kind,
        "procedure": line.procedure,
        "modifiers": list(line.modifiers),
        "units": _number(line.units),
        "charge": money(line.charge),
        "diagnosis_pointers": list(line.diagnosis_pointers),
        "drug": line.drug,
        "ndc": line.ndc,
        "ndc_quantity": None if line.ndc_quantity is None else str(line.ndc_quantity),
        "ndc_unit": line.ndc_unit,
        "note": line.note,
        "derived_from": line.derived_from,
    }


def claim_json(coded: Coded) -> dict[str, Any]:
    claim = coded.claim
    assert claim is not None
    source = coded.encounter.source
    return {
        "encounter_id": claim.encounter_id,
        "file": source.file,
        "record": source.record,
        "payer": claim.payer_id,
        "date_of_service": claim.date_of_service.isoformat(),
        "place_of_service": claim.place_of_service,
        "frequency": claim.frequency,
        "payer_claim_number": claim.payer_claim_number,
        "prior_authorization": claim.prior_authorization,
        "diagnoses": list(claim.diagnoses),
        "charge": money(claim.total_charge),
        "lines": [line_json(n, line) for n, line in enumerate(claim.lines, start=1)],
        "notes": list(claim.notes),
        "warnings": [
            problem_json(p)
            for p in (*coded.encounter.warnings, *coded.problems)
            if p.severity == "warning"
        ],
    }


def run_json(run: CodeRun) -> dict[str, Any]:
    """The ``code --json`` document (deterministic: input order, lines in claim order)."""
    claims = run.claims
    return {
        "claims": [claim_json(c) for c in run.coded if c.claim is not None],
        "not_coded": [
            {
                "encounter_id": c.encounter.encounter_id,
                "file": c.encounter.source.file,
                "record": c.encounter.source.record,
                "problems": [problem_json(p) for p in c.problems],
            }
            for c in run.not_coded
        ],
        "rejected": [
            {
                "file": r.file,
                "record": r.record,
                "encounter_id": r.encounter_id,
                "errors": [
                    {"field": p.where.field, "code": p.code, "message": p.message}
                    for p in r.problems
                    if p.severity == "error"
                ],
            }
            for r in run.rejected
        ],
        "summary": {
            "records": len(run.coded) + len(run.rejected),
            "coded": len(claims),
            "not_coded": len(run.not_coded),
            "rejected": len(run.rejected),
            "lines": sum(len(c.lines) for c in claims),
            "charge": money(sum((c.total_charge for c in claims), Decimal("0.00"))),
        },
    }
