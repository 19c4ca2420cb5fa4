"""The E/M line and in-office labs.

E/M (procedures.md s3, administration.md A8): a visit on the day of a procedure or a drug
administration is billed only when it is significant and separately identifiable, then with
modifier 25; otherwise it is part of the procedure (global 000) and no line is billed, which the
claim's notes say. The payer map may also refuse 99211 with drug administration (Medicare).
A visit with nothing else that day is billed as is. Labs are billed as coded by the practice's
in-office test (labs.md), one line per test.
"""

from __future__ import annotations

import re
from decimal import Decimal

from edi_pipeline.coding.context import Context, Draft

_EM = re.compile(r"99[0-9]{3}|G[0-9]{4}")
_CPT = re.compile(r"[0-9]{4}[0-9A-Z]")


def em_lines(ctx: Context, other: list[Draft]) -> list[Draft]:
    visit = ctx.encounter.visit
    if visit is None:
        return []
    code = visit.em_code.strip().upper()
    if not _EM.fullmatch(code):
        ctx.error("em_code", "visit.em_code", f"em_code {code!r} is not an E/M code (99xxx)")
        return []
    same_day = sorted({d.procedure for d in other if d.kind in ("procedure", "administration")})
    pointers = tuple(range(1, min(4, len(ctx.diagnoses)) + 1)) or (1,)
    if not same_day:
        return [
            Draft(
                code,
                Decimal(1),
                "em",
                f"visit {code}, no procedure or administration that day",
                "visit",
                pointers=pointers,
            )
        ]
    administered = any(d.kind == "administration" for d in other)
    if code == "99211" and administered and ctx.payer.drop_99211_with_administration:
        ctx.notes.append(
            f"visit {code} not billed: {ctx.payer.name} does not pay 99211 with drug "
            "administration (administration.md A8)"
        )
        return []
    if not visit.separately_identifiable:
        ctx.notes.append(
            f"visit {code} not billed: not separately identifiable from "
            f"{', '.join(same_day)} on the same day (included in the procedure/administration)"
        )
        return []
    modifier = ctx.maps.modifiers.for_role("separate_em")
    return [
        Draft(
            code,
            Decimal(1),
            "em",
            f"visit {code}, significant and separately identifiable from {', '.join(same_day)} "
            f"→ modifier {modifier}",
            "visit",
            modifiers=(modifier,),
            pointers=pointers,
        )
    ]


def lab_lines(ctx: Context) -> list[Draft]:
    lines: list[Draft] = []
    for index, lab in enumerate(ctx.encounter.labs):
        field = f"labs[{index}]"
        code = lab.cpt.strip().upper()
        if not _CPT.fullmatch(code):
            ctx.error("lab_code", f"{field}.cpt", f"cpt {code!r} is not a CPT code")
            continue
        if lab.units < 1:
            ctx.error("lab_units", f"{field}.units", f"units must be at least 1 (got {lab.units})")
            continue
        lines.append(Draft(code, Decimal(lab.units), "lab", f"in-office test {code}", field))
    return lines
