"""``edi-pipeline deliver``: send built, undelivered interchanges exactly once."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from edi_pipeline.app.deliver import DeliverySettings, deliver_command
from edi_pipeline.commands._options import json_option, ledger_option


@click.command("deliver")
@click.option(
    "--to",
    "to",
    metavar="folder:DIR|sftp://user@host:port/path",
    help="Destination (default: $EDI_PIPELINE_DELIVER_TO).",
)
@click.option(
    "--identity",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="EDI_PIPELINE_IDENTITY",
    help="SFTP private key file (key authentication only; default $EDI_PIPELINE_IDENTITY).",
)
@click.option(
    "--known-hosts",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="EDI_PIPELINE_KNOWN_HOSTS",
    help="known_hosts file the server's host key must be in (default: "
    "$EDI_PIPELINE_KNOWN_HOSTS, else ~/.ssh/known_hosts).",
)
@click.option(
    "--accept-new-host-key",
    is_flag=True,
    help="Trust a server not yet in --known-hosts and record its key (never a changed key).",
)
@ledger_option
@click.option(
    "--timeout",
    type=float,
    default=30.0,
    show_default=True,
    help="Seconds allowed for one network step.",
)
@click.option(
    "--attempts",
    type=int,
    default=None,
    help="Tries per file for failures that may pass (default 4, with backoff).",
)
@json_option()
def command(
    to: str | None,
    identity: Path | None,
    known_hosts: Path | None,
    accept_new_host_key: bool,
    ledger: str | None,
    timeout: float,
    attempts: int | None,
    as_json: bool,
) -> None:
    """Send built, undelivered interchanges to a folder or an SFTP server, exactly once.

    Each interchange is recorded as being sent (with its remote name) before it is uploaded
    to a temporary name, size-checked and renamed; an interrupted run is finished by the next
    one without sending anything twice. Exit 1 when some interchange could not be sent (it
    stays queued for the next run).

    Example: edi-pipeline deliver --to sftp://edi@sftp.example.net:22/inbound
    --identity ~/.ssh/clearinghouse_ed25519 --known-hosts ~/.ssh/known_hosts
    """
    settings = DeliverySettings.from_options(
        to,
        identity=identity,
        known_hosts=known_hosts,
        accept_new_host_key=accept_new_host_key,
        timeout=timeout,
        attempts=attempts,
    )
    result = deliver_command(ledger, settings)
    if as_json:
        click.echo(json.dumps(result.as_json(), indent=2))
    else:
        reconciled = sum(1 for s in result.sent if s.reconciled)
        line = f"sent {len(result.sent)} interchange(s) to {result.destination}"
        if reconciled:
            line += f" ({reconciled} found already there after an interrupted run)"
        click.echo(line)
        for failure in result.failed:
            click.echo(f"failed: {failure.message}")
        if result.not_attempted:
            click.echo(f"left for the next run: {len(result.not_attempted)} interchange(s)")
        if result.busy:
            click.echo(f"being sent by another process: {len(result.busy)} interchange(s)")
    sys.exit(result.exit_code)
