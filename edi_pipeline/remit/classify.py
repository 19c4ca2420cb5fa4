"""Classify every adjustment of a remit: root cause, denial or not, the fix, the dollars at stake.

All knowledge is in ``maps/denials.toml`` (see its header); this module only applies it:
the most specific matching ``[[rule]]``, else the CARC's ``[[code]]`` row (or, for CARCs whose
meaning the RARC carries, the RARC's row), else ``other`` with a warning. An adjustment is never
skipped, so Σ classified amounts = Σ CAS amounts, always.

The same inputs always give the same answer, so answers are memoized: a large remit repeats a
few dozen (group, CARC, RARCs, context) combinations hundreds of thousands of times.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import repeat

from edi_pipeline.maps.denials import DenialRule, Denials
from edi_pipeline.models import Problem, Where
from edi_pipeline.remit.models import (
    DENIED,
    REVERSAL,
    ZERO,
    Adjustment,
    Classification,
    ClassifiedAdjustment,
    LineContext,
    RemitClaim,
    RemitLine,
    positional_builder,
)

UNKNOWN_RULE = "unknown-code"
CLAIM_CONTEXT = LineContext(kind="claim")


@dataclass(frozen=True, slots=True)
class ClassifiedLine:
    """A line with one ``Classification`` per CAS triplet (parallel to ``line.adjustments``)."""

    line: RemitLine
    context: LineContext
    rarcs: tuple[str, ...]  # the remark codes the classification saw
    classifications: tuple[Classification, ...]
    status: str  # paid, partially_paid, denied, reversed

    @property
    def adjustments(self) -> tuple[ClassifiedAdjustment, ...]:
        return tuple(
            map(
                ClassifiedAdjustment,
                self.line.adjustments,
                repeat(self.rarcs),
                self.classifications,
            )
        )

    @property
    def at_stake(self) -> Decimal:
        return _at_stake(self.line.adjustments, self.classifications)


@dataclass(frozen=True, slots=True)
class ClassifiedClaim:
    claim: RemitClaim
    classifications: tuple[Classification, ...]  # parallel to claim.adjustments (claim level)
    lines: tuple[ClassifiedLine, ...]
    status: str

    @property
    def adjustments(self) -> tuple[ClassifiedAdjustment, ...]:
        """The claim-level CAS, classified."""
        return tuple(
            map(
                ClassifiedAdjustment,
                self.claim.adjustments,
                repeat(self.claim.rarcs),
                self.classifications,
            )
        )

    def all_adjustments(self) -> list[ClassifiedAdjustment]:
        out = list(self.adjustments)
        for line in self.lines:
            out.extend(line.adjustments)
        return out

    def pairs(self) -> Iterator[tuple[Adjustment, Classification]]:
        """Every (adjustment, classification), claim level first, without building objects."""
        yield from zip(self.claim.adjustments, self.classifications, strict=True)
        for line in self.lines:
            yield from zip(line.line.adjustments, line.classifications, strict=True)

    @property
    def at_stake(self) -> Decimal:
        total = _at_stake(self.claim.adjustments, self.classifications)
        for line in self.lines:
            total += line.at_stake
        return total


#: Fast positional constructors (see ``models.positional_builder``): one of each per claim/line.
_new_classified_line = positional_builder(ClassifiedLine)
_new_classified_claim = positional_builder(ClassifiedClaim)


def _at_stake(adjustments: Sequence[Adjustment], classes: Sequence[Classification]) -> Decimal:
    total = ZERO
    for adj, c in zip(adjustments, classes, strict=True):
        if c.denial:
            total += adj.amount
    return total


def _flags(
    adjustments: Sequence[Adjustment], classes: Sequence[Classification]
) -> tuple[bool, bool]:
    """(something denied, a patient share) among the positive adjustments."""
    denied = patient = False
    for adj, c in zip(adjustments, classes, strict=True):
        if adj.amount > 0:
            if c.denial:
                denied = True
            elif c.root_cause == "patient_responsibility":
                patient = True
    return denied, patient


def _status(paid: Decimal, denied: bool, patient: bool, reversal: bool) -> str:
    """paid: nothing left but contractual write-offs; partially_paid: the payer paid part and a
    denial or a patient share remains; denied: the payer paid nothing and something was denied."""
    if reversal:
        return "reversed"
    if denied and paid <= 0:
        return "denied"
    if denied or patient:
        return "partially_paid"
    return "paid"


class Classifier:
    """Applies one loaded ``Denials`` table; keep one per run (its memo is per table)."""

    def __init__(self, denials: Denials) -> None:
        self.denials = denials
        self._memo: dict[tuple, Classification] = {}
        self._kinds: dict[tuple[str, tuple[str, ...]], str] = {}
        self._contexts: dict[tuple[str, tuple[str, ...]], LineContext] = {}
        self._known_rarcs: set[str] = set()
        # (classifications, any unknown code, any denial or patient share) per line shape
        self._line_memo: dict[tuple, tuple[tuple[Classification, ...], bool, bool]] = {}
        self._unknown: dict[tuple[str, str], list] = {}

    # ------------------------------------------------------------------ context

    def procedure_kind(self, code: str, modifiers: tuple[str, ...]) -> str:
        key = (code, modifiers)
        kind = self._kinds.get(key)
        if kind is None:
            kind = "other"
            for pk in self.denials.procedure_kinds:
                if pk.pattern.match(code) and (
                    not pk.modifiers_any or pk.modifiers_any.intersection(modifiers)
                ):
                    kind = pk.kind
                    break
            self._kinds[key] = kind
        return kind

    def context(
        self,
        line: RemitLine,
        *,
        kind: str | None = None,
        modifiers: tuple[str, ...] | None = None,
        ndc_present: bool | None = None,
    ) -> LineContext:
        """The line's context: from what we sent when known (kind, modifiers, NDC), else
        inferred from the billed procedure code."""
        billed = line.billed
        if kind is None and modifiers is None and ndc_present is None:
            key = (billed.code, billed.modifiers)
            found = self._contexts.get(key)
            if found is None:
                found = self._contexts[key] = LineContext(
                    kind=self.procedure_kind(billed.code, billed.modifiers),
                    modifiers=billed.modifiers,
                    procedure=billed.code,
                )
            return found
        mods = modifiers if modifiers is not None else billed.modifiers
        return LineContext(
            kind=kind or self.procedure_kind(billed.code, mods),
            modifiers=mods,
            ndc_present=ndc_present,
            procedure=billed.code,
        )

    # ------------------------------------------------------------------ one adjustment

    def classify(
        self, adjustment: Adjustment, rarcs: tuple[str, ...], ctx: LineContext
    ) -> Classification:
        key = (adjustment.group, adjustment.carc, rarcs, ctx.kind, ctx.ndc_present, ctx.modifiers)
        found = self._memo.get(key)
        if found is None:
            found = self._decide(adjustment.group, adjustment.carc, rarcs, ctx)
            self._memo[key] = found
        return found

    def _matches(
        self, rule: DenialRule, group: str, rarcs: tuple[str, ...], ctx: LineContext
    ) -> bool:
        if rule.groups and group not in rule.groups:
            return False
        if rule.rarcs and not rule.rarcs.intersection(rarcs):
            return False
        if rule.line_kinds and ctx.kind not in rule.line_kinds:
            return False
        if rule.ndc is not None and (
            ctx.ndc_present is None or ctx.ndc_present != (rule.ndc == "present")
        ):
            return False
        if rule.modifiers_any and not rule.modifiers_any.intersection(ctx.modifiers):
            return False
        return not (rule.modifiers_none and rule.modifiers_none.intersection(ctx.modifiers))

    def _decide(
        self, group: str, carc: str, rarcs: tuple[str, ...], ctx: LineContext
    ) -> Classification:
        denials = self.denials
        for rule in denials.rules_by_carc.get(carc, ()):  # sorted most specific first
            if self._matches(rule, group, rarcs, ctx):
                return Classification(
                    rule.root_cause, rule.denial, rule.fix, rule.id, rule.source, rule.prevent
                )
        row = denials.carc(carc)
        if row is None:
            return Classification(
                "other",
                group != "PR",
                f"CARC {carc} is not in maps/denials.toml: look it up in the X12 CARC list, work "
                "the claim by hand, and add a [[code]] row so it is classified next time.",
                UNKNOWN_RULE,
                "edi-pipeline: code not in maps/denials.toml",
                None,
                known=False,
            )
        if row.rarc_decides:
            for rarc in rarcs:
                rrow = denials.rarc(rarc)
                if rrow is not None:
                    return Classification(
                        rrow.root_cause,
                        bool(row.denial),
                        f"{rrow.fix} (CARC {carc} + RARC {rarc})",
                        f"carc-{carc}+rarc-{rarc}",
                        f"{row.source}; {rrow.source}",
                        rrow.prevent,
                    )
        return Classification(
            row.root_cause, bool(row.denial), row.fix, f"carc-{carc}", row.source, row.prevent
        )

    # ------------------------------------------------------------------ a whole claim

    def classify_claim(
        self, claim: RemitClaim, contexts: Sequence[LineContext] | None = None
    ) -> ClassifiedClaim:
        """Classify every claim- and line-level adjustment; ``contexts`` come from matching
        (one per line), else they are inferred from the procedure codes.

        Unknown codes are not repeated on every claim: ``take_unknown()`` reports each unknown
        CARC/RARC once per file with how often it was seen and where first."""
        claim_rarcs = claim.rarcs
        if claim_rarcs:
            self._check_rarcs(claim, claim_rarcs)
        adjustments = claim.adjustments
        classes, flagged = self._classes(claim, adjustments, claim_rarcs, CLAIM_CONTEXT)
        denied, patient = _flags(adjustments, classes) if flagged else (False, False)
        reversal = claim.status_code == REVERSAL
        lines = []
        context = self.context
        inferred = self._contexts
        for i, line in enumerate(claim.lines):
            if contexts is not None:
                ctx = contexts[i]
            else:  # context(line), with its memo looked up here first
                billed = line.original or line.procedure
                ctx = inferred.get((billed.code, billed.modifiers)) or context(line)
            rarcs = line.rarcs
            if rarcs:
                self._check_rarcs(claim, rarcs)
            else:
                rarcs = claim_rarcs
            adjustments = line.adjustments
            line_classes, flagged = self._classes(claim, adjustments, rarcs, ctx)
            d, p = _flags(adjustments, line_classes) if flagged else (False, False)
            denied = denied or d
            patient = patient or p
            lines.append(
                _new_classified_line(
                    line, ctx, rarcs, line_classes, _status(line.paid, d, p, reversal)
                )
            )
        status = (
            "denied"
            if claim.status_code == DENIED
            else _status(claim.paid, denied, patient, reversal)
        )
        return _new_classified_claim(claim, classes, tuple(lines), status)

    def _classes(
        self,
        claim: RemitClaim,
        adjustments: tuple[Adjustment, ...],
        rarcs: tuple[str, ...],
        ctx: LineContext,
    ) -> tuple[tuple[Classification, ...], bool]:
        """The classifications of one line's (or the claim's) CAS triplets, memoized whole, and
        whether any of them is a denial or a patient share (else ``_flags`` need not look)."""
        if not adjustments:
            return (), False
        if len(adjustments) == 1:  # the common case; its key cannot equal a longer one's
            a = adjustments[0]
            key: tuple = (ctx.kind, ctx.ndc_present, ctx.modifiers, rarcs, a.group, a.carc)
        else:
            key = (
                ctx.kind,
                ctx.ndc_present,
                ctx.modifiers,
                rarcs,
                *[(a.group, a.carc) for a in adjustments],
            )
        memo = self._line_memo.get(key)
        if memo is None:
            found = tuple([self.classify(a, rarcs, ctx) for a in adjustments])
            memo = self._line_memo[key] = (
                found,
                not all(c.known for c in found),
                any(c.denial or c.root_cause == "patient_responsibility" for c in found),
            )
        found, unknown, flagged = memo
        if unknown:
            for a, c in zip(adjustments, found, strict=True):
                if not c.known:
                    self._seen_unknown(
                        ("CARC", f"{a.group}-{a.carc}"), claim, a.segment_index, "CAS"
                    )
        return found, flagged

    def _check_rarcs(self, claim: RemitClaim, rarcs: tuple[str, ...]) -> None:
        known = self._known_rarcs
        for code in rarcs:
            if code not in known:
                if self.denials.rarc(code) is not None:
                    known.add(code)
                else:
                    self._seen_unknown(("RARC", code), claim, claim.segment_index, "CLP")

    def _seen_unknown(
        self, key: tuple[str, str], claim: RemitClaim, segment_index: int, segment_id: str
    ) -> None:
        entry = self._unknown.get(key)
        if entry is None:
            where = Where(
                file=claim.payment.file,
                claim_id=claim.patient_control_number,
                segment_index=segment_index,
                segment_id=segment_id,
            )
            self._unknown[key] = [1, where]
        else:
            entry[0] += 1

    def take_unknown(self) -> list[Problem]:
        """One warning per unknown code seen since the last call (count and first place)."""
        out = []
        for (kind, code), (count, where) in self._unknown.items():
            times = f"{count} time{'s' if count != 1 else ''}"
            if kind == "CARC":
                message = (
                    f"CAS {code} is not in maps/denials.toml: classified 'other' ({times}; first "
                    "here); add a [[code]] row for it"
                )
                out.append(Problem("carc_unknown", message, where, "warning"))
            else:
                message = (
                    f"RARC {code} is not in maps/denials.toml: it did not refine the root cause "
                    f"({times}; first here)"
                )
                out.append(Problem("rarc_unknown", message, where, "warning"))
        self._unknown.clear()
        return out
