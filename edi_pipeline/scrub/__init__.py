"""Scrub: hold every claim that a payer's policy would deny, say why, and cite the rule.

The hook the outbound run calls::

    from edi_pipeline.scrub import ScrubContext, scrub

    ctx = ScrubContext.from_maps(maps, as_of=today, history=ledger_history, overrides=overrides)
    result = scrub(claim, ctx)          # Scrubbed(claim, holds, overridden)
    if result.clean: build it           # else store the claim as held with result.holds

``scrub`` is pure: the date, the member's earlier claims (a ``ClaimHistory``) and any recorded
overrides come in through the ``ScrubContext``. The rules are the ``[[rule]]`` tables of
``maps/payers/<payer>.toml`` (loaded as ``maps.payer_rules``); their kinds are the modules of
``edi_pipeline.scrub.kinds``.
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
