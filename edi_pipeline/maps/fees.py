"""``maps/fee_schedule.csv``: the practice's own charge per unit of each procedure.

These are the practice's list prices (what goes in SV102), not what any payer allows. A line's
charge is ``charge_per_unit × units``, rounded to cents. A row may name one modifier: it is used
for lines carrying that modifier (the bilateral ``50`` line, charged for both sides); otherwise
the row without a modifier applies.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from importlib.resources.abc import Traversable

from edi_pipeline.maps import table
from edi_pipeline.maps._tables import checked_rows
from edi_pipeline.maps.schema import Field, Problems

CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Fee:
    procedure: str
    modifier: str | None
    charge_per_unit: Decimal
    source: str


class FeeSchedule:
    def __init__(self, fees: tuple[Fee, ...]):
        self.fees = fees
        self._index = {(f.procedure, f.modifier): f for f in fees}

    def lookup(self, procedure: str, modifiers: Iterable[str] = ()) -> Fee | None:
        """The row for a procedure: one naming a modifier the line carries, else the plain row."""
        for modifier in modifiers:
            fee = self._index.get((procedure, modifier))
            if fee is not None:
                return fee
        return self._index.get((procedure, None))

    def charge_per_unit(self, procedure: str, modifiers: Iterable[str] = ()) -> Decimal | None:
        fee = self.lookup(procedure, modifiers)
        return fee.charge_per_unit if fee else None

    def charge(self, procedure: str, modifiers: Iterable[str], units: Decimal) -> Decimal | None:
        """The line charge (per unit × units, to the cent), or None when the schedule lacks it."""
        per_unit = self.charge_per_unit(procedure, modifiers)
        if per_unit is None:
            return None
        return (per_unit * units).quantize(CENT, rounding=ROUND_HALF_UP)

    def __contains__(self, procedure: object) -> bool:
        return (procedure, None) in self._index

    def __len__(self) -> int:
        return len(self.fees)


_FIELDS = (
    Field("procedure", pattern=r"[A-Z0-9][0-9]{3}[0-9A-Z]"),
    Field("modifier", required=False, pattern=r"[A-Z0-9]{2}"),
    Field("charge_per_unit", "decimal"),
    Field("source"),
)


@table("fees")
def load(root: Traversable, problems: Problems) -> FeeSchedule:
    file = "fee_schedule.csv"
    fees: dict[tuple[str, str | None], Fee] = {}
    for number, row in checked_rows(root, file, _FIELDS, problems):
        key = (row["procedure"], row["modifier"])
        charge = row["charge_per_unit"]
        if not charge.is_finite() or charge < 0 or charge != charge.quantize(CENT):
            problems.add(
                file,
                f"row {number}",
                "charge_per_unit",
                f"must be dollars and cents ≥ 0 (got {charge})",
            )
            continue
        if key in fees:
            problems.add(
                file,
                f"row {number}",
                "procedure",
                f"duplicate fee for {key[0]} {key[1] or ''}".rstrip(),
            )
            continue
        fees[key] = Fee(**row)
    return FeeSchedule(tuple(fees.values()))
