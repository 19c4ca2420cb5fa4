"""Short views of coded claims for table-driven assertions."""

from __future__ import annotations

from decimal import Decimal

from edi_pipeline.coding import code
from edi_pipeline.models import Coded


def brief(coded: Coded) -> list[tuple]:
    """(procedure, modifiers joined by '-', units as int) per line, in claim order."""
    assert coded.claim is not None, [p.message for p in coded.problems]
    return [
        (line.procedure, "-".join(line.modifiers), int(line.units)) for line in coded.claim.lines
    ]


def lines(coded: Coded, kind: str | None = None, procedure: str | None = None):
    assert coded.claim is not None, [p.message for p in coded.problems]
    return [
        line
        for line in coded.claim.lines
        if (kind is None or line.kind == kind)
        and (procedure is None or line.procedure == procedure)
    ]


def admin_codes(coded: Coded) -> list[tuple[str, int]]:
    return [(line.procedure, int(line.units)) for line in lines(coded, "administration")]


def errors(coded: Coded) -> list[tuple[str, str | None]]:
    return [(p.code, p.where.field) for p in coded.problems if p.severity == "error"]


def warnings(coded: Coded) -> list[str]:
    return [p.code for p in coded.problems if p.severity == "warning"]


def code_one(maps, encounter) -> Coded:
    return code(encounter, maps)


D = Decimal
