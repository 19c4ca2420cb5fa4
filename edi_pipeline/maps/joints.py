"""``maps/joints.csv``: joint (or bursa) name → arthrocentesis size class.

The size class picks the code family (20600/20605/20610 and their ultrasound twins); ``digit``
says which anatomic modifiers (F*/T*) a joint takes. A joint the map does not know is never
guessed into a class: coding reports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources.abc import Traversable
from typing import Literal

from edi_pipeline.maps import table
from edi_pipeline.maps._tables import Table, checked_rows
from edi_pipeline.maps.schema import Field, Problems

SizeClass = Literal["small", "intermediate", "major"]
SIZE_CLASSES = frozenset({"small", "intermediate", "major"})


@dataclass(frozen=True, slots=True)
class Joint:
    name: str
    size_class: SizeClass
    lateral: bool  # has a left and a right (RT/LT/50 apply)
    digit: Literal["finger", "toe"] | None  # takes F*/T* anatomic modifiers
    source: str


_FIELDS = (
    Field("name", pattern=r"[a-z][a-z0-9_]*"),
    Field("size_class", choices=SIZE_CLASSES),
    Field("lateral", "bool"),
    Field("digit", required=False, choices=frozenset({"finger", "toe"})),
    Field("source"),
)


@table("joints")
def load(root: Traversable, problems: Problems) -> Table[Joint]:
    file = "joints.csv"
    rows: dict[str, Joint] = {}
    for number, row in checked_rows(root, file, _FIELDS, problems):
        if row["name"] in rows:
            problems.add(file, f"row {number}", "name", f"duplicate joint {row['name']!r}")
            continue
        rows[row["name"]] = Joint(**row)
    return Table("joints.csv", rows)
