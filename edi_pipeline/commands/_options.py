"""Options, and the plumbing around them, that several commands share.

One definition per option keeps its name, metavar and help the same wherever it appears. This
module defines no ``command``, so ``cli`` does not register it (the leading ``_`` says so too).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from edi_pipeline.ledger import ledger_spec, open_ledger
from edi_pipeline.ledger.base import Ledger
from edi_pipeline.practice import load_practice

if TYPE_CHECKING:  # the read-only commands need not import the outbound pipeline
    from edi_pipeline.app.run import Outcome

F = TypeVar("F", bound=Callable[..., Any])

#: ``--config`` help of commands that build (a practice file is optional: the demo stands in)
CONFIG_OR_DEMO = "Practice configuration TOML (default: the bundled demo practice)."
#: ``--config`` help of commands that only read the ledger
CONFIG_FOR_LEDGER = "Practice configuration TOML (only its ledger setting is used here)."


def config_option(help: str) -> Callable[[F], F]:
    return click.option("--config", type=click.Path(dir_okay=False, path_type=Path), help=help)


def json_option(help: str = "Print one JSON document on stdout.") -> Callable[[F], F]:
    return click.option("--json", "as_json", is_flag=True, help=help)


#: ``--json`` of the outbound commands (``build``, ``run``)
report_json_option = json_option("Print report.json on stdout.")


#: ``--ledger`` of the outbound commands (``build``, ``run``), whose practice file may name one
outbound_ledger_option = click.option(
    "--ledger",
    metavar="PATH",
    help="Ledger (default: $EDI_PIPELINE_LEDGER, the configuration, or ./edi-out/ledger.sqlite).",
)

#: ``--ledger`` of the commands that take no practice file (``deliver``, ``watch``)
ledger_option = click.option(
    "--ledger",
    "ledger",
    metavar="PATH",
    help="Ledger (default: $EDI_PIPELINE_LEDGER or ./edi-out/ledger.sqlite).",
)

#: ``--ledger`` of the commands that read the ledger beside ``--config`` (``ack``, ``status``)
read_ledger_option = click.option(
    "--ledger",
    "ledger_option",
    default=None,
    help="The ledger (path or postgresql:// URL; default $EDI_PIPELINE_LEDGER, else "
    "./edi-out/ledger.sqlite).",
)

processes_option = click.option(
    "--processes",
    type=click.IntRange(min=1),
    default=None,
    help="pyx12 validation processes (default: one per CPU).",
)


@contextmanager
def ledger_from(config: Path | None, ledger_option: str | None) -> Iterator[Ledger]:
    """The ledger ``--ledger`` names, else the one the ``--config`` practice file names, else
    the default (``ledger_spec``); closed when the block ends, however it ends."""
    configured = load_practice(config).ledger if config is not None else None
    ledger = open_ledger(ledger_spec(ledger_option, configured=configured))
    try:
        yield ledger
    finally:
        ledger.close()


def finish_outbound(outcome: Outcome, as_json: bool) -> NoReturn:
    """Print an outbound run's outcome as ``build`` and ``run`` do, and exit with its
    code: the summary on stdout, or report.json there and the summary on stderr."""
    if as_json:
        click.echo(json.dumps(outcome.report(), indent=2))
        click.echo(outcome.summary(), err=True)
    else:
        click.echo(outcome.summary())
    sys.exit(outcome.exit_code)
