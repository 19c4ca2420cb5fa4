"""Scrub: hold every claim that a payer's policy would deny, say why, and cite the rule.

The hook the outbound run calls (``app/scrub.py`` does exactly this for ``edi-pipeline scrub``)::

    from edi_pipeline.scrub import InMemoryHistory, LayeredHistory, ScrubContext, scrub
    from edi_pipeline.ledger.scrub import LedgerHistory, overrides, record_scrub

    from_ledger = LedgerHistory(ledger)
    from_ledger.prefetch(claims)                 # the batch's members, in a few queries
    batch = InMemoryHistory()                    # claims of this batch that went through
    ctx = ScrubContext.from_maps(maps, as_of=today, history=LayeredHistory(batch, from_ledger),
                                 overrides=overrides(ledger, practice_key))
    for claim in sorted(claims, key=lambda c: c.date_of_service):
        result = scrub(claim, ctx)               # Scrubbed(claim, holds, overridden)
        record_scrub(ledger, practice_key, result, now)  # held: stored with its holds
        if result.clean:
            batch.add_claim(claim)               # later claims of the batch see it
            ...build it...

``scrub`` is pure: the date, the member's earlier claims (a ``ClaimHistory``) and any recorded
overrides come in through the ``ScrubContext``. The rules are the ``[[rule]]`` tables of
``maps/payers/<payer>.toml`` (loaded as ``maps.payer_rules``); their kinds are the modules of
``edi_pipeline.scrub.kinds``. A held claim's dollars are ``result.claim.total_charge``.
"""

from __future__ import annotations

from edi_pipeline.scrub import kinds as _kinds  # noqa: F401  (registers every rule kind)
from edi_pipeline.scrub.codeset import CodeSet, DiagnosisSet
from edi_pipeline.scrub.engine import (
    KINDS,
    LineRule,
    Rule,
    RuleBook,
    ScrubContext,
    build_rule,
    meta,
    rule_kind,
    schema_of,
    scrub,
)
from edi_pipeline.scrub.history import (
    NO_HISTORY,
    ClaimHistory,
    InMemoryHistory,
    LayeredHistory,
    PastClaim,
    PastLine,
)

__all__ = [
    "KINDS",
    "NO_HISTORY",
    "ClaimHistory",
    "CodeSet",
    "DiagnosisSet",
    "InMemoryHistory",
    "LayeredHistory",
    "LineRule",
    "PastClaim",
    "PastLine",
    "Rule",
    "RuleBook",
    "ScrubContext",
    "build_rule",
    "meta",
    "rule_kind",
    "schema_of",
    "scrub",
]
