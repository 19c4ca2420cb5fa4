"""``edi-pipeline workers N DIR``: N watcher processes sharing one drop folder and one ledger."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from edi_pipeline.app.workers import WorkersOptions, run_workers


@click.command("workers")
@click.argument("count", type=int)
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--once", is_flag=True, help="Process what is there now (in rounds), then exit.")
@click.option(
    "--rounds",
    type=int,
    default=3,
    show_default=True,
    help="With --once: more rounds while files are left (a worker died holding one).",
)
@click.option("--settle", type=float, default=2.0, show_default=True, help="As for watch.")
@click.option("--poll-interval", type=float, default=1.0, show_default=True, help="As for watch.")
@click.option(
    "--ledger",
    "ledger",
    metavar="URL|PATH",
    help="Ledger shared by the workers: postgresql://… to scale out (default: "
    "$EDI_PIPELINE_LEDGER, the configuration, or ./edi-out/ledger.sqlite).",
)
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Practice file that encounter exports are built for (default: the bundled demo).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout at exit.")
def command(
    count: int,
    folder: Path,
    once: bool,
    rounds: int,
    settle: float,
    poll_interval: float,
    ledger: str | None,
    config: Path | None,
    as_json: bool,
) -> None:
    """Run COUNT `watch` workers on FOLDER against one ledger; each file is processed once.

    Every worker claims a file's content in the ledger before working on it, so workers on
    several hosts may share a folder when the ledger is PostgreSQL. Without --once they watch
    until SIGTERM/SIGINT (passed on; each finishes the file in hand) and a worker that dies is
    started again. --once exits 0 when every file was processed cleanly, 1 otherwise.

    Example: edi-pipeline workers 4 /srv/edi-drop --ledger postgresql://edi@db/edi
    """
    options = WorkersOptions(count, folder, once, settle, poll_interval, config, rounds)
    summary = run_workers(options, ledger_spec=ledger)
    if as_json:
        click.echo(json.dumps(summary.as_json(), indent=2))
    else:
        counts = summary.as_json()["summary"]
        click.echo(
            ", ".join(f"{n} {status}" for status, n in counts.items())
            + f" ({summary.rounds} round(s), {summary.workers_died} worker(s) died)"
        )
    sys.exit(summary.exit_code)
