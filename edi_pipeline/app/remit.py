"""The remit workflow: read 835s, balance, match to what we sent, classify, record, summarize.

Claims are handed to ``on_claim`` one at a time as they are read, so the caller can stream them
out (the CLI writes each claim's JSON at once) and memory stays flat on any file size. A file that
cannot be read at all is reported and the next file is read; a bad segment is a problem on its
claim or transaction, and the rest of the file is still read.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import structlog

from edi_pipeline.errors import X12SyntaxError
from edi_pipeline.maps import Maps
from edi_pipeline.models import Problem, Where, money
from edi_pipeline.remit.balance import claim_imbalances, transaction_imbalance
from edi_pipeline.remit.classify import ClassifiedClaim, Classifier
from edi_pipeline.remit.match import ClaimMatch, Matcher, SentClaim, SentClaims, SentLine
from edi_pipeline.remit.models import ZERO, Imbalance, Payment, RemitClaim, RemitTransaction
from edi_pipeline.remit.parse import RemitReader

log = structlog.get_logger()


@dataclass(frozen=True, slots=True)
class ClaimResult:
    classified: ClassifiedClaim
    match: ClaimMatch
    imbalances: tuple[Imbalance, ...]
    problems: tuple[Problem, ...]
    duplicate: bool = False  # its transaction was already recorded in the ledger

    @property
    def claim(self) -> RemitClaim:
        return self.classified.claim


class Recorder(Protocol):
    """Where results are kept (the ledger); ``None`` keeps nothing."""

    def begin_transaction(self, payment: Payment, file_sha256: str) -> bool:
        """Record the payment; False when this very payment was recorded before (duplicate)."""

    def claim(self, result: ClaimResult) -> None: ...

    def end_transaction(self, tx: RemitTransaction, imbalance: Imbalance | None) -> None: ...


@dataclass
class FileResult:
    file: str
    readable: bool = True
    transactions: int = 0
    claims: int = 0
    imbalances: list[Imbalance] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    duplicates: int = 0  # transactions already in the ledger

    @property
    def balanced(self) -> bool:
        return self.readable and not self.imbalances

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


@dataclass
class RemitRun:
    files: list[FileResult] = field(default_factory=list)
    claims: int = 0
    matched: int = 0
    charge: Decimal = ZERO
    paid: Decimal = ZERO
    provider_adjustments: Decimal = ZERO
    denied_dollars: Decimal = ZERO
    by_root_cause: dict[str, Decimal] = field(default_factory=dict)
    adjusted_by_root_cause: dict[str, Decimal] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)
    cas_total: Decimal = ZERO
    unmatched_claims: list[dict[str, Any]] = field(default_factory=list)
    unreported_lines: list[tuple[SentClaim, SentLine]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 all read and balanced; 1 something unbalanced, unreadable or in error."""
        bad = any(not f.balanced or f.errors for f in self.files)
        return 1 if bad else 0

    def _tally(self, adjustments: tuple, classes: tuple) -> None:
        adjusted = self.adjusted_by_root_cause
        for adj, c in zip(adjustments, classes, strict=True):
            cause = c.root_cause
            amount = adj.amount
            self.cas_total += amount
            adjusted[cause] = adjusted.get(cause, ZERO) + amount
            if c.denial:
                self.denied_dollars += amount
                self.by_root_cause[cause] = self.by_root_cause.get(cause, ZERO) + amount

    def add(self, result: ClaimResult, *, matching: bool = True) -> None:
        claim = result.claim
        self.claims += 1
        self.matched += result.match.matched
        self.charge += claim.charge
        self.paid += claim.paid
        status = result.classified.status
        self.by_status[status] = self.by_status.get(status, 0) + 1
        cc = result.classified
        self._tally(claim.adjustments, cc.classifications)
        for line in cc.lines:
            if line.classifications:
                self._tally(line.line.adjustments, line.classifications)
        if matching and not result.match.matched:
            # Without a ledger every claim is unmatched and says so itself; listing them again
            # here would make memory grow with the file.
            self.unmatched_claims.append(
                {
                    "file": claim.payment.file,
                    "patient_control_number": claim.patient_control_number,
                    "payer_claim_number": claim.payer_claim_number,
                    "segment_index": claim.segment_index,
                }
            )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def process(
    paths: Iterable[Path],
    *,
    maps: Maps,
    sent: SentClaims | None = None,
    recorder: Recorder | None = None,
    on_claim: Callable[[ClaimResult], None] | None = None,
) -> RemitRun:
    """Read every file; call ``on_claim`` for each claim as it is done; return the totals."""
    classifier = Classifier(maps.denials)
    matcher = Matcher(sent) if sent is not None else None
    run = RemitRun()
    for path in paths:
        result = FileResult(str(path))
        run.files.append(result)
        sha = file_sha256(path) if recorder is not None else ""
        reader = RemitReader(path, name=str(path))
        duplicate_tx = False
        current: Payment | None = None
        try:
            for event in reader:
                if isinstance(event, RemitClaim):
                    if event.payment is not current:
                        current = event.payment
                        duplicate_tx = bool(
                            recorder is not None and not recorder.begin_transaction(current, sha)
                        )
                    claim_result = _claim(event, classifier, matcher, duplicate_tx)
                    result.claims += 1
                    if claim_result.imbalances:
                        result.imbalances.extend(claim_result.imbalances)
                    if event.problems:
                        result.problems.extend(event.problems)
                    run.add(claim_result, matching=matcher is not None)
                    if recorder is not None and not duplicate_tx:
                        recorder.claim(claim_result)
                    if on_claim is not None:
                        on_claim(claim_result)
                else:
                    if event.payment is not current:  # a transaction with no claims (PLB only)
                        current = event.payment
                        duplicate_tx = bool(
                            recorder is not None and not recorder.begin_transaction(current, sha)
                        )
                    result.transactions += 1
                    imb = transaction_imbalance(event)
                    if imb is not None:
                        result.imbalances.append(imb)
                    result.problems.extend(event.problems)
                    run.provider_adjustments += event.provider_adjustment_total
                    if duplicate_tx:
                        result.duplicates += 1
                        result.problems.append(
                            Problem(
                                "remit_duplicate",
                                f"payment {event.payment.trace_number} was already recorded in the "
                                "ledger; its claims are reported but not posted again",
                                Where(
                                    file=str(path),
                                    segment_index=event.payment.segment_index,
                                    segment_id="ST",
                                ),
                                "warning",
                            )
                        )
                    elif recorder is not None:
                        recorder.end_transaction(event, imb)
        except X12SyntaxError as exc:
            result.readable = False
            result.problems.append(
                Problem(exc.code, exc.message, exc.where.merged(Where(file=str(path))))
            )
        except OSError as exc:
            result.readable = False
            result.problems.append(
                Problem(
                    "file_unreadable",
                    f"cannot read the file: {exc.strerror or exc}",
                    Where(file=str(path)),
                )
            )
        result.problems[:0] = reader.problems
        result.problems.extend(classifier.take_unknown())
        if result.readable and result.transactions == 0:
            result.readable = False
            result.problems.append(
                Problem("no_835", "no 835 transaction set in the file", Where(file=str(path)))
            )
        log.info(
            "remit.file_read",
            file=str(path),
            claims=result.claims,
            transactions=result.transactions,
            balanced=result.balanced,
            problems=len(result.problems),
        )
    if matcher is not None:
        run.unreported_lines = matcher.unreported()
    log.info(
        "remit.finished",
        files=len(run.files),
        claims=run.claims,
        matched=run.matched,
        paid=str(run.paid),
        denied_dollars=str(run.denied_dollars),
        unbalanced_files=sum(not f.balanced for f in run.files),
    )
    return run


_UNMATCHED: dict[int, ClaimMatch] = {}


def _unmatched(n: int) -> ClaimMatch:
    found = _UNMATCHED.get(n)
    if found is None:
        found = _UNMATCHED[n] = ClaimMatch(None, None, (None,) * n, (None,) * n)
    return found


def _claim(
    claim: RemitClaim, classifier: Classifier, matcher: Matcher | None, duplicate: bool
) -> ClaimResult:
    match = matcher.match(claim) if matcher is not None else _unmatched(len(claim.lines))
    contexts = None
    if match.matched:
        contexts = []
        for line, sent_line in zip(claim.lines, match.lines, strict=True):
            if sent_line is None:
                contexts.append(classifier.context(line))
            else:
                contexts.append(
                    classifier.context(
                        line,
                        kind=sent_line.kind,
                        modifiers=sent_line.modifiers,
                        ndc_present=sent_line.ndc is not None,
                    )
                )
        log.debug("remit.claim_matched", claim_id=claim.patient_control_number, how=match.how)
    classified = classifier.classify_claim(claim, contexts)
    imbalances = tuple(claim_imbalances(claim))
    return ClaimResult(classified, match, imbalances, claim.problems, duplicate)


# ---------------------------------------------------------------------- JSON rendering (cli.md)


def _problem_json(p: Problem) -> dict[str, Any]:
    return {"code": p.code, "severity": p.severity, "message": p.message, **p.where.as_dict()}


def _imbalance_json(imb: Imbalance) -> dict[str, Any]:
    return {
        "level": imb.level,
        "formula": imb.formula,
        "expected": money(imb.expected),
        "computed": money(imb.computed),
        "difference": money(imb.difference),
        "st02": imb.st02,
        "claim": imb.claim,
        "line": imb.line,
        "segment_index": imb.where.segment_index,
        "segment_id": imb.where.segment_id,
    }


def _adjustment_json(a) -> dict[str, Any]:
    adj = a.adjustment
    c = a.classification
    out = {
        "group": adj.group,
        "carc": adj.carc,
        "amount": money(adj.amount),
        "rarcs": list(a.rarcs),
        "root_cause": c.root_cause,
        "denial": c.denial,
        "fix": c.fix,
        "at_stake": money(a.at_stake),
        "rule": c.rule,
        "source": c.source,
        "segment_index": adj.segment_index,
    }
    if adj.quantity is not None:
        out["quantity"] = str(adj.quantity)
    if c.prevent:
        out["prevent"] = c.prevent
    return out


def claim_json(result: ClaimResult) -> dict[str, Any]:
    claim = result.claim
    cc = result.classified
    match = result.match
    sent = match.sent
    lines = []
    for i, cl in enumerate(cc.lines):
        line = cl.line
        sent_line = match.lines[i] if i < len(match.lines) else None
        entry: dict[str, Any] = {
            "procedure": line.procedure.code,
            "modifiers": list(line.procedure.modifiers),
            "charge": money(line.charge),
            "paid": money(line.paid),
            "matched_line": sent_line.number if sent_line is not None else None,
            "status": cl.status,
            "kind": cl.context.kind,
            "adjustments": [_adjustment_json(a) for a in cl.adjustments],
            "rarcs": list(line.rarcs),
        }
        if line.original is not None:
            entry["billed_procedure"] = line.original.code
            entry["billed_modifiers"] = list(line.original.modifiers)
        if line.units is not None:
            entry["units"] = str(line.units)
        if line.control_number:
            entry["line_control_number"] = line.control_number
        if line.service_from:
            entry["service_date"] = line.service_from.isoformat()
        if match.line_how and i < len(match.line_how) and match.line_how[i]:
            entry["matched_by"] = match.line_how[i]
        if sent is not None and sent_line is None:
            entry["payer_added"] = True
        lines.append(entry)
    out: dict[str, Any] = {
        "file": claim.payment.file,
        "st02": claim.payment.st02,
        "patient_control_number": claim.patient_control_number,
        "matched": match.matched,
        "status_code": claim.status_code,
        "status": cc.status,
        "charge": money(claim.charge),
        "paid": money(claim.paid),
        "payer_claim_number": claim.payer_claim_number,
        "payer": claim.payment.payer_name,
        "adjustments": [_adjustment_json(a) for a in cc.adjustments],
        "lines": lines,
        "balanced": not result.imbalances,
        "at_stake": money(cc.at_stake),
        "segment_index": claim.segment_index,
    }
    if claim.patient_responsibility is not None:
        out["patient_responsibility"] = money(claim.patient_responsibility)
    if claim.rarcs:
        out["rarcs"] = list(claim.rarcs)
    if sent is not None:
        out["encounter_id"] = sent.encounter_id
        out["matched_by"] = match.how
    if result.imbalances:
        out["imbalances"] = [_imbalance_json(i) for i in result.imbalances]
    if result.problems:
        out["problems"] = [_problem_json(p) for p in result.problems]
    if result.duplicate:
        out["duplicate"] = True
    return out


def file_json(result: FileResult) -> dict[str, Any]:
    return {
        "file": result.file,
        "readable": result.readable,
        "balanced": result.balanced,
        "transactions": result.transactions,
        "claims": result.claims,
        "imbalances": [_imbalance_json(i) for i in result.imbalances],
        "problems": [_problem_json(p) for p in result.problems],
    }


def summary_json(run: RemitRun) -> dict[str, Any]:
    return {
        "claims": run.claims,
        "matched": run.matched,
        "unmatched": run.claims - run.matched,
        "charge": money(run.charge),
        "paid": money(run.paid),
        "provider_adjustments": money(run.provider_adjustments),
        "adjusted": money(run.cas_total),
        "denied_dollars": money(run.denied_dollars),
        "by_root_cause": {k: money(v) for k, v in sorted(run.by_root_cause.items())},
        "adjusted_by_root_cause": {
            k: money(v) for k, v in sorted(run.adjusted_by_root_cause.items())
        },
        "by_status": dict(sorted(run.by_status.items())),
        "unmatched_claims": run.unmatched_claims,
        "unreported_lines": [
            {
                "patient_control_number": claim.patient_control_number,
                "encounter_id": claim.encounter_id,
                "line": line.number,
                "procedure": line.procedure,
                "charge": money(line.charge),
                "line_control_number": line.control_number,
            }
            for claim, line in run.unreported_lines
        ],
    }


def env_ledger() -> str | None:
    return os.environ.get("EDI_PIPELINE_LEDGER")


def open_remit_ledger(option: str | None) -> Any:
    """The ledger to match against and post to: ``--ledger`` or ``EDI_PIPELINE_LEDGER`` (created
    when missing), else the default ``./edi-out/ledger.sqlite`` only when it already exists
    (remit on a machine that never built claims still reads, balances and classifies)."""
    from edi_pipeline.ledger import DEFAULT_PATH, open_ledger

    if option or env_ledger():
        return open_ledger(option)
    default = Path.cwd() / DEFAULT_PATH
    return open_ledger(default) if default.exists() else None


def run(
    paths: Iterable[Path],
    *,
    maps: Maps,
    ledger: Any = None,
    now: Any = None,
    on_claim: Callable[[ClaimResult], None] | None = None,
) -> RemitRun:
    """``process`` wired to a ledger (when there is one): match against it and post to it."""
    if ledger is None:
        return process(paths, maps=maps, on_claim=on_claim)
    from edi_pipeline.ledger.remit import LedgerRecorder, LedgerSentClaims

    recorder = LedgerRecorder(ledger, now=now)
    run_ = process(
        paths, maps=maps, sent=LedgerSentClaims(ledger), recorder=recorder, on_claim=on_claim
    )
    log.info(
        "remit.claims_posted", claims=recorder.posted_claims, status_changes=recorder.status_changes
    )
    return run_
