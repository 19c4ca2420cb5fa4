"""The report workflow: classified adjustments from the ledger, or from 835 files, to a report.

From files, the 835s are read, balanced, matched (against the ledger when there is one, for the
drug and line kinds we sent) and classified exactly as ``remit`` does, but nothing is posted.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from edi_pipeline.app import remit as remit_app
from edi_pipeline.ledger.remit import AdjustmentRow, adjustment_rows
from edi_pipeline.maps import Maps
from edi_pipeline.report import Report, aggregate


def rows_from_results(results: Sequence[remit_app.ClaimResult]) -> Iterator[AdjustmentRow]:
    for result in results:
        claim = result.claim
        cc = result.classified
        sent = result.match.sent
        payer = claim.payment.payer_name or claim.payment.payer_id
        common = {
            "payer": payer,
            "paid_on": claim.payment.date,
            "patient_control_number": claim.patient_control_number,
            "encounter_id": sent.encounter_id if sent else None,
            "payer_id": claim.payment.payer_id,
        }
        for adj in cc.adjustments:
            yield _row(adj, common, None, None, None, "claim", claim.statement_from)
        for i, cl in enumerate(cc.lines):
            sent_line = result.match.lines[i] if i < len(result.match.lines) else None
            yield from (
                _row(
                    adj,
                    common,
                    cl.line,
                    cl.line.billed_units,
                    sent_line.drug if sent_line else None,
                    cl.context.kind,
                    cl.line.service_from or claim.statement_from,
                )
                for adj in cl.adjustments
            )


def _row(adj, common, line, units, drug, kind, service_date) -> AdjustmentRow:
    a = adj.adjustment
    c = adj.classification
    return AdjustmentRow(
        **common,
        service_date=service_date,
        procedure=line.billed.code if line is not None else None,
        modifiers=line.billed.modifiers if line is not None else (),
        units=units,
        line_kind=kind,
        drug=drug,
        group=a.group,
        carc=a.carc,
        rarcs=adj.rarcs,
        amount=a.amount,
        root_cause=c.root_cause,
        denial=c.denial,
        at_stake=adj.at_stake,
        fix=c.fix,
        rule=c.rule,
        prevent=c.prevent,
    )


def build(
    files: Sequence[Path],
    *,
    maps: Maps,
    ledger: Any = None,
    min_denials: int = 2,
    today: date | None = None,
) -> tuple[Report, remit_app.RemitRun | None]:
    """The report from ``files`` (when given) or from everything posted in ``ledger``."""
    if files:
        results: list[remit_app.ClaimResult] = []
        sent = None
        if ledger is not None:
            from edi_pipeline.ledger.remit import LedgerSentClaims

            sent = LedgerSentClaims(ledger)
        run = remit_app.process(files, maps=maps, sent=sent, on_claim=results.append)
        return aggregate(rows_from_results(results), min_denials=min_denials, today=today), run
    if ledger is None:
        return aggregate((), min_denials=min_denials, today=today), None
    return aggregate(adjustment_rows(ledger), min_denials=min_denials, today=today), None


def write_private(path: Path, text: str) -> None:
    """Write atomically (temp name, fsync, rename), owner-only whatever the umask."""
    path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
