"""TR3 validation of X12 files with pyx12, in-process, plus the semantic checks pyx12 lacks.

``validate_x12(source)`` returns a ``ValidationResult`` whose ``errors`` each name the segment
ordinal in the file, the segment id, the loop id and, in an 837P, the claim (CLM01) they belong
to. How it works:

1. Our reader tokenizes the file (any line endings, BOM, unpadded ISA…) and the segments are fed
   to pyx12 re-rendered one per line with a fixed-width ISA, so pyx12's line numbers are our
   segment ordinals and pyx12 never stops on a layout it does not know. 005010X222A2 files are
   fed with GS08/ST03 read as 005010X222A1 (pyx12 has no X222A2 map; the loops are the same) and
   the result says so in ``notes``.
2. pyx12's error tree (its JSON output) becomes ``ValidationIssue`` values, coded with the 999/TA1
   code they carry (``IK304-8``, ``IK403-7``, ``IK502-4``…). Values that could be patient data
   (free-text elements, segment text) are removed from its messages; codes, numbers and dates
   stay.
3. A second pass walks the TR3 loops (``x12.tr3``) and runs the checks pyx12 does not make:
   CLM02 equals the sum of the SV102 charges; every SV107 diagnosis pointer names an HI entry;
   dates (DTP, DMG birth date, BHT04) are real and not after ``today`` (except the prospective
   ones: return to work, disability periods); NPIs (NM1*…*XX) pass the Luhn check; ICD-10-CM
   codes (HI ABK/ABF) have a valid shape; every HL02 names an earlier HL01.

A crash inside pyx12 on a hostile file becomes one issue; the semantic pass still reports every
claim (``claims`` lists each CLM01 with its error count), so one bad claim never sinks the file.

``validate_many(paths, processes=N)`` runs files in N worker processes (results in input order);
the build stage uses it for large batches. This module is an edge: the clock is read only when
``today`` is not given.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from itertools import chain
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import structlog

from edi_pipeline.codes import icd10_is_well_formed, npi_is_valid
from edi_pipeline.errors import X12Error
from edi_pipeline.models import Problem
from edi_pipeline.x12.reader import Segment, X12Reader
from edi_pipeline.x12.tr3 import LoopPath, data_type, loop_id, walk_file
from edi_pipeline.x12.writer import ISA_WIDTHS

log = structlog.get_logger()

Source = str | os.PathLike[str] | bytes

# Guides pyx12 has no map for, validated with the map of a guide with the same loops.
READ_AS = {"005010X222A2": "005010X222A1"}
# DTP qualifiers whose date may lie ahead (837P TR3: authorized return to work, disability).
PROSPECTIVE_DATES = frozenset({"296", "314", "360", "361"})
# DTP qualifiers whose value may be echoed in a message: dates of service are not patient data
# in the sense of the style guide; onset, LMP and the like are.
SHOWN_DATES = frozenset({"472", "573"})
# HI qualifiers that carry the claim's diagnoses (ICD-10-CM: ABK principal, ABF other;
# ICD-9-CM: BK, BF), the entries SV107 pointers count through.
DIAGNOSIS_QUALIFIERS = frozenset({"ABK", "ABF", "BK", "BF"})
ICD10_QUALIFIERS = frozenset({"ABK", "ABF"})
# External code lists that go stale in pyx12 (pyx12.md): excluded when reading 835s.
EXCLUDE_EXTERNAL = {"835": "remark_code"}
# X12 data types whose values are codes, numbers, dates or times: safe to show in a message.
_SHOWABLE_TYPES = frozenset({"ID", "DT", "TM", "R", "N", "N0", "N1", "N2", "N3", "N4", "N6"})


@dataclass(frozen=True, slots=True)
class ValidationIssue:
    """One validation finding, located in the file."""

    segment_index: int | None  # 1-based ordinal of the segment in the file
    segment_id: str | None
    loop: str | None  # TR3 loop id (2300, 2400, 2010AA…); None at transaction level
    element: str | None  # CLM02, SV107-01…
    claim_id: str | None  # CLM01 of the claim the segment belongs to (837P)
    message: str
    code: str
    severity: str = "error"  # "error" or "warning"
    source: str = "pyx12"  # pyx12, semantic, reader, envelope

    def as_dict(self) -> dict[str, Any]:
        return {
            "segment_index": self.segment_index,
            "segment_id": self.segment_id,
            "loop": self.loop,
            "element": self.element,
            "claim_id": self.claim_id,
            "message": self.message,
            "code": self.code,
            "severity": self.severity,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class ClaimStatus:
    """Every claim (CLM) seen, with how many errors point into it."""

    claim_id: str
    segment_index: int
    st02: str | None
    errors: int


@dataclass(frozen=True, slots=True)
class ValidationResult:
    file: str
    issues: tuple[ValidationIssue, ...]
    guides: tuple[str, ...] = ()  # guides declared by the file's transactions
    notes: tuple[str, ...] = ()  # how it was validated (e.g. X222A2 read as X222A1)
    claims: tuple[ClaimStatus, ...] = ()
    pyx12_ran: bool = True
    readable: bool = True  # False: the file could not be tokenized at all

    @property
    def errors(self) -> tuple[ValidationIssue, ...]:
        return tuple(i for i in self.issues if i.severity == "error")

    @property
    def warnings(self) -> tuple[ValidationIssue, ...]:
        return tuple(i for i in self.issues if i.severity != "error")

    @property
    def valid(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "readable": self.readable,
            "valid": self.valid,
            "guides": list(self.guides),
            "notes": list(self.notes),
            "claims": [
                {
                    "claim_id": c.claim_id,
                    "segment_index": c.segment_index,
                    "st02": c.st02,
                    "errors": c.errors,
                }
                for c in self.claims
            ],
            "errors": [i.as_dict() for i in self.errors],
            "warnings": [i.as_dict() for i in self.warnings],
        }


# --------------------------------------------------------------------------- input


def _reader(source: Source, name: str | None) -> X12Reader:
    if isinstance(source, bytes | bytearray):
        return X12Reader(bytes(source), name=name or "<bytes>")
    return X12Reader(source, name=name or str(source))


class _Pyx12Feed(io.TextIOBase):
    """Our segments as text, one per line, ISA at fixed width: what pyx12's reader expects.

    Read lazily, so pyx12 streams the file as it would a real one.
    """

    def __init__(self, segments: Iterator[Segment], notes: list[str]) -> None:
        super().__init__()
        self._segments = segments
        self._buffer = ""
        self._notes = notes

    def readable(self) -> bool:
        return True

    def _line(self, seg: Segment) -> str:
        d = seg.delimiters
        elements = list(seg.elements)
        if seg.tag == "ISA":
            elements = [
                value.ljust(width) if i not in (10, 15) else value
                for i, (value, width) in enumerate(zip(elements, ISA_WIDTHS, strict=False))
            ]
        elif seg.tag == "GS" and len(elements) > 7 and elements[7] in READ_AS:
            self._note(elements[7])
            elements[7] = READ_AS[elements[7]]
        elif seg.tag == "ST" and len(elements) > 2 and elements[2] in READ_AS:
            self._note(elements[2])
            elements[2] = READ_AS[elements[2]]
        return d.element.join([seg.tag, *elements]) + d.segment + "\n"

    def _note(self, guide: str) -> None:
        note = (
            f"{guide} validated with pyx12's {READ_AS[guide]} map "
            f"(pyx12 has no {guide} map; the loops are the same)"
        )
        if note not in self._notes:
            self._notes.append(note)

    def read(self, size: int | None = -1) -> str:
        want = size if size is not None and size >= 0 else None
        parts = [self._buffer]
        have = len(self._buffer)
        while want is None or have < want:
            seg = next(self._segments, None)
            if seg is None:
                break
            line = self._line(seg)
            parts.append(line)
            have += len(line)
        text = "".join(parts)
        if want is None:
            self._buffer = ""
            return text
        self._buffer = text[want:]
        return text[:want]


# --------------------------------------------------------------------------- pyx12


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


_SEGMENT_TEXT = re.compile(r"Segment (\S+?)\W.*? not found")
_LOGGED = re.compile(
    r"^(?:No current segment in error_handler\. )?Line:(\d+) (ISA|GS|ST|SEG|ELE):(\S+) - (.*)$",
    re.DOTALL,
)
# A parenthesised value in a logged message (not an element reference like (GS05) or (max_len)).
_LOGGED_VALUE = re.compile(r"\((?![A-Z0-9]{2,3}\d\d(?:-\d\d)?\)|max_len\)|min_len\))[^()]*\)")
_QUOTED_LENGTH = re.compile(r'len\("[^"]*"\)')
_ENVELOPE_TAGS = frozenset({"ISA", "IEA", "GS", "GE", "ST", "SE", "TA1"})


_SEGMENT_NOT_FOUND = re.compile(r"^Segment .*? not found")


def _redact_logged(message: str) -> str:
    """A message known only from pyx12's log: no data type to go by, so drop every value."""
    return _LOGGED_VALUE.sub("(…)", _QUOTED_LENGTH.sub("length", message))


def _redact(message: str, value: str | None, ref_num: str | None) -> str:
    """pyx12's message without values that could be patient data."""
    message = _SEGMENT_TEXT.sub(lambda m: f"Segment {m.group(1)} not found", message)
    message = re.sub(r'Segment "[^"]*" is empty', "Segment is empty", message)
    if value and data_type(ref_num or "") not in _SHOWABLE_TYPES:
        message = message.replace(value, "…")
    return message


def _code(level: str, cde: str) -> str:
    prefix = {"isa": "TA105", "gs": "AK905", "st": "IK502", "seg": "IK304", "ele": "IK403"}[level]
    return f"{prefix}-{cde}" if cde.isdigit() else f"pyx12-{cde}"


@dataclass(slots=True)
class _Raw:
    """A pyx12 finding before it is located in a loop and claim."""

    index: int | None  # pyx12's line: our segment ordinal (we feed one segment per line)
    segment_id: str | None
    element: str | None
    message: str
    code: str
    logged_only: bool = False  # known only from pyx12's log (values not yet redacted)


def _pyx12_findings(tree: dict[str, Any]) -> tuple[list[_Raw], set[tuple[str, str]]]:
    """Findings from pyx12's JSON error tree, and (code, raw text) pairs to de-duplicate logs."""
    found: list[_Raw] = []
    seen: set[tuple[str, str]] = set()

    def add(level: str, line: Any, seg_id: str | None, element: str | None, err: dict[str, Any],
            ref_num: str | None = None) -> None:  # fmt: skip
        cde, text = str(err.get("err_cde")), str(err.get("err_str") or "")
        seen.add((cde, text))
        message = _redact(text, err.get("err_val"), ref_num)
        found.append(_Raw(line, seg_id, element, message, _code(level, cde)))

    for isa in tree.get("interchanges", []):
        for err in isa.get("errors", []):
            add("isa", isa.get("cur_line"), "IEA", None, err)
        for gs in isa.get("groups", []):
            for err in gs.get("errors", []):
                add("gs", gs.get("cur_line"), "GE", None, err)
            for st in gs.get("transactions", []):
                for err in st.get("errors", []):
                    add("st", st.get("cur_line"), "SE", None, err)
                for sg in st.get("segments", []):
                    seg_id, line = sg.get("seg_id"), sg.get("cur_line")
                    for err in sg.get("errors", []):
                        add("seg", line, seg_id, None, err)
                    for ele in sg.get("elements", []):
                        ref = f"{seg_id}{int(ele.get('ele_pos') or 0):02d}"
                        if ele.get("subele_pos"):
                            ref += f"-{int(ele['subele_pos']):02d}"
                        for err in ele.get("errors", []):
                            add("ele", line, seg_id, ref, err, ele.get("ele_ref_num"))
    return found, seen


def _logged_findings(messages: list[str], seen: set[tuple[str, str]], label: str) -> list[_Raw]:
    """Errors pyx12 only logged (ISA/GS element errors, file-level failures)."""
    found: list[_Raw] = []
    for message in messages:
        m = _LOGGED.match(message)
        if m is None:
            text = re.sub(r'^"[^"]*" does not look', f"{label} does not look", message)
            if "does not look like an X12" in text:
                text += " to pyx12 (it needs a 106-character ISA, version 00401 or 00501)"
            found.append(_Raw(None, None, None, text, "pyx12", logged_only=True))
            continue
        line, level, cde, text = int(m.group(1)), m.group(2).lower(), m.group(3), m.group(4)
        if any(c == cde and text.startswith(t) for c, t in seen if t):
            continue
        found.append(_Raw(line, None, None, _redact(text, None, None), _code(level, cde), True))
    return found


#: pyx12 maps already built in this process, by (map file, map path, excluded code lists)
_MAPS: dict[tuple[str, str | None, str | None], Any] = {}


def _cached_map_loader(load: Any) -> Any:
    """pyx12's ``load_map_file`` with each map built once per process.

    pyx12 parses its XML maps again for every file it validates: about 0.23 s of the 0.24 s a
    one-claim interchange takes. The map tree is read-only during validation (pyx12 4 keeps the
    loop and segment counts in its walker, not in the map), so one tree serves every file that
    uses the same map and the same parameters; the parameters a map reads at load time are the
    excluded external code lists (and the default charset, which we never change).
    """

    def load_cached(map_file: str, param: Any, map_path: str | None = None) -> Any:
        key = (map_file, map_path, param.get("exclude_external_codes"))
        tree = _MAPS.get(key)
        if tree is None:
            tree = _MAPS[key] = load(map_file, param, map_path)
        return tree

    return load_cached


def _run_pyx12(feed: _Pyx12Feed, exclude: str | None, label: str) -> tuple[list[_Raw], str | None]:
    """pyx12's findings (tree and log), and a description of its crash if it crashed.

    pyx12 is run with its map loader swapped for the caching one for the length of the call
    (pyx12 looks ``pyx12.map_if.load_map_file`` up at each use) and restored after.
    """
    import pyx12.errors
    import pyx12.map_if
    import pyx12.params
    import pyx12.x12n_document

    logger = logging.getLogger("pyx12")
    handler = _Collect()
    saved = (logger.handlers[:], logger.propagate, logger.level)
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.ERROR)
    fd_json = io.StringIO()
    crash = None
    load_map_file = pyx12.map_if.load_map_file
    pyx12.map_if.load_map_file = _cached_map_loader(load_map_file)
    try:
        param = pyx12.params.params()
        if exclude:
            param.set("exclude_external_codes", exclude)
        pyx12.x12n_document.x12n_document(
            param=param, src_file=feed, fd_997=None, fd_html=None, fd_xmldoc=None,
            fd_json=fd_json,
        )  # fmt: skip
    except X12Error:
        raise
    except pyx12.errors.EngineError as exc:
        crash = f"pyx12 could not validate: {exc}"
    except Exception as exc:  # pyx12 crashes on some hostile files (IndexError…): report, go on
        crash = f"pyx12 failed on this file ({type(exc).__name__}); TR3 validation incomplete"
    finally:
        pyx12.map_if.load_map_file = load_map_file
        logger.handlers, logger.propagate = saved[0], saved[1]
        logger.setLevel(saved[2])
    text = fd_json.getvalue()
    findings, seen = _pyx12_findings(json.loads(text)) if text.strip() else ([], set())
    findings += _logged_findings(handler.messages, seen, label)
    return findings, crash


# --------------------------------------------------------------------------- semantic checks


def _d8(text: str) -> date | None:
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def _money(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


@dataclass(slots=True)
class _Claim:
    claim_id: str
    seg: Segment
    path: LoopPath
    st02: str | None
    charge: Decimal | None
    diagnoses: list[str] = field(default_factory=list)
    lines: Decimal = Decimal(0)
    lines_ok: bool = True
    pointers: list[tuple[Segment, LoopPath, str]] = field(default_factory=list)
    service_lines: int = 0


class _Semantic:
    """The checks pyx12 does not make, over one streaming pass of the file."""

    def __init__(self, today: date) -> None:
        self.today = today
        self.issues: list[ValidationIssue] = []
        self.claims: list[ClaimStatus] = []
        self.spans: list[tuple[int, int, str, str | None]] = []  # first, last index, CLM01, ST02
        self.claim: _Claim | None = None
        self.hl_ids: set[str] = set()
        self.is_837 = False

    def issue(
        self, seg: Segment, path: LoopPath, code: str, message: str, element: str | None = None
    ) -> None:
        self.issues.append(
            ValidationIssue(
                segment_index=seg.index,
                segment_id=seg.tag,
                loop=loop_id(path) or None,
                element=element,
                claim_id=self.claim.claim_id if self.claim else None,
                message=message,
                code=code,
                source="semantic",
            )
        )

    def close_claim(self, last_index: int) -> None:
        claim = self.claim
        if claim is None:
            return
        totals_known = claim.charge is not None and claim.lines_ok and claim.service_lines
        if totals_known and claim.lines != claim.charge:
            self.issue(
                claim.seg,
                claim.path,
                "clm02_not_line_total",
                f"CLM02 {claim.charge} does not equal the sum of the SV102 line charges "
                f"{claim.lines} (claim {claim.claim_id})",
                "CLM02",
            )
        count = len(claim.diagnoses)
        for seg, path, pointer in claim.pointers:
            if not pointer.isdigit() or not 1 <= int(pointer) <= count:
                self.issue(
                    seg,
                    path,
                    "diagnosis_pointer_unresolved",
                    f"SV107 diagnosis pointer {pointer!r} names no HI diagnosis "
                    f"(the claim has {count})",
                    "SV107",
                )
        self.spans.append((claim.seg.index, last_index, claim.claim_id, claim.st02))
        self.claim = None

    def step(self, st01: str | None, st02: str | None, path: LoopPath, seg: Segment) -> None:
        tag = seg.tag
        if tag == "ST":
            self.close_claim(seg.index - 1)
            self.hl_ids = set()
            self.is_837 = st01 == "837"
            return
        if tag in ("SE", "GE", "IEA"):
            self.close_claim(seg.index - 1 if tag == "SE" else seg.index)
            return
        if tag == "HL":
            self.close_claim(seg.index - 1)
            self._hl(seg, path)
        elif tag == "CLM" and self.is_837:
            self.close_claim(seg.index - 1)
            self.claim = _Claim(
                claim_id=seg.get(1),
                seg=seg,
                path=path,
                st02=st02,
                charge=_money(seg.get(2)),
            )
            if self.claim.charge is None:
                self.issue(seg, path, "clm02_not_amount", "CLM02 is not an amount", "CLM02")
        elif tag == "HI" and self.claim is not None:
            self._hi(seg, path)
        elif tag == "SV1" and self.claim is not None:
            self._sv1(seg, path)
        elif tag == "DTP":
            self._dtp(seg, path)
        elif tag == "DMG" and seg.get(1) == "D8":
            self._date(seg, path, seg.get(2), "DMG02", "birth date", future_ok=False, show=False)
        elif tag == "BHT":
            self._date(seg, path, seg.get(4), "BHT04", "creation date", future_ok=False)
        elif tag == "NM1" and seg.get(8) == "XX":
            npi = seg.get(9)
            if not npi_is_valid(npi):
                self.issue(
                    seg,
                    path,
                    "npi_check_digit",
                    f"NM109 NPI {npi!r} fails the NPI check digit (Luhn over 80840 + NPI)",
                    "NM109",
                )

    def _hl(self, seg: Segment, path: LoopPath) -> None:
        own, parent = seg.get(1), seg.get(2)
        if parent and parent not in self.hl_ids:
            self.issue(
                seg,
                path,
                "hl_parent_unresolved",
                f"HL02 parent id {parent!r} names no earlier HL01 (HL01 {own!r})",
                "HL02",
            )
        if not own:
            self.issue(seg, path, "hl_id_missing", "HL01 (hierarchical id) is empty", "HL01")
        elif own in self.hl_ids:
            self.issue(seg, path, "hl_id_repeated", f"HL01 {own!r} is used twice", "HL01")
        self.hl_ids.add(own)

    def _hi(self, seg: Segment, path: LoopPath) -> None:
        claim = self.claim
        assert claim is not None
        for n in range(1, len(seg.elements) + 1):
            parts = seg.components(n)
            if len(parts) < 2 or parts[0] not in DIAGNOSIS_QUALIFIERS:
                continue
            claim.diagnoses.append(parts[1])
            if parts[0] in ICD10_QUALIFIERS and not icd10_is_well_formed(parts[1]):
                self.issue(
                    seg,
                    path,
                    "icd10_shape",
                    f"HI{n:02d}-02 {parts[1]!r} is not an ICD-10-CM code shape (letter, digit, "
                    "alphanumeric, up to 4 more; no decimal point in X12)",
                    f"HI{n:02d}-02",
                )
            elif parts[0] in ICD10_QUALIFIERS and "." in parts[1]:
                self.issue(
                    seg,
                    path,
                    "icd10_shape",
                    f"HI{n:02d}-02 {parts[1]!r} carries a decimal point (X12 omits it)",
                    f"HI{n:02d}-02",
                )

    def _sv1(self, seg: Segment, path: LoopPath) -> None:
        claim = self.claim
        assert claim is not None
        claim.service_lines += 1
        charge = _money(seg.get(2))
        if charge is None:
            claim.lines_ok = False
            self.issue(seg, path, "sv102_not_amount", "SV102 is not an amount", "SV102")
        else:
            claim.lines += charge
        for pointer in seg.components(7):
            if pointer:
                claim.pointers.append((seg, path, pointer))

    def _dtp(self, seg: Segment, path: LoopPath) -> None:
        qualifier, fmt, value = seg.get(1), seg.get(2), seg.get(3)
        future_ok = qualifier in PROSPECTIVE_DATES
        show = qualifier in SHOWN_DATES  # other dates (onset, LMP…) are clinical: not echoed
        if fmt == "D8":
            self._date(seg, path, value, "DTP03", f"date {qualifier}", future_ok, show)
        elif fmt == "RD8":
            first, _, last = value.partition("-")
            start = self._date(
                seg, path, first, "DTP03", f"start date {qualifier}", future_ok, show
            )
            end = self._date(seg, path, last, "DTP03", f"end date {qualifier}", future_ok, show)
            if start and end and end < start:
                shown = f" {value}" if show else ""
                self.issue(
                    seg, path, "date_range_reversed", f"DTP03 range{shown} ends before it starts"
                )

    def _date(
        self,
        seg: Segment,
        path: LoopPath,
        text: str,
        element: str,
        what: str,
        future_ok: bool,
        show: bool = True,
    ) -> date | None:
        shown = f" {text!r}" if show else ""
        value = _d8(text)
        if value is None:
            self.issue(
                seg, path, "date_invalid", f"{element} {what}{shown} is not a real CCYYMMDD date",
                element,
            )  # fmt: skip
            return None
        if not future_ok and value > self.today:
            self.issue(
                seg, path, "date_in_future",
                f"{element} {what}{shown} is after today ({self.today.isoformat()})", element,
            )  # fmt: skip
        return value


# --------------------------------------------------------------------------- entry points


def _issue_from_problem(problem: Problem, source: str) -> ValidationIssue:
    w = problem.where
    return ValidationIssue(
        segment_index=w.segment_index,
        segment_id=w.segment_id,
        loop=w.loop,
        element=w.element,
        claim_id=w.claim_id,
        message=problem.message,
        code=problem.code,
        severity=problem.severity,
        source=source,
    )


def validate_x12(
    source: Source,
    *,
    name: str | None = None,
    today: date | None = None,
) -> ValidationResult:
    """Validate one X12 file (a path, or its bytes) with pyx12 and the semantic checks.

    A file that cannot be tokenized at all gives a result with an ``unreadable`` error rather
    than an exception, so a batch goes on.
    """
    today = today or date.today()
    label = name or ("<bytes>" if isinstance(source, bytes | bytearray) else str(source))
    notes: list[str] = []

    # Pass 1: pyx12, fed our normalised segments.
    first = _reader(source, label)
    segments = iter(first)
    prefix: list[Segment] = []
    try:
        for seg in segments:
            prefix.append(seg)
            if seg.tag == "ST" or len(prefix) > 8:
                break
    except X12Error as exc:
        return ValidationResult(label, (_unreadable(exc),), pyx12_ran=False, readable=False)
    head = prefix[0] if prefix else None
    pyx12_ran = head is not None and head.tag == "ISA"
    st01 = next((s.get(1) for s in prefix if s.tag == "ST"), None)
    findings: list[_Raw] = []
    crash: str | None = None
    if pyx12_ran:
        feed = _Pyx12Feed(chain(prefix, segments), notes)
        try:
            findings, crash = _run_pyx12(feed, EXCLUDE_EXTERNAL.get(st01 or ""), label)
        except X12Error:
            crash = "the file stops being readable part way; pyx12 validated what came before"
    del prefix, segments

    # Pass 2: our reader again, loops, envelopes and the semantic checks.
    second = _reader(source, label)
    semantic = _Semantic(today)
    envelope_problems: list[Problem] = []
    by_index: dict[int, list[_Raw]] = {}
    for raw in findings:
        by_index.setdefault(raw.index or 0, []).append(raw)
    issues: list[ValidationIssue] = []
    guides: list[str] = []
    last = 0
    try:
        for ctx, path, seg in walk_file(second, file=label, problems=envelope_problems):
            last = seg.index
            if seg.tag == "ST" and ctx.guide and ctx.guide not in guides:
                guides.append(ctx.guide)
            semantic.step(ctx.st01, ctx.st02, path, seg)
            for raw in by_index.pop(seg.index, ()):
                claim = semantic.claim.claim_id if semantic.claim else None
                if raw.message.startswith('Segment identifier "'):
                    continue  # pyx12 puts this one a segment late; our reader reports it in place
                message = _SEGMENT_NOT_FOUND.sub(
                    f"Segment {seg.tag or '(no id)'} not found", raw.message
                )
                if raw.logged_only and seg.tag not in _ENVELOPE_TAGS:
                    message = _redact_logged(message)
                issues.append(
                    ValidationIssue(
                        seg.index, raw.segment_id or seg.tag, loop_id(path) or None, raw.element,
                        claim, message, raw.code,
                    )
                )  # fmt: skip
    except X12Error as exc:
        issues.append(_unreadable(exc))
    semantic.close_claim(last)
    for raws in by_index.values():  # findings on no segment we read (file-level)
        for raw in raws:
            message = _redact_logged(raw.message) if raw.logged_only else raw.message
            issues.append(
                ValidationIssue(
                    raw.index, raw.segment_id, None, raw.element, None, message, raw.code
                )
            )

    issues += [_issue_from_problem(p, "reader") for p in second.problems]
    if not pyx12_ran:
        issues.append(
            ValidationIssue(
                1, head.tag if head else None, None, None, None,
                "the file has no ISA interchange header, so pyx12 cannot validate it against "
                "its TR3; only the envelope and semantic checks ran",
                "no_isa", source="reader",
            )
        )  # fmt: skip
        # pyx12 checks envelopes itself; when it could not run, ours stand in.
        issues += [_issue_from_problem(p, "envelope") for p in envelope_problems]
    if crash:
        issues.append(ValidationIssue(None, None, None, None, None, crash, "pyx12_failed"))
    issues += semantic.issues
    issues.sort(key=lambda i: (i.segment_index is None, i.segment_index or 0))

    errors_by_claim: dict[tuple[int, str], int] = {}
    spans = semantic.spans
    for issue in issues:
        if issue.severity != "error" or issue.segment_index is None:
            continue
        for first_index, last_index, cid, _st02 in spans:
            if first_index <= issue.segment_index <= last_index:
                key = (first_index, cid)
                errors_by_claim[key] = errors_by_claim.get(key, 0) + 1
                break
    claims = tuple(
        ClaimStatus(cid, first_index, st02, errors_by_claim.get((first_index, cid), 0))
        for first_index, _, cid, st02 in spans
    )
    result = ValidationResult(
        label, tuple(issues), tuple(guides), tuple(notes), claims, pyx12_ran=pyx12_ran
    )
    log.info(
        "validate.file_checked",
        file=label,
        valid=result.valid,
        errors=len(result.errors),
        claims=len(claims),
    )
    return result


def _unreadable(exc: X12Error) -> ValidationIssue:
    w = exc.where
    return ValidationIssue(
        w.segment_index, w.segment_id, None, None, None, exc.message, "unreadable",
        source="reader",
    )  # fmt: skip


def _validate_one(args: tuple[str, date | None]) -> ValidationResult:
    path, today = args
    return validate_x12(path, today=today)


def validate_many(
    paths: Sequence[str | os.PathLike[str]] | Iterable[str | os.PathLike[str]],
    *,
    processes: int = 1,
    today: date | None = None,
) -> list[ValidationResult]:
    """Validate many files, in ``processes`` worker processes; results in input order."""
    items = [(str(Path(p)), today) for p in paths]
    if processes <= 1 or len(items) <= 1:
        return [_validate_one(item) for item in items]
    workers = min(processes, len(items))
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        return list(pool.map(_validate_one, items))
