"""Coding: an ``Encounter``'s clinical facts in, a ``Claim`` of ``ServiceLine`` values out.

Pure: no I/O, no clock. Every code, unit size, container, timing threshold, modifier and charge
comes from ``maps/`` (drugs and packages, administration, joints and joint procedures,
modifiers, fee schedule, the payer's conventions). Each line says what it was derived from.

An encounter the rules cannot code with certainty (an IV drug without a stop time, a joint
without a size class, a product whose unit is unknown, a dose the opened vials cannot hold…) is
never guessed: it gets ``coding_*`` problems naming the field and no claim, and the caller goes
on with the next one. Warnings (vials that were not the least-waste choice…) travel with a claim.

Line order: administration (initial service first), the drugs given, each joint procedure with
its guidance and injected drug, the E/M, the labs.
"""

from __future__ import annotations

from edi_pipeline.codes import icd10_strip
from edi_pipeline.coding.context import Context, Draft, tables_of
from edi_pipeline.coding.drugs import ResolvedDrug, drug_lines, resolve
from edi_pipeline.coding.em import em_lines, lab_lines
from edi_pipeline.coding.infusion import administration_lines, classify
from edi_pipeline.coding.procedures import procedure_lines
from edi_pipeline.maps import Maps
from edi_pipeline.maps.drugs import Drugs
from edi_pipeline.models import Claim, Coded, Encounter, Problem, Where

__all__ = ["MAX_DIAGNOSES", "MAX_LINES", "code"]

MAX_LINES = 50  # 837P loop 2400 repeats at most 50 times per claim
MAX_DIAGNOSES = 12  # HI segment: principal + 11 others


def code(encounter: Encounter, maps: Maps) -> Coded:
    """Code one encounter: its claim, or the problems that keep it from being coded."""
    tables = tables_of(maps)
    payer = tables.payers.get(encounter.coverage.payer_id)
    if payer is None:
        problem = Problem(
            "coding_payer_unknown",
            f"coverage.payer_id {encounter.coverage.payer_id!r} is not a payer in maps/payers "
            f"({', '.join(sorted(maps.payers))})",
            Where(
                file=encounter.source.file,
                record=encounter.source.record,
                encounter_id=encounter.encounter_id,
                field="coverage.payer_id",
            ),
        )
        return Coded(encounter, None, (problem,))
    diagnoses = tuple(icd10_strip(d) for d in encounter.diagnoses)
    ctx = Context(encounter, tables, payer, diagnoses[:MAX_DIAGNOSES])
    if len(diagnoses) > MAX_DIAGNOSES:
        ctx.warn(
            "diagnoses_truncated",
            "diagnoses",
            f"{len(diagnoses)} diagnoses: the claim carries the first {MAX_DIAGNOSES}",
        )
    if encounter.place_of_service not in tables.places_of_service:
        ctx.error(
            "place_of_service",
            "place_of_service",
            f"place_of_service {encounter.place_of_service!r} is not in maps/places_of_service",
        )

    given: list[ResolvedDrug] = []
    for index, drug in enumerate(encounter.drugs):
        field = f"drugs[{index}]"
        if drug.route == "ORAL":
            ctx.notes.append(f"{field}: oral {drug.drug} recorded, not billed")
            continue
        resolved = resolve(drug, field, ctx)
        if resolved is not None:
            given.append(resolved)

    admins = classify(given, ctx)
    admin_drafts = administration_lines(admins, ctx)
    initial_field = admin_drafts[0].field if admin_drafts else None
    drug_drafts: list[Draft] = []
    for drug in sorted(given, key=lambda d: _drug_order(d, initial_field)):
        if drug.given.route == "INTRA_ARTICULAR":
            ctx.warn(
                "intra_articular_without_procedure",
                f"{drug.field}.route",
                "an intra-articular drug outside procedures[]: the drug is billed, the joint "
                "procedure is not (record it under procedures[].drugs)",
            )
        drug_drafts.extend(drug_lines(drug, ctx))
    procedure_drafts, _ = procedure_lines(ctx)
    drafts = admin_drafts + drug_drafts + procedure_drafts
    drafts += em_lines(ctx, drafts)
    drafts += lab_lines(ctx)

    if not drafts and not ctx.failed:
        ctx.error("nothing_billable", "encounter", "the encounter has no billable service")
    if len(drafts) > MAX_LINES:
        ctx.error(
            "too_many_lines",
            "encounter",
            f"{len(drafts)} service lines: a claim holds at most {MAX_LINES}",
        )
    lines = []
    for draft in drafts:
        charge = tables.fees.charge(draft.procedure, draft.modifiers, draft.units)
        if charge is None:
            ctx.error(
                "fee_missing",
                draft.field,
                f"{draft.procedure} has no charge in maps/fee_schedule.csv",
            )
            continue
        lines.append(draft.freeze(charge))

    problems = tuple(ctx.problems)
    if ctx.failed:
        return Coded(encounter, None, problems)

    prior = encounter.prior_claim
    claim = Claim(
        encounter_id=encounter.encounter_id,
        payer_id=payer.key,
        date_of_service=encounter.date_of_service,
        place_of_service=encounter.place_of_service,
        diagnoses=ctx.diagnoses,
        lines=tuple(lines),
        encounter=encounter,
        frequency=prior.frequency if prior else "1",
        prior_authorization=_authorization(encounter, given, tables.drugs),
        payer_claim_number=prior.payer_claim_number if prior else None,
        notes=tuple(ctx.notes),
    )
    return Coded(encounter, claim, problems)


def _drug_order(drug: ResolvedDrug, initial_field: str | None) -> tuple:
    start, stop = drug.given.start_time, drug.given.stop_time
    return (
        drug.field != initial_field,
        (start.hour, start.minute) if start else (-1, -1),
        (stop.hour, stop.minute) if stop else (-1, -1),
        drug.product.hcpcs,
        drug.given.dose_mg,
        drug.field,
    )


def _authorization(encounter: Encounter, given: list[ResolvedDrug], drugs: Drugs) -> str | None:
    """The authorization valid on the date of service that names a drug billed (REF*G1)."""
    billed = {d.product.hcpcs for d in given}
    billed |= {d.product.generic.casefold() for d in given}
    for injected in encounter.procedures:
        for drug in injected.drugs:
            product = drugs.resolve(drug.drug, route=drug.route, on=encounter.date_of_service)
            if product is not None:
                billed |= {product.hcpcs, product.generic.casefold()}
    day = encounter.date_of_service
    for auth in encounter.prior_authorizations:
        if not auth.valid_from <= day <= auth.valid_to:
            continue
        for name in auth.drugs:
            if name.strip().upper() in billed or name.strip().casefold() in billed:
                return auth.number
            product = drugs.resolve(name)
            if product is not None and product.hcpcs in billed:
                return auth.number
    return None
