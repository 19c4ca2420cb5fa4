"""``edi-pipeline watch DIR``: the drop-folder watcher."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from edi_pipeline.app.watch import WatchOptions, watch_folder
from edi_pipeline.commands._options import ledger_option


@click.command("watch")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--once", is_flag=True, help="Process what is there now, then exit with a status.")
@click.option(
    "--settle",
    type=float,
    default=2.0,
    show_default=True,
    help="Seconds a file's size must stay the same before it is taken (a NAME.done marker "
    "beside it skips the wait).",
)
@click.option(
    "--poll-interval",
    type=float,
    default=1.0,
    show_default=True,
    help="Seconds between folder scans.",
)
@click.option(
    "--poll",
    "polling",
    is_flag=True,
    help="Scan only; do not use filesystem events (network filesystems).",
)
@ledger_option
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Practice file that encounter exports are built for (default: the bundled demo).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout at exit.")
def command(
    folder: Path,
    once: bool,
    settle: float,
    poll_interval: float,
    polling: bool,
    ledger: str | None,
    config: Path | None,
    as_json: bool,
) -> None:
    """Watch a drop folder: encounter exports are run, 999/277CA/TA1/835 are ingested.

    FOLDER gets inbound/, outbound/, archive/ and error/ (with NAME.reason.txt beside each
    failed file). Files are routed by content, taken only when complete, and processed once
    per content even when copied in again or after a crash. SIGTERM/SIGINT finish the file in
    hand and stop. --once exits 0 when all went well, 1 when some file failed or a stage
    reported held, rejected or unbalanced records.

    Example: edi-pipeline watch /srv/edi-drop --once --ledger /srv/edi/ledger.sqlite
    """
    options = WatchOptions(folder, once, settle, poll_interval, polling, config)
    summary = watch_folder(options, ledger_spec=ledger)
    if as_json:
        click.echo(json.dumps(summary.as_json(), indent=2))
    else:
        counts = summary.as_json()["summary"]
        click.echo(", ".join(f"{n} {status}" for status, n in counts.items()))
        for f in summary.files:
            if f.status == "failed":
                click.echo(f"failed: {f.name}: {f.reason}")
    sys.exit(summary.exit_code)
