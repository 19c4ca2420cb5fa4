"""Small helpers shared by the map tables: a read-only keyed table and row iteration.

A table is an immutable ``Mapping`` so that ``maps.joints["knee"]`` reads like the data and an
unknown key fails with the table's name in the message (a misspelt joint is a data problem, not
a Python ``KeyError`` riddle).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from importlib.resources.abc import Traversable
from typing import Any, TypeVar

from edi_pipeline.maps.schema import Field, Problems, check_row, read_csv

V = TypeVar("V")


class Table(Mapping[str, V]):
    """An immutable mapping of key -> row, in file order."""

    __slots__ = ("_name", "_rows")

    def __init__(self, name: str, rows: Mapping[str, V]):
        self._name = name
        self._rows = dict(rows)

    def __getitem__(self, key: str) -> V:
        try:
            return self._rows[key]
        except KeyError:
            raise KeyError(f"{key!r} is not in maps/{self._name}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def __repr__(self) -> str:
        return f"<{self._name}: {len(self._rows)} rows>"


def checked_rows(
    root: Traversable, name: str, fields: Sequence[Field], problems: Problems
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number, typed row) for each row of a CSV map that passes its field checks.

    A header naming a column the table does not know is reported once (not once per row).
    """
    known = {f.name for f in fields}
    header_checked = False
    for number, raw in read_csv(root, name, problems):
        if not header_checked:
            header_checked = True
            for column in raw:
                if column not in known:
                    problems.add(
                        name, "header", column, "unknown column (a misspelt name would be ignored)"
                    )
            for f in fields:
                if f.name not in raw:
                    problems.add(name, "header", f.name, "column is missing")
        row = check_row(
            {k: v for k, v in raw.items() if k in known},
            fields,
            problems,
            file=name,
            scope=f"row {number}",
        )
        if row is not None:
            yield number, row
