"""Joint aspiration/injection lines (procedures.md): code by size class and guidance, modifiers.

- the joint's size class (``maps/joints``) and the guidance pick the code and any separately
  reported guidance code (``maps/joint_procedures``): 20600/20605/20610 without guidance, the
  ultrasound-inclusive 20604/20606/20611 with ultrasound (never 76942 with them), 77002 with
  fluoroscopy;
- laterality per the payer map: RT or LT on the codes it lists; both sides as one line with 50 or
  as an RT line and an LT line (P5);
- a finger or toe takes its anatomic modifier (F*/T*, P8) instead of RT/LT, and it must agree
  with the joint's digit kind and the side;
- one unit per joint and side per session (P3): a second record for the same joint and side is
  folded in; a further joint gets the payer's distinct-site modifier (XS or 59, P6);
- the drug injected is billed on its own lines (units, JW/JZ, NDC), with RT/LT where the payer
  wants laterality on drug lines.
"""

from __future__ import annotations

from decimal import Decimal

from edi_pipeline.coding.context import Context, Draft
from edi_pipeline.coding.drugs import ResolvedDrug, drug_lines, resolve
from edi_pipeline.models import ProcedureGiven

_SIDE_WORD = {"left": "left", "right": "right", "bilateral": "both sides", "none": ""}


def procedure_lines(ctx: Context) -> tuple[list[Draft], list[ResolvedDrug]]:
    """The procedure, guidance and injected-drug lines, and the injected drugs resolved."""
    lines: list[Draft] = []
    injected: list[ResolvedDrug] = []
    seen: dict[tuple, int] = {}
    coded = 0
    for index, proc in enumerate(ctx.encounter.procedures):
        field = f"procedures[{index}]"
        drafts = _one(proc, field, ctx)
        if drafts is None:
            continue
        key = (proc.joint, proc.side, proc.digit)
        if key in seen:
            ctx.notes.append(
                f"{field}: {proc.kind} of the same joint and side as procedures[{seen[key]}]: "
                "one unit per joint per session (aspiration and injection together)"
            )
            drafts = []
        else:
            seen[key] = index
            if coded and drafts:
                distinct = ctx.payer.distinct_site_modifier
                for draft in (d for d in drafts if d.kind == "procedure"):
                    draft.modifiers = (*draft.modifiers, distinct)
                    draft.derived_from += f"; another joint this session → {distinct}"
            coded += 1 if drafts else 0
        lines.extend(drafts)
        modifiers = _drug_modifiers(proc, ctx)
        for k, given in enumerate(proc.drugs):
            drug = resolve(given, f"{field}.drugs[{k}]", ctx)
            if drug is None:
                continue
            injected.append(drug)
            drug_drafts = drug_lines(drug, ctx, modifiers)
            where = f"{proc.joint}, {_SIDE_WORD[proc.side]}" if proc.side != "none" else proc.joint
            for draft in drug_drafts:
                draft.derived_from += f"; injected into the {where}"
            lines.extend(drug_drafts)
    return lines, injected


def _drug_modifiers(proc: ProcedureGiven, ctx: Context) -> tuple[str, ...]:
    if not ctx.payer.drug_laterality or proc.side not in ("left", "right"):
        return ()
    return (ctx.maps.modifiers.for_role(proc.side),)


def _one(proc: ProcedureGiven, field: str, ctx: Context) -> list[Draft] | None:
    joint = ctx.maps.joints.get(proc.joint)
    if joint is None:
        ctx.error(
            "joint_unknown",
            f"{field}.joint",
            f"joint {proc.joint!r} is not in maps/joints: its size class (small, intermediate, "
            "major) is unknown",
        )
        return None
    spec = ctx.maps.joint_procedures.get(f"{joint.size_class}/{proc.guidance}")
    if spec is None:
        ctx.error("guidance_unknown", f"{field}.guidance", f"guidance {proc.guidance!r} is unknown")
        return None
    if joint.lateral and proc.side == "none":
        ctx.error(
            "side_missing",
            f"{field}.side",
            f"the {proc.joint} has a left and a right: side must be left, right or bilateral",
        )
        return None
    modifiers_map = ctx.maps.modifiers
    digit_modifier: str | None = None
    if proc.digit is not None:
        digit = modifiers_map.digits.get(proc.digit)
        problem = None
        if digit is None:
            problem = f"digit {proc.digit!r} is not an anatomic modifier in maps/modifiers"
        elif joint.digit is None:
            problem = f"digit {proc.digit} given for the {proc.joint}, which is not a finger or toe"
        elif digit.digit != joint.digit:
            problem = (
                f"digit {proc.digit} is a {digit.digit} modifier but the {proc.joint} "
                f"is a {joint.digit} joint"
            )
        elif proc.side in ("left", "right") and digit.side != proc.side:
            problem = f"digit {proc.digit} is on the {digit.side} but side is {proc.side}"
        elif proc.side == "bilateral":
            problem = f"digit {proc.digit} names one digit but side is bilateral"
        if problem:
            ctx.error("digit_mismatch", f"{field}.digit", problem)
            return None
        digit_modifier = proc.digit
    elif joint.digit is not None:
        ctx.warn(
            "digit_missing",
            f"{field}.digit",
            f"no digit for a {joint.digit} joint: billed with RT/LT; payers may want F*/T* "
            "anatomic modifiers (procedures.md P8)",
        )

    guidance = {"none": "no imaging guidance", "ultrasound": "ultrasound guidance, recorded"}.get(
        proc.guidance, f"{proc.guidance} guidance"
    )
    where = f"{proc.joint}, {_SIDE_WORD[proc.side]}" if proc.side != "none" else proc.joint
    why = f"{proc.kind} of the {where} ({joint.size_class} joint), {guidance}"
    lateral_code = spec.code in ctx.payer.laterality_codes
    drafts: list[Draft] = []

    def line(modifiers: tuple[str, ...], units: int, text: str) -> Draft:
        return Draft(
            procedure=spec.code,
            units=Decimal(units),
            kind="procedure",
            derived_from=text,
            field=field,
            modifiers=modifiers,
        )

    if digit_modifier is not None:
        drafts.append(line((digit_modifier,), 1, f"{why}; digit {digit_modifier}"))
    elif proc.side in ("left", "right") and joint.lateral and lateral_code:
        drafts.append(line((modifiers_map.for_role(proc.side),), 1, why))
    elif proc.side == "bilateral" and joint.lateral:
        if lateral_code and ctx.payer.bilateral == "modifier_50":
            drafts.append(
                line(
                    (modifiers_map.for_role("bilateral"),),
                    1,
                    f"{why}; {ctx.payer.key}: one line, modifier 50",
                )
            )
        elif lateral_code:
            convention = f"{ctx.payer.key}: RT and LT lines"
            drafts.append(line((modifiers_map.for_role("right"),), 1, f"{why}; {convention}"))
            drafts.append(line((modifiers_map.for_role("left"),), 1, f"{why}; {convention}"))
        else:
            drafts.append(
                line((), 2, f"{why}; both sides, {spec.code} takes no side modifier here")
            )
    else:
        drafts.append(line((), 1, why))
    if spec.guidance_code:
        drafts.append(
            Draft(
                procedure=spec.guidance_code,
                units=Decimal(1),
                kind="guidance",
                derived_from=(
                    f"fluoroscopic guidance for the {proc.joint} {proc.kind} (procedures.md P2)"
                ),
                field=f"{field}.guidance",
            )
        )
    return drafts
