"""Drug administration codes from the timeline of the drugs given (administration.md).

Every IV, IV push, SC and IM drug of the encounter (white-bagged ones too: the practice still
administers them) is classified by route and documented start/stop:

- an IV drug running at least the initial service's minimum (more than 15 minutes) is an
  *infusion*; shorter, or given ``IV_PUSH``, it is a *push*; SC/IM is an *injection*;
- a hydration fluid is *hydration* only when it runs alone for more than 30 minutes; overlapping
  a drug it is incidental (A4) and not reported;
- an infusion or push of a drug the map marks ``complex_eligible`` uses the complex family
  (96413…) only where the payer's map sets ``complex_administration`` (A6/A7).

One *initial* service per encounter (A1), chosen as the primary reason for the visit, not by the
clock (A2): complex infusion, infusion, complex push, push, injection, hydration, and within a
kind the biologic over a pre-medication, then the longest, then the earliest. Its extra time adds
one additional-hour unit for each hour begun more than 30 minutes (§3). Every other service is
subsequent, in clock order: a new drug infused after another is sequential (its own extra hours
too), one overlapping another infusion is concurrent (once per encounter), further pushes of new
drugs are additional pushes, and each injection is 96372. Codes and minutes come from
``maps/administration.csv``. The result does not depend on the order the drugs are listed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from edi_pipeline.coding.context import Context, Draft
from edi_pipeline.coding.drugs import ResolvedDrug

Method = Literal["infusion", "push", "injection", "hydration"]
_RANK = {
    ("infusion", True): 0,
    ("infusion", False): 1,
    ("push", True): 2,
    ("push", False): 3,
    ("injection", False): 4,
    ("hydration", False): 5,
}
_ADMINISTERED_ROUTES = frozenset({"IV", "IV_PUSH", "SC", "IM"})


@dataclass(frozen=True, slots=True)
class Administration:
    drug: ResolvedDrug
    method: Method
    complex: bool
    start: int | None  # minutes after midnight
    stop: int | None

    @property
    def minutes(self) -> int:
        if self.start is None or self.stop is None:
            return 0
        return self.stop - self.start

    @property
    def span(self) -> tuple[int, int]:
        start = self.start or 0
        return (start, self.stop if self.stop is not None else start + 1)

    def describe(self) -> str:
        name = self.drug.product.generic
        if self.method == "injection":
            return f"{name} {self.drug.given.route} injection"
        if self.method == "push" and self.stop is None:
            return f"{name} IV push at {_clock(self.start)}"
        return f"{name} IV {_clock(self.start)}–{_clock(self.stop)} ({self.minutes} min)"

    def order_key(self) -> tuple:
        given = self.drug.given
        stop = self.stop if self.stop is not None else -1
        return (self.start or 0, stop, self.drug.product.hcpcs, given.dose_mg, self.drug.field)


def _clock(minutes: int | None) -> str:
    if minutes is None:
        return "?"
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _minutes(value) -> int | None:
    return None if value is None else value.hour * 60 + value.minute


def classify(drugs: list[ResolvedDrug], ctx: Context) -> list[Administration]:
    """The administrations of the encounter's drugs (problems recorded for missing times)."""
    codes = ctx.maps.administration
    push_below = codes.get("therapeutic", "initial").min_minutes or 0
    found: list[Administration] = []
    for drug in drugs:
        given = drug.given
        if given.route not in _ADMINISTERED_ROUTES:
            continue
        start, stop = _minutes(given.start_time), _minutes(given.stop_time)
        if given.route in ("SC", "IM"):
            found.append(Administration(drug, "injection", False, start, stop))
            continue
        if start is None:
            ctx.error(
                "missing_time",
                f"{drug.field}.start_time",
                f"an {given.route} drug needs its start time to code its administration",
            )
            continue
        complex_ = ctx.payer.complex_administration and drug.product.complex_eligible
        if given.route == "IV_PUSH":
            if stop is not None and stop < start:
                ctx.error("time_order", f"{drug.field}.stop_time", "stop_time is before start_time")
                continue
            found.append(Administration(drug, "push", complex_, start, None))
            continue
        if stop is None:
            ctx.error(
                "missing_time",
                f"{drug.field}.stop_time",
                "an IV drug needs its stop time: the infusion's length decides its codes",
            )
            continue
        if stop <= start:
            ctx.error("time_order", f"{drug.field}.stop_time", "stop_time must be after start_time")
            continue
        if drug.product.hydration_fluid:
            found.append(Administration(drug, "hydration", False, start, stop))
        elif stop - start < push_below:
            found.append(Administration(drug, "push", complex_, start, stop))
        else:
            found.append(Administration(drug, "infusion", complex_, start, stop))
    return found


def _overlaps(a: Administration, b: Administration) -> bool:
    (a0, a1), (b0, b1) = a.span, b.span
    return a0 < b1 and b0 < a1


def _extra_hours(minutes: int, into_hour: int) -> int:
    """Additional hours after the first: each counts when more than ``into_hour - 1`` minutes."""
    hours, rest = 0, minutes - 60
    while rest >= into_hour:
        hours += 1
        rest -= 60
    return hours


def administration_lines(admins: list[Administration], ctx: Context) -> list[Draft]:
    """The administration lines, initial service first, then in clock order."""
    codes = ctx.maps.administration
    hydration_min = codes.get("hydration", "initial").min_minutes or 0
    services: list[Administration] = []
    for admin in sorted(admins, key=Administration.order_key):
        if admin.method != "hydration":
            services.append(admin)
            continue
        if any(
            other.method in ("infusion", "push") and _overlaps(admin, other) for other in admins
        ):
            ctx.notes.append(
                f"{admin.drug.field}: {admin.describe()} runs with a drug: incidental hydration, "
                "not reported"
            )
        elif admin.minutes < hydration_min:
            ctx.notes.append(
                f"{admin.drug.field}: {admin.describe()}: hydration of {hydration_min - 1} min "
                "or less is not reported"
            )
        else:
            services.append(admin)
    if not services:
        return []

    def rank(a: Administration) -> tuple:
        return (
            _RANK[(a.method, a.complex)],
            not a.drug.product.complex_eligible,
            -a.minutes,
            *a.order_key(),
        )

    initial = min(services, key=rank)
    family = "complex" if initial.complex else "therapeutic"
    if initial.method == "hydration":
        family = "hydration"
    lines: list[Draft] = []

    def add(service_family: str, service: str, units: int, admin: Administration, why: str) -> None:
        code = codes.get(service_family, service).code
        lines.append(
            Draft(
                procedure=code,
                units=Decimal(units),
                kind="administration",
                derived_from=why,
                field=admin.drug.field,
                pointers=(admin.drug.pointer,),
            )
        )

    why_initial = "initial service: the primary reason for the visit (office: not clock order)"
    if initial.method == "injection":
        add("therapeutic", "injection", 1, initial, f"{initial.describe()}: {why_initial}")
    elif initial.method == "push":
        add(family, "push_initial", 1, initial, f"{initial.describe()}: {why_initial}")
    else:
        add(family, "initial", 1, initial, f"{initial.describe()}: {why_initial}")
        into = codes.get(family, "additional_hour").min_minutes or 0
        hours = _extra_hours(initial.minutes, into)
        if hours:
            add(
                family,
                "additional_hour",
                hours,
                initial,
                f"{initial.describe()}: {hours} hour(s) after the first, each begun more than "
                f"{into - 1} min",
            )

    infused = [initial] if initial.method == "infusion" else []
    pushed = {initial.drug.product.generic} if initial.method == "push" else set()
    concurrent_used = False
    for admin in services:
        if admin is initial:
            continue
        if admin.method == "infusion":
            running = [other for other in infused if _overlaps(admin, other)]
            infused.append(admin)
            if running:
                if concurrent_used:
                    ctx.notes.append(
                        f"{admin.drug.field}: {admin.describe()}: concurrent infusion already "
                        "reported once for this encounter"
                    )
                    continue
                concurrent_used = True
                add(
                    "therapeutic",
                    "concurrent",
                    1,
                    admin,
                    f"{admin.describe()}: concurrent with {running[0].drug.product.generic}",
                )
                continue
            seq_family = "complex" if admin.complex and family == "complex" else "therapeutic"
            add(
                seq_family,
                "sequential",
                1,
                admin,
                f"{admin.describe()}: sequential infusion of a new drug",
            )
            into = codes.get(seq_family, "additional_hour").min_minutes or 0
            hours = _extra_hours(admin.minutes, into)
            if hours:
                add(
                    seq_family,
                    "additional_hour",
                    hours,
                    admin,
                    f"{admin.describe()}: {hours} hour(s) after its first, each begun more than "
                    f"{into - 1} min",
                )
        elif admin.method == "push":
            name = admin.drug.product.generic
            if name in pushed:
                ctx.notes.append(
                    f"{admin.drug.field}: {admin.describe()}: repeat push of the same drug "
                    "(96376 is facility-only) not reported"
                )
                continue
            pushed.add(name)
            push_family = "complex" if admin.complex and family == "complex" else "therapeutic"
            add(
                push_family,
                "push_subsequent",
                1,
                admin,
                f"{admin.describe()}: additional push of a new drug",
            )
        elif admin.method == "injection":
            add("therapeutic", "injection", 1, admin, f"{admin.describe()}")
        else:  # hydration after another initial service
            into = codes.get("hydration", "additional_hour").min_minutes or 0
            hours = 1 + _extra_hours(admin.minutes, into)
            add("hydration", "additional_hour", hours, admin, f"{admin.describe()}: hydration")
    return _merge(lines)


def _merge(lines: list[Draft]) -> list[Draft]:
    """One line per code and pointer (96375 × 2, not two lines), in first-seen order."""
    merged: dict[tuple, Draft] = {}
    for line in lines:
        key = (line.procedure, line.modifiers, line.pointers)
        if key in merged:
            first = merged[key]
            first.units += line.units
            first.derived_from += "; " + line.derived_from
        else:
            merged[key] = line
    return list(merged.values())
