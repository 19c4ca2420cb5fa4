"""Counts of one intake run that must add up: every record read is accepted or rejected.

``Tally`` counts results as they stream past (``for item in tally.track(read_file(...))``);
``IntakeCounts`` is the frozen summary a run reports. The readers yield exactly one result per
record read, so ``records == accepted + rejected`` holds by construction; tests compare
``records`` with an independent count of the input (lines, array elements, CSV encounters).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from edi_pipeline.models import Encounter, Rejection


@dataclass(frozen=True, slots=True)
class IntakeCounts:
    records: int = 0
    accepted: int = 0
    rejected: int = 0
    warnings: int = 0  # warnings on accepted records (rejected ones carry theirs in reasons)

    @property
    def adds_up(self) -> bool:
        return self.records == self.accepted + self.rejected

    def __add__(self, other: IntakeCounts) -> IntakeCounts:
        return IntakeCounts(
            self.records + other.records,
            self.accepted + other.accepted,
            self.rejected + other.rejected,
            self.warnings + other.warnings,
        )

    def as_dict(self) -> dict[str, int]:
        return {
            "records": self.records,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "warnings": self.warnings,
        }


class Tally:
    """Counts intake results while passing them through unchanged."""

    def __init__(self) -> None:
        self._accepted = 0
        self._rejected = 0
        self._warnings = 0

    def add(self, item: Encounter | Rejection) -> None:
        if isinstance(item, Encounter):
            self._accepted += 1
            self._warnings += len(item.warnings)
        elif isinstance(item, Rejection):
            self._rejected += 1
        else:
            raise TypeError(f"not an intake result: {type(item).__name__}")

    def track(self, items: Iterable[Encounter | Rejection]) -> Iterator[Encounter | Rejection]:
        for item in items:
            self.add(item)
            yield item

    @property
    def counts(self) -> IntakeCounts:
        return IntakeCounts(
            records=self._accepted + self._rejected,
            accepted=self._accepted,
            rejected=self._rejected,
            warnings=self._warnings,
        )


def summarize(items: Iterable[Encounter | Rejection]) -> IntakeCounts:
    tally = Tally()
    for item in items:
        tally.add(item)
    return tally.counts
