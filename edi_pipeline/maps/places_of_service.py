"""``maps/places_of_service.csv``: the CMS place-of-service codes the practice bills from."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources.abc import Traversable

from edi_pipeline.maps import table
from edi_pipeline.maps._tables import Table, checked_rows
from edi_pipeline.maps.schema import Field, Problems


@dataclass(frozen=True, slots=True)
class PlaceOfService:
    code: str
    name: str
    source: str


_FIELDS = (Field("code", pattern=r"[0-9]{2}"), Field("name"), Field("source"))


@table("places_of_service")
def load(root: Traversable, problems: Problems) -> Table[PlaceOfService]:
    file = "places_of_service.csv"
    rows: dict[str, PlaceOfService] = {}
    for number, row in checked_rows(root, file, _FIELDS, problems):
        if row["code"] in rows:
            problems.add(file, f"row {number}", "code", f"duplicate code {row['code']}")
            continue
        rows[row["code"]] = PlaceOfService(**row)
    return Table("places_of_service.csv", rows)
