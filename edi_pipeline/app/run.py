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

from edi_pipeline.app.deliver import DeliverySettings, deliver_built, deliver_if_configured
from edi_pipeline.app.outbound import Outcome, Settings, Stages, outbound
from edi_pipeline.errors import SettingsError
from edi_pipeline.ledger import ledger_spec, open_ledger
from edi_pipeline.practice import Practice, demo_root, load_practice

DEFAULT_OUT = Path("edi-out")
DEMO_SETTINGS = "demo.toml"


def demo_inputs() -> tuple[tuple[Path, date], ...]:
    """The bundled demo exports, each with the day its payer rules are checked as of
    (``fixtures/demo/demo.toml``), as real paths (a wheel installs package data as files)."""
    raw = tomllib.loads((demo_root() / DEMO_SETTINGS).read_text(encoding="utf-8"))
    found: list[tuple[Path, date]] = []
    for entry in raw.get("input", []):
        path = Path(str(demo_root() / str(entry.get("file", ""))))
        as_of = entry.get("as_of")
        if not path.is_file():
            raise SettingsError(f"the bundled demo export {path.name} is missing from the install")
        if not isinstance(as_of, date):
            raise SettingsError(f"bundled {DEMO_SETTINGS}: {path.name}: as_of must be a date")
        found.append((path, as_of))
    if not found:
        raise SettingsError(f"bundled {DEMO_SETTINGS} names no [[input]]")
    return tuple(found)


def settings_for(
    inputs: tuple[Path, ...],
    *,
    config: Path | None,
    out_dir: Path | None,
    ledger: str | None,
    processes: int | None = None,
    as_of: date | None = None,
    demo_when_empty: bool,
) -> Settings:
    """Resolve what to read, with which practice, where to write; say what was chosen."""
    notes: list[str] = []
    as_of_by_input: tuple[tuple[str, date], ...] = ()
    practice: Practice = load_practice(config)
    if config is None:
        notes.append("no --config: using the bundled demo practice (fake identifiers)")
    if not inputs:
        if not demo_when_empty or config is not None:
            raise SettingsError("no INPUT given: name one or more encounter export files")
        demo = demo_inputs()
        inputs = tuple(path for path, _ in demo)
        if as_of is None:
            as_of_by_input = tuple((str(path), day) for path, day in demo)
        days = ", ".join(f"{p.name} as of {d.isoformat()}" for p, d in demo)
        notes.append(f"no INPUT: using the bundled demo exports (payer rules: {days})")
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
        as_of_by_input=as_of_by_input,
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


def execute(
    settings: Settings,
    *,
    stages: Stages | None = None,
    delivery: DeliverySettings | None = None,
) -> Outcome:
    """Run the outbound pipeline, then deliver what is built and unsent when a destination is
    given (``--to``) or configured (``EDI_PIPELINE_DELIVER_TO``); the bar appears only when
    stderr is a terminal."""
    for note in settings.notes:
        click.echo(f"note: {note}", err=True)
    with _progress(sys.stderr.isatty()) as (total, advance):
        outcome = outbound(settings, stages=stages, progress=advance, total=total)
    ledger = open_ledger(ledger_spec(settings.ledger, configured=settings.practice.ledger))
    try:
        if delivery is not None:
            outcome.delivery = deliver_built(ledger, delivery)
        else:
            outcome.delivery = deliver_if_configured(ledger)
    finally:
        ledger.close()
    return outcome
