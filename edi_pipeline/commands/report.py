"""``edi-pipeline report [--html FILE] [FILE...]``: denials by root cause, payer, drug, dollars."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from edi_pipeline.app import remit as remit_app
from edi_pipeline.app import report as app
from edi_pipeline.maps import load_maps
from edi_pipeline.models import money
from edi_pipeline.report import dollars, render_html


@click.command("report")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a self-contained HTML page (inline SVG charts, works offline).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report's figures as JSON.")
@click.option(
    "--ledger",
    "ledger_option",
    default=None,
    help="Ledger to report from (default $EDI_PIPELINE_LEDGER, else "
    "./edi-out/ledger.sqlite when it exists).",
)
@click.option(
    "--min-denials",
    default=2,
    show_default=True,
    type=click.IntRange(min=1),
    help="Denials of one code by one payer for one reason before a scrub rule is proposed.",
)
def command(
    files: tuple[Path, ...],
    html_path: Path | None,
    as_json: bool,
    ledger_option: str | None,
    min_denials: int,
) -> None:
    """Report denied dollars by root cause, payer and drug over time, the top fixes, and the scrub
    rules that would have held the denied claims; from the ledger, or from the 835 FILEs given.

    Example: edi-pipeline report --html denials.html payer-2025-01.835 payer-2025-02.835
    """
    maps = load_maps()
    ledger = remit_app.open_remit_ledger(ledger_option)
    now = datetime.now(UTC)
    try:
        rep, run = app.build(
            list(files), maps=maps, ledger=ledger, min_denials=min_denials, today=now.date()
        )
    finally:
        if ledger is not None:
            ledger.close()
    sources = [str(f) for f in files] or [getattr(ledger, "location", "no ledger")]
    if html_path is not None:
        page = render_html(
            rep,
            title="Denials report",
            generated=now.strftime("%Y-%m-%d %H:%M UTC"),
            sources=sources,
        )
        app.write_private(html_path, page)
        click.echo(f"wrote {html_path}", err=True)
    if as_json:
        json.dump(
            {
                "denied_dollars": money(rep.denied),
                "denials": rep.denials,
                "by_root_cause": {k: money(v) for k, v in sorted(rep.by_root_cause.items())},
                "by_payer": {k: money(v) for k, v in sorted(rep.by_payer.items())},
                "fixes": [
                    {
                        "fix": f.fix,
                        "rule": f.rule,
                        "root_cause": f.root_cause,
                        "denials": f.denials,
                        "dollars": money(f.dollars),
                        "codes": list(f.codes),
                    }
                    for f in rep.fixes
                ],
                "proposals": [
                    {
                        "payer": p.payer,
                        "kind": p.kind,
                        "procedure": p.procedure,
                        "denials": p.denials,
                        "dollars": money(p.dollars),
                        "complete": p.complete,
                        "toml": p.toml,
                    }
                    for p in rep.proposals
                ],
            },
            sys.stdout,
        )
        sys.stdout.write("\n")
    elif html_path is None:
        click.echo(f"denied {dollars(rep.denied)} in {rep.denials} adjustments")
        for cause, value in sorted(rep.by_root_cause.items(), key=lambda kv: -kv[1]):
            click.echo(f"  {cause}: {dollars(value)}")
        for f in rep.fixes[:10]:
            click.echo(f"  {dollars(f.dollars)}  {f.fix}")
        for p in rep.proposals:
            click.echo(
                f"\n# proposed for {p.payer}: {p.denials} denials, {dollars(p.dollars)}\n" + p.toml
            )
    sys.exit(run.exit_code if run is not None else 0)
