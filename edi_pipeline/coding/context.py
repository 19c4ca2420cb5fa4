"""What every coding rule needs while one encounter is coded: maps, payer, problems, line drafts.

Rules add ``Draft`` lines (mutable only while the encounter is being coded) and problems; the
charge is applied last from the fee schedule, once modifiers and units are final, and the drafts
become frozen ``ServiceLine`` values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from edi_pipeline.maps import Maps
from edi_pipeline.maps.payers import PayerConfig
from edi_pipeline.models import Encounter, LineKind, Problem, ServiceLine, Where


@dataclass(slots=True)
class Draft:
    procedure: str
    units: Decimal
    kind: LineKind
    derived_from: str
    field: str  # the encounter field the line comes from, for problems about it
    modifiers: tuple[str, ...] = ()
    pointers: tuple[int, ...] = (1,)
    ndc: str | None = None
    ndc_quantity: Decimal | None = None
    ndc_unit: str | None = None
    drug: str | None = None
    note: str | None = None

    def freeze(self, charge: Decimal) -> ServiceLine:
        return ServiceLine(
            procedure=self.procedure,
            units=self.units,
            charge=charge,
            kind=self.kind,
            modifiers=self.modifiers,
            diagnosis_pointers=self.pointers,
            ndc=self.ndc,
            ndc_quantity=self.ndc_quantity,
            ndc_unit=self.ndc_unit,  # type: ignore[arg-type]
            drug=self.drug,
            derived_from=self.derived_from,
            note=self.note,
        )


class Tables:
    """The maps coding reads, as plain attributes (looked up once per ``Maps``, not per line)."""

    __slots__ = (
        "administration",
        "drugs",
        "fees",
        "joint_procedures",
        "joints",
        "modifiers",
        "no_waste",
        "payers",
        "places_of_service",
        "waste",
    )

    def __init__(self, maps: Maps):
        self.drugs = maps.drugs
        self.fees = maps.fees
        self.modifiers = maps.modifiers
        self.administration = maps.administration
        self.joints = maps.joints
        self.joint_procedures = maps.joint_procedures
        self.payers = maps.payers
        self.places_of_service = maps.places_of_service
        self.waste = maps.modifiers.for_role("waste")
        self.no_waste = maps.modifiers.for_role("no_waste")


_TABLES: dict[int, tuple[Maps, Tables]] = {}


def tables_of(maps: Maps) -> Tables:
    hit = _TABLES.get(id(maps))
    if hit is not None and hit[0] is maps:
        return hit[1]
    if len(_TABLES) > 64:
        _TABLES.clear()
    tables = Tables(maps)
    _TABLES[id(maps)] = (maps, tables)
    return tables


@dataclass(slots=True)
class Context:
    encounter: Encounter
    maps: Tables
    payer: PayerConfig
    diagnoses: tuple[str, ...]
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def _where(self, field_path: str) -> Where:
        source = self.encounter.source
        return Where(
            file=source.file,
            record=source.record,
            encounter_id=self.encounter.encounter_id,
            field=field_path,
        )

    def error(self, code: str, field_path: str, message: str) -> None:
        """A fact the rules cannot code with certainty: the encounter gets no claim."""
        self.problems.append(Problem(f"coding_{code}", message, self._where(field_path)))

    def warn(self, code: str, field_path: str, message: str) -> None:
        """Coded, but a person should look (e.g. vials that were not the least-waste choice)."""
        self.problems.append(
            Problem(f"coding_{code}", message, self._where(field_path), severity="warning")
        )

    @property
    def failed(self) -> bool:
        return any(p.severity == "error" for p in self.problems)

    def pointer_for(self, indications: tuple[str, ...]) -> int:
        """The 1-based position of the first diagnosis a product is indicated for, else 1."""
        for position, code in enumerate(self.diagnoses, start=1):
            if code.startswith(indications):
                return position
        return 1
