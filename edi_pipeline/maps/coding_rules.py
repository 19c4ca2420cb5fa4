"""Coding rule tables: administration codes and timing, joint procedure codes, modifiers.

- ``maps/administration.csv`` → ``maps.administration``: for each family (``therapeutic``,
  ``complex``, ``hydration``) and service (``initial``, ``additional_hour``, ``sequential``,
  ``concurrent``, ``push_initial``, ``push_subsequent``, ``injection``) the CPT code and the
  minimum minutes it needs (96365 needs more than 15 minutes, 96366 more than 30 minutes into
  the next hour).
- ``maps/joint_procedures.csv`` → ``maps.joint_procedures``: (size class, guidance) → the
  arthrocentesis code and the separately reported guidance code (77002 for fluoroscopy). No
  ultrasound row may carry a guidance code: 76942 is never reported with 20604/20606/20611.
- ``maps/modifiers.csv`` → ``maps.modifiers``: the modifier for each role (RT, LT, 50, 25, JW, JZ)
  and the anatomic digit modifiers (F*/T*) with their digit kind and side.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources.abc import Traversable
from typing import Literal

from edi_pipeline.maps import table
from edi_pipeline.maps._tables import Table, checked_rows
from edi_pipeline.maps.joints import SIZE_CLASSES
from edi_pipeline.maps.schema import Field, Problems

Family = Literal["therapeutic", "complex", "hydration"]
REQUIRED_SERVICES: dict[str, tuple[str, ...]] = {
    "therapeutic": (
        "initial",
        "additional_hour",
        "sequential",
        "concurrent",
        "push_initial",
        "push_subsequent",
        "injection",
    ),
    "complex": ("initial", "additional_hour", "sequential", "push_initial", "push_subsequent"),
    "hydration": ("initial", "additional_hour"),
}
_TIMED = frozenset({"initial", "additional_hour", "sequential"})
GUIDANCES = frozenset({"none", "ultrasound", "fluoroscopy"})
ROLES = frozenset({"right", "left", "bilateral", "separate_em", "waste", "no_waste", "digit"})


@dataclass(frozen=True, slots=True)
class AdminCode:
    family: str
    service: str
    code: str
    min_minutes: int | None
    source: str


class AdministrationCodes:
    def __init__(self, rows: dict[tuple[str, str], AdminCode]):
        self._rows = rows
        self.codes = frozenset(r.code for r in rows.values())

    def get(self, family: str, service: str) -> AdminCode:
        return self._rows[(family, service)]

    def __iter__(self):
        return iter(self._rows.values())

    def __len__(self) -> int:
        return len(self._rows)


@dataclass(frozen=True, slots=True)
class JointProcedure:
    size_class: str
    guidance: str
    code: str
    guidance_code: str | None
    source: str


@dataclass(frozen=True, slots=True)
class Modifier:
    modifier: str
    role: str
    digit: Literal["finger", "toe"] | None
    side: Literal["left", "right", "bilateral"] | None
    source: str


class Modifiers:
    def __init__(self, rows: tuple[Modifier, ...]):
        self.rows = rows
        self._by_role = {m.role: m.modifier for m in rows if m.role != "digit"}
        self.digits = Table("modifiers.csv", {m.modifier: m for m in rows if m.role == "digit"})

    def for_role(self, role: str) -> str:
        return self._by_role[role]

    def __len__(self) -> int:
        return len(self.rows)


_ADMIN_FIELDS = (
    Field("family", choices=frozenset(REQUIRED_SERVICES)),
    Field("service", choices=frozenset(s for v in REQUIRED_SERVICES.values() for s in v)),
    Field("code", pattern=r"[0-9]{5}"),
    Field("min_minutes", "int", required=False),
    Field("source"),
)


@table("administration")
def load_administration(root: Traversable, problems: Problems) -> AdministrationCodes:
    file = "administration.csv"
    rows: dict[tuple[str, str], AdminCode] = {}
    for number, row in checked_rows(root, file, _ADMIN_FIELDS, problems):
        key = (row["family"], row["service"])
        scope = f"row {number}"
        if key in rows:
            problems.add(file, scope, "service", f"duplicate {key[0]} {key[1]}")
            continue
        minutes = row["min_minutes"]
        if row["service"] in _TIMED and minutes is None:
            problems.add(file, scope, "min_minutes", f"is required for a {row['service']} service")
            continue
        if minutes is not None and minutes < 1:
            problems.add(file, scope, "min_minutes", f"must be ≥ 1 (got {minutes})")
            continue
        rows[key] = AdminCode(**row)
    for family, services in REQUIRED_SERVICES.items():
        for service in services:
            if (family, service) not in rows:
                problems.add(file, "table", "service", f"no row for {family} {service}")
    return AdministrationCodes(rows)


_JOINT_FIELDS = (
    Field("size_class", choices=SIZE_CLASSES),
    Field("guidance", choices=GUIDANCES),
    Field("code", pattern=r"[0-9]{5}"),
    Field("guidance_code", required=False, pattern=r"[0-9]{5}"),
    Field("source"),
)


@table("joint_procedures")
def load_joint_procedures(root: Traversable, problems: Problems) -> Table[JointProcedure]:
    """Keyed ``"<size_class>/<guidance>"`` (e.g. ``"major/ultrasound"``)."""
    file = "joint_procedures.csv"
    rows: dict[str, JointProcedure] = {}
    for number, row in checked_rows(root, file, _JOINT_FIELDS, problems):
        key = f"{row['size_class']}/{row['guidance']}"
        scope = f"row {number}"
        if key in rows:
            problems.add(file, scope, "guidance", f"duplicate {key}")
            continue
        if row["guidance"] != "fluoroscopy" and row["guidance_code"]:
            problems.add(
                file,
                scope,
                "guidance_code",
                f"only fluoroscopy is reported separately; {row['guidance']} guidance is included "
                f"in {row['code']} (got {row['guidance_code']})",
            )
            continue
        rows[key] = JointProcedure(**row)
    for size in sorted(SIZE_CLASSES):
        for guidance in sorted(GUIDANCES):
            if f"{size}/{guidance}" not in rows:
                problems.add(
                    file, "table", "guidance", f"no row for {size} joints with {guidance} guidance"
                )
    return Table("joint_procedures.csv", rows)


_MODIFIER_FIELDS = (
    Field("modifier", pattern=r"[A-Z0-9]{2}"),
    Field("role", choices=ROLES),
    Field("digit", required=False, choices=frozenset({"finger", "toe"})),
    Field("side", required=False, choices=frozenset({"left", "right", "bilateral"})),
    Field("source"),
)


@table("modifiers")
def load_modifiers(root: Traversable, problems: Problems) -> Modifiers:
    file = "modifiers.csv"
    rows: list[Modifier] = []
    seen: set[str] = set()
    roles: set[str] = set()
    for number, row in checked_rows(root, file, _MODIFIER_FIELDS, problems):
        scope = f"row {number}"
        if row["modifier"] in seen:
            problems.add(file, scope, "modifier", f"duplicate modifier {row['modifier']}")
            continue
        if row["role"] == "digit" and (
            row["digit"] is None or row["side"] not in ("left", "right")
        ):
            problems.add(
                file,
                scope,
                "digit",
                "a digit modifier needs digit (finger/toe) and side (left/right)",
            )
            continue
        if row["role"] != "digit" and row["role"] in roles:
            problems.add(file, scope, "role", f"duplicate role {row['role']}")
            continue
        seen.add(row["modifier"])
        roles.add(row["role"])
        rows.append(Modifier(**row))
    for role in sorted(ROLES - roles - {"digit"}):
        problems.add(file, "table", "role", f"no modifier for role {role}")
    return Modifiers(tuple(rows))
