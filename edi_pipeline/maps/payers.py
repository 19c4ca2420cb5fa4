"""``maps/payers/<key>.toml``: each payer's identity and coding conventions.

The top-level keys are the conventions coding applies (JZ from which date, JW lines, bilateral
as modifier 50 or RT/LT lines, which codes take RT/LT, complex administration, NDC required…),
each with its source in the ``[sources]`` table: a flag whose source says VERIFY is the
documented default of ``shared/domain/coding``, kept as data so a billing lead can change it.

The same files carry the payer's policy rules as ``[[rule]]`` tables; those are checked by the
scrub stage's own table (``payer_rules``), so this loader accepts the ``rule`` key and ignores it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from importlib.resources.abc import Traversable
from types import MappingProxyType
from typing import Literal

from edi_pipeline.maps import table
from edi_pipeline.maps._tables import Table
from edi_pipeline.maps.schema import Field, Problems, check_row, read_toml

Bilateral = Literal["modifier_50", "rt_lt"]

# X12 005010X222A1 SBR09 claim filing indicator codes
CLAIM_FILING_INDICATORS = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "16",
        "17",
        "AM",
        "BL",
        "CH",
        "CI",
        "DS",
        "FI",
        "HM",
        "LM",
        "MA",
        "MB",
        "MC",
        "OF",
        "TV",
        "VA",
        "WC",
        "ZZ",
    ]
)


@dataclass(frozen=True, slots=True)
class PayerConfig:
    key: str  # the file name; what an encounter's coverage.payer_id names
    name: str
    payer_id: str  # NM1*PR identifier (2010BB NM109)
    claim_filing_indicator: str  # SBR09
    require_jz_from: date | None  # JZ on no-waste single-dose drug lines for DOS on/after
    jw_required: bool  # bill the discarded amount on a JW line
    bilateral: Bilateral  # one line with 50, or two lines RT and LT
    laterality_codes: tuple[str, ...]  # procedure codes that take RT/LT (and 50)
    drug_laterality: bool  # RT/LT also on the drug injected into a joint
    complex_administration: bool  # 96413/96415/96417 for complex-eligible drugs
    ndc_required: bool  # a drug line without a usable NDC cannot be billed
    split_lines_by_ndc: bool  # one line per NDC when vials of several packages were opened
    drop_99211_with_administration: bool  # 99211 is not billed with drug administration
    distinct_site_modifier: Literal["XS", "59"]  # on a second joint procedure of the session
    timely_filing_days: int | None
    source: str
    sources: Mapping[str, str]  # flag -> where its value comes from

    def jz_required_on(self, day: date) -> bool:
        return self.require_jz_from is not None and day >= self.require_jz_from


_FLAGS = (
    Field("payer_id", pattern=r"[A-Za-z0-9]{2,80}"),
    Field("claim_filing_indicator", choices=CLAIM_FILING_INDICATORS),
    Field("require_jz_from", "date", required=False),
    Field("jw_required", "bool"),
    Field("bilateral", choices=frozenset({"modifier_50", "rt_lt"})),
    Field("laterality_codes", "list"),
    Field("drug_laterality", "bool"),
    Field("complex_administration", "bool"),
    Field("ndc_required", "bool"),
    Field("split_lines_by_ndc", "bool"),
    Field("drop_99211_with_administration", "bool"),
    Field("distinct_site_modifier", choices=frozenset({"XS", "59"})),
    Field("timely_filing_days", "int", required=False),
)
_FIELDS = (
    Field("key", pattern=r"[a-z][a-z0-9_]*"),
    Field("name"),
    *_FLAGS,
    Field("source"),
    Field("sources", "table"),
    Field("rule", "any", required=False),  # validated by maps/payer_rules.py
)
FLAG_NAMES = tuple(f.name for f in _FLAGS)


def _load_one(root: Traversable, name: str, problems: Problems) -> PayerConfig | None:
    file = f"payers/{name}"
    raw = read_toml(root, file, problems)
    if raw is None:
        return None
    row = check_row(raw, _FIELDS, problems, file=file, scope="top level")
    if row is None:
        return None
    ok = True
    stem = name.removesuffix(".toml")
    if row["key"] != stem:
        problems.add(
            file, "top level", "key", f"must equal the file name {stem!r} (got {row['key']!r})"
        )
        ok = False
    for code in row["laterality_codes"]:
        if not isinstance(code, str) or len(code) != 5 or not code.isalnum():
            problems.add(
                file,
                "top level",
                "laterality_codes",
                f"each must be a 5-character code (got {code!r})",
            )
            ok = False
    days = row["timely_filing_days"]
    if days is not None and days <= 0:
        problems.add(file, "top level", "timely_filing_days", f"must be > 0 (got {days})")
        ok = False
    sources = row["sources"]
    for key, text in sources.items():
        if key not in FLAG_NAMES:
            problems.add(
                file, "sources", key, "is not a payer flag (a misspelt name would be ignored)"
            )
            ok = False
        elif not isinstance(text, str) or not text.strip():
            problems.add(
                file, "sources", key, "must be a non-empty text naming where the value comes from"
            )
            ok = False
    for flag in FLAG_NAMES:
        if flag not in sources:
            problems.add(file, "sources", flag, "is required: every flag carries its source")
            ok = False
    if not ok:
        return None
    return PayerConfig(
        key=row["key"],
        name=row["name"],
        payer_id=row["payer_id"],
        claim_filing_indicator=row["claim_filing_indicator"],
        require_jz_from=row["require_jz_from"],
        jw_required=row["jw_required"],
        bilateral=row["bilateral"],
        laterality_codes=tuple(row["laterality_codes"]),
        drug_laterality=row["drug_laterality"],
        complex_administration=row["complex_administration"],
        ndc_required=row["ndc_required"],
        split_lines_by_ndc=row["split_lines_by_ndc"],
        drop_99211_with_administration=row["drop_99211_with_administration"],
        distinct_site_modifier=row["distinct_site_modifier"],
        timely_filing_days=days,
        source=row["source"],
        sources=MappingProxyType({k: v.strip() for k, v in sources.items()}),
    )


@table("payers")
def load(root: Traversable, problems: Problems) -> Table[PayerConfig]:
    folder = root / "payers"
    if not folder.is_dir():
        problems.add("payers", "folder", None, "is missing")
        return Table("payers", {})
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".toml"))
    if not names:
        problems.add("payers", "folder", None, "holds no <key>.toml file")
    payers: dict[str, PayerConfig] = {}
    for name in names:
        config = _load_one(root, name, problems)
        if config is not None:
            payers[config.key] = config
    return Table("payers", payers)
