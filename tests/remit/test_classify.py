"""Classification from maps/denials.toml: context rules, RARC-decided CARCs, unknown codes, and
the map's own checks (a billing lead's mistake is named with file, row and field)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from edi_pipeline.maps import load_maps
from edi_pipeline.maps.denials import parse_denials
from edi_pipeline.maps.schema import Problems
from edi_pipeline.models import ROOT_CAUSES
from edi_pipeline.remit.classify import Classifier
from edi_pipeline.remit.models import Adjustment, LineContext
from edi_pipeline.remit.parse import read_remit

DENIALS = load_maps().denials


def classify(group, carc, rarcs=(), **ctx):
    c = Classifier(DENIALS)
    return c.classify(Adjustment(group, carc, Decimal("10.00")), tuple(rarcs), LineContext(**ctx))


def test_every_row_names_a_closed_set_root_cause_and_a_source() -> None:
    for row in DENIALS.codes.values():
        assert row.root_cause in ROOT_CAUSES and row.source and row.fix
    for rule in DENIALS.rules:
        assert rule.root_cause in ROOT_CAUSES and rule.source and rule.fix


@pytest.mark.parametrize(
    ("group", "carc", "rarcs", "ctx", "cause", "denial", "rule"),
    [
        (
            "CO",
            "16",
            ["M119"],
            {"kind": "drug", "ndc_present": False},
            "coding_ndc",
            True,
            "ndc-missing-on-drug-line",
        ),
        (
            "CO",
            "16",
            ["M119"],
            {"kind": "drug", "ndc_present": True},
            "coding_ndc",
            True,
            "ndc-invalid-on-drug-line",
        ),
        ("CO", "16", ["M119"], {"kind": "drug"}, "coding_ndc", True, "ndc-on-drug-line"),
        ("CO", "16", ["N290"], {"kind": "em"}, "missing_information", True, "carc-16+rarc-N290"),
        ("CO", "16", ["M20"], {"kind": "drug"}, "coding_procedure", True, "carc-16+rarc-M20"),
        ("CO", "16", [], {"kind": "drug"}, "missing_information", True, "carc-16"),
        (
            "CO",
            "4",
            [],
            {"kind": "drug", "modifiers": ()},
            "coding_modifier",
            True,
            "modifier-on-drug-line-no-jw-jz",
        ),
        ("CO", "4", [], {"kind": "drug", "modifiers": ("JZ",)}, "coding_modifier", True, "carc-4"),
        (
            "CO",
            "4",
            [],
            {"kind": "procedure", "modifiers": ()},
            "coding_modifier",
            True,
            "modifier-laterality-joint",
        ),
        ("CO", "45", [], {}, "contractual", False, "carc-45"),
        ("PR", "45", [], {}, "patient_responsibility", False, "pr45-out-of-network"),
        ("PR", "2", [], {}, "patient_responsibility", False, "carc-2"),
        ("CO", "97", [], {"kind": "em"}, "bundling", True, "bundled-em-no-25"),
        ("CO", "97", [], {"kind": "guidance"}, "bundling", True, "bundled-guidance"),
        ("CO", "197", [], {"kind": "drug"}, "authorization", True, "auth-absent-drug"),
        ("PR", "204", [], {"kind": "drug"}, "non_covered", True, "not-covered-drug-benefit"),
        ("CO", "96", ["N426"], {"kind": "drug"}, "non_covered", True, "carc-96+rarc-N426"),
    ],
)
def test_rules(group, carc, rarcs, ctx, cause, denial, rule) -> None:
    c = classify(group, carc, rarcs, **ctx)
    assert (c.root_cause, c.denial, c.rule) == (cause, denial, rule)


def test_unknown_code_is_other_with_a_warning_never_skipped() -> None:
    text = (
        "ST*835*1~BPR*I*0*C*NON************20250110~TRN*1*T*1~LX*1~"
        "CLP*E1*1*100*0**12*ICN~SVC*HC:99213*100*0**1~CAS*CO*Z99*60*CO*45*40~LQ*HE*N999~SE*9*1~"
    )
    (claim,), _, _ = read_remit(text.encode(), name="t.835")
    classifier = Classifier(DENIALS)
    cc = classifier.classify_claim(claim)
    classifier.classify_claim(claim)  # seen twice: still one warning, with its count
    adjs = cc.lines[0].adjustments
    assert [(a.adjustment.carc, a.classification.root_cause) for a in adjs] == [
        ("Z99", "other"),
        ("45", "contractual"),
    ]
    assert adjs[0].classification.denial is True and not adjs[0].classification.known
    warnings = classifier.take_unknown()
    codes = {p.code: p for p in warnings}
    assert len(warnings) == 2 and classifier.take_unknown() == []
    assert codes["carc_unknown"].severity == "warning"
    assert "2 times" in codes["carc_unknown"].message
    assert codes["carc_unknown"].where.segment_index == 7  # ST=1 … CAS=7
    assert "CO-Z99" in codes["carc_unknown"].message
    assert "rarc_unknown" in codes


def test_map_mistakes_are_named() -> None:
    problems = Problems()
    parse_denials(
        {
            "code": [
                {
                    "kind": "CARC",
                    "code": "16",
                    "description": "d",
                    "root_cause": "nope",
                    "denial": True,
                    "fix": "f",
                    "source": "s",
                },
                {
                    "kind": "CARC",
                    "code": "45",
                    "description": "d",
                    "root_cause": "contractual",
                    "fix": "f",
                    "source": "s",
                },
            ],
            "rule": [
                {
                    "id": "r1",
                    "carc": "99",
                    "root_cause": "other",
                    "denial": True,
                    "fix": "f",
                    "source": "s",
                    "line_kind": ["drug"],
                },
            ],
            "procedure_kind": [{"pattern": "([", "kind": "drug", "source": "s"}],
        },
        problems,
    )
    text = "\n".join(problems)
    assert "code CARC 16: field root_cause: must be one of" in text
    assert "code CARC 45: field denial: is required for a CARC" in text
    assert "rule r1: field line_kind: unknown field" in text
    assert "procedure_kind 1: field pattern: is not a regular expression" in text
