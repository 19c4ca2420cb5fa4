"""The ``run`` and ``build`` workflows: choose the practice and inputs, run the outbound
pipeline (``app.outbound``) with a progress bar on a terminal, and hand back the outcome.

``run`` with no INPUT and no ``--config`` runs the bundled demo (practice and encounters) and
writes to ``./edi-out/``; what it chose is said on stderr, never silently. Delivery joins here
(after the build) when a destination is configured by the deliver stage.
"""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import click

from edi_pipeline.app.outbound import Outcome, Settings, Stages, outbound
from edi_pipeline.errors import SettingsError
from edi_pipeline.practice import Practice, demo_root, load_practice

DEFAULT_OUT = Path("edi-out")
DEMO_INPUT = "encounters.json"
DEMO_SETTINGS = "demo.toml"


def demo_inputs() -> tuple[Path, ...]:
    """The bundled demo encounters as a real path (a wheel installs package data as files)."""
    entry = demo_root() / DEMO_INPUT
    path = Path(str(entry))
    if not path.is_file():
        raise SettingsError(f"the bundled demo encounters ({entry}) are missing from the install")
    return (path,)


def demo_as_of() -> date:
    """The day the demo export is scrubbed as of (``fixtures/demo/demo.toml``)."""
    raw = tomllib.loads((demo_root() / DEMO_SETTINGS).read_text(encoding="utf-8"))
    value = raw.get("as_of")
    if not isinstance(value, date):
        raise SettingsError(f"bundled {DEMO_SETTINGS}: as_of must be a date (got {value!r})")
    return value


def settings_for(
    inputs: tuple[Path, ...],
    *,
    config: Path | None,
    out_dir: Path | None,
    ledger: str | None,
    processes: int | None = None,
    demo_when_empty: bool,
) -> Settings:
    """Resolve what to read, with which practice, where to write; say what was chosen."""
    notes: list[str] = []
    as_of: date | None = None
    practice: Practice = load_practice(config)
    if config is None:
        notes.append("no --config: using the bundled demo practice (fake identifiers)")
    if not inputs:
        if not demo_when_empty or config is not None:
            raise SettingsError("no INPUT given: name one or more encounter export files")
        inputs = demo_inputs()
        as_of = demo_as_of()
        notes.append(
            f"no INPUT: using the bundled demo encounters (payer rules as of {as_of.isoformat()})"
        )
    if out_dir is None:
        out_dir = DEFAULT_OUT
        notes.append(f"writing to ./{DEFAULT_OUT}/")
    return Settings(
        inputs=inputs,
        practice=practice,
        out_dir=out_dir,
        ledger=ledger,
        processes=processes,
        as_of=as_of,
        notes=tuple(notes),
    )


@contextmanager
def _progress(enabled: bool) -> Iterator[tuple[Any, Any]]:
    """(total, advance) callbacks drawing a bar on stderr when it is a terminal."""
    if not enabled:
        yield None, None
        return
    state: dict[str, Any] = {"bar": None}

    def total(n: int) -> None:
        bar = click.progressbar(length=max(n, 1), label="claims", file=sys.stderr)
        state["bar"] = bar.__enter__()

    def advance(n: int) -> None:
        if state["bar"] is not None:
            state["bar"].update(n)

    try:
        yield total, advance
    finally:
        if state["bar"] is not None:
            state["bar"].__exit__(None, None, None)


def execute(settings: Settings, *, stages: Stages | None = None) -> Outcome:
    """Run the outbound pipeline; the bar appears only when stderr is a terminal."""
    for note in settings.notes:
        click.echo(f"note: {note}", err=True)
    with _progress(sys.stderr.isatty()) as (total, advance):
        return outbound(settings, stages=stages, progress=advance, total=total)
