"""Acknowledgments made from OUR OWN 837 output, for the tie-back tests.

* ``pyx12_999(text)``: the 999 (and TA1) pyx12 itself writes for an 837: a real acknowledgment
  from an independent implementation, with IK3 positions it computed.
* ``make_999(...)`` and ``make_277ca(...)``: hand-written acknowledgments whose verdicts the test
  chooses (a rejected claim, a rejected segment, a payer rejection of one line), echoing the
  control numbers, CLM01s and REF*6Rs read back from the 837 text.
* ``index_837(text)``: an independent index of an 837 (per ST: each claim's 2000B HL to its last
  line, each line's LX to its last segment), to check the ledger's ranges and to place
  segments in a deliberately broken copy.
* ``ListLookup``: ``SentLookup`` over a list of ``SentClaim`` (the pure tie-back's input).
"""

from __future__ import annotations

import io
import logging
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pyx12.params
import pyx12.x12n_document

from edi_pipeline.acks.tieback import SentClaim, SentLine
from edi_pipeline.x12.reader import Delimiters, Segment, read_segments
from edi_pipeline.x12.writer import SegmentSpec, X12Writer, envelope, seg

WRITER = X12Writer(Delimiters("*", ":", "^", "~"), "\n")


# ------------------------------------------------------------------ our 837, read back


@dataclass(frozen=True)
class Line837:
    number: int
    control: str
    procedure: str
    first: int
    last: int


@dataclass(frozen=True)
class Claim837:
    encounter_id: str
    st02: str
    first: int  # 2000B HL
    clm: int
    last: int
    lines: tuple[Line837, ...]


@dataclass(frozen=True)
class Index837:
    isa13: str
    sender: str
    receiver: str
    gs06: str
    st02s: tuple[str, ...]
    claims: tuple[Claim837, ...]

    def claim(self, encounter_id: str) -> Claim837:
        return next(c for c in self.claims if c.encounter_id == encounter_id)


def segments(text: str) -> list[Segment]:
    return read_segments(text.encode("latin-1"))


def index_837(text: str) -> Index837:
    isa13 = sender = receiver = gs06 = ""
    st02s: list[str] = []
    claims: list[Claim837] = []
    st02 = ""
    pos = 0
    hl_first = 0
    cur: dict | None = None
    lines: list[dict] = []

    def close() -> None:
        nonlocal cur, lines
        if cur is None:
            return
        done = [Line837(**ln) for ln in lines]
        claims.append(Claim837(lines=tuple(done), **cur))
        cur, lines = None, []

    for s in segments(text):
        if s.tag == "ISA":
            isa13, sender, receiver = s.get(13), s.get(6).strip(), s.get(8).strip()
        elif s.tag == "GS":
            gs06 = s.get(6)
        elif s.tag == "ST":
            st02, pos = s.get(2), 1
            st02s.append(st02)
            continue
        pos += 1
        if s.tag == "HL" and s.get(3) == "22":
            close()
            hl_first = pos
        elif s.tag == "CLM":
            close()
            cur = {"encounter_id": s.get(1), "st02": st02, "first": hl_first, "clm": pos}
            cur["last"] = pos
        elif s.tag == "LX" and cur is not None:
            lines.append({"number": int(s.get(1)), "control": "", "procedure": "", "first": pos})
        elif s.tag == "SV1" and lines:
            lines[-1]["procedure"] = ":".join(s.components(1)[1:])
        elif s.tag == "REF" and s.get(1) == "6R" and lines:
            lines[-1]["control"] = s.get(2)
        if s.tag == "SE":
            close()
            continue
        if cur is not None and s.tag not in ("HL",):
            cur["last"] = pos
            if lines:
                lines[-1]["last"] = pos
    close()
    return Index837(isa13, sender, receiver, gs06, tuple(st02s), tuple(claims))


def sent_claims(
    text: str, status: str = "sent", first_id: int = 1, latest: bool = True
) -> list[SentClaim]:
    """What the ledger would say we sent, from the 837 text itself."""
    idx = index_837(text)
    out = []
    for n, c in enumerate(idx.claims, start=first_id):
        out.append(
            SentClaim(
                claim_id=n,
                encounter_id=c.encounter_id,
                frequency="1",
                status=status,
                interchange_claim_id=n,
                isa13=idx.isa13,
                gs06=idx.gs06,
                st02=c.st02,
                first=c.first,
                last=c.last,
                lines=tuple(
                    SentLine(
                        n * 100 + ln.number, ln.number, ln.control, ln.procedure, ln.first, ln.last
                    )
                    for ln in c.lines
                ),
                latest=latest,
            )
        )
    return out


class ListLookup:
    """``SentLookup`` over plain values (the pure tie-back needs nothing more)."""

    def __init__(self, claims: Sequence[SentClaim]):
        self.claims = list(claims)

    def by_interchange(self, isa13, sender, receiver):
        return [c for c in self.claims if c.isa13 == isa13]

    def by_transaction(self, gs06, st02, sender, receiver):
        return [c for c in self.claims if c.gs06 == gs06 and (st02 is None or c.st02 == st02)]

    def by_claim(self, encounter_id):
        return [c for c in self.claims if c.encounter_id == encounter_id]

    def by_line(self, control_number):
        for c in self.claims:
            if any(li.control_number == control_number for li in c.lines):
                return c
        return None

    def with_status(self, status: str) -> ListLookup:
        return ListLookup([replace(c, status=status) for c in self.claims])


# ------------------------------------------------------------------ breaking our 837


def edit_segment(text: str, st02: str, position: int, change: Callable[[str], str | None]) -> str:
    """Replace (or, when ``change`` returns None, delete) the segment at ``position`` of ST
    ``st02``; SE01 is recounted so the only error is the one meant."""
    out: list[str] = []
    st = ""
    pos = 0
    removed = 0
    for raw in text.split("~"):
        body = raw.strip("\r\n")
        if not body:
            continue
        tag = body.split("*", 1)[0]
        if tag == "ST":
            st, pos, removed = body.split("*")[2], 0, 0
        pos += 1
        if st == st02 and pos == position:
            body = change(body)  # type: ignore[assignment]
            if body is None:
                removed = 1
                continue
        if tag == "SE" and st == st02 and removed:
            parts = body.split("*")
            parts[1] = str(int(parts[1]) - removed)
            body = "*".join(parts)
        out.append(body)
    return "~\n".join(out) + "~\n"


# ------------------------------------------------------------------ acknowledgments


def pyx12_999(text: str) -> tuple[bool, str, list[str]]:
    """(valid, the 999+TA1 pyx12 writes, its error messages) for an 837."""
    errors: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.ERROR:
                errors.append(record.getMessage())

    logger = logging.getLogger("pyx12")
    handler = Collect()
    logger.addHandler(handler)
    propagate, logger.propagate = logger.propagate, False
    try:
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / "in.837"
            src.write_text(text, encoding="latin-1")
            out = io.StringIO()
            ok = pyx12.x12n_document.x12n_document(
                param=pyx12.params.params(),
                src_file=str(src),
                fd_997=out,
                fd_html=None,
                fd_xmldoc=None,
            )
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate
    return bool(ok), out.getvalue(), errors


def _isa(sender: str, receiver: str, control: str) -> SegmentSpec:
    return seg(
        "ISA", "00", "", "00", "", "ZZ", sender, "ZZ", receiver, "250116", "1200", None, "00501",
        control, "0", "T", None,
    )  # fmt: skip


@dataclass(frozen=True)
class Tx999:
    """The verdict on one of our transaction sets: IK5 status and the IK3/IK4/CTX segments."""

    st02: str
    status: str = "A"
    errors: tuple[str, ...] = ()
    segments: tuple[SegmentSpec, ...] = ()


def make_999(
    idx: Index837, transactions: Sequence[Tx999], group_status: str, *, gs06: str | None = None
) -> str:
    """A 999 from the clearinghouse (their ISA06 = our ISA08) answering our 837."""
    body: list[SegmentSpec] = [seg("AK1", "HC", gs06 or idx.gs06, "005010X222A1")]
    for tx in transactions:
        body.append(seg("AK2", "837", tx.st02, "005010X222A1"))
        body.extend(tx.segments)
        body.append(seg("IK5", tx.status, *tx.errors))
    accepted = sum(1 for t in transactions if t.status in ("A", "E"))
    count = str(len(transactions))
    body.append(seg("AK9", group_status, count, count, str(accepted)))
    gs = seg("GS", "FA", idx.receiver, idx.sender, "20250116", "1200", "901", "X", "005010X231A1")
    specs = envelope(
        [body], isa=_isa(idx.receiver, idx.sender, "000000901"), gs=gs, st_controls=["9001"],
        st01="999",
    )  # fmt: skip
    return WRITER.render_all(specs)


def make_ta1(idx: Index837, code: str, note: str, isa13: str | None = None) -> str:
    specs = [
        _isa(idx.receiver, idx.sender, "000000902"),
        seg("TA1", isa13 or idx.isa13, "250115", "0930", code, note),
        seg("IEA", "0", "000000902"),
    ]
    return WRITER.render_all(specs)


@dataclass(frozen=True)
class Status277:
    """What the payer says about one claim: its STC triplets, REF*1K, and per-line statuses."""

    encounter_id: str
    codes: tuple[str, ...]  # "A7:562:85" → STC01, then STC10 and STC11
    payer_claim_number: str | None = None
    lines: tuple[tuple[str, str], ...] = ()  # (our REF*6R, "A7:453")
    text: str | None = None  # STC12


def _stc(codes: Sequence[str], text: str | None = None) -> SegmentSpec:
    parts = [tuple(c.split(":")) for c in codes]
    action = "U" if parts[0][0] in ("A3", "A4", "A6", "A7", "A8") else "WQ"
    extra: list[object] = [None] * 5
    tail = [parts[1] if len(parts) > 1 else None, parts[2] if len(parts) > 2 else None, text]
    return seg("STC", parts[0], "20250117", action, "100", *extra, *tail)  # type: ignore[arg-type]


def make_277ca(idx: Index837, statuses: Sequence[Status277]) -> str:
    body: list[SegmentSpec] = [
        seg("BHT", "0085", "08", "CA0001", "20250117", "1200", "TH"),
        seg("HL", "1", None, "20", "1"),
        seg("NM1", "PR", "2", "EXAMPLE PAYER", None, None, None, None, "PI", "00000"),
        seg("TRN", "1", "PAYERBATCH1"),
        seg("DTP", "050", "D8", "20250117"),
        seg("DTP", "009", "D8", "20250117"),
        seg("HL", "2", "1", "21", "1"),
        seg("NM1", "41", "2", "DEMO RHEUMATOLOGY", None, None, None, None, "46", idx.sender),
        seg("TRN", "2", idx.isa13 + idx.st02s[0]),
        seg("STC", ("A1", "20"), "20250117", "WQ", "100"),
        seg("QTY", "90", str(len(statuses))),
        seg("AMT", "YU", "100"),
        seg("HL", "3", "2", "19", "1"),
        seg("NM1", "85", "2", "DEMO RHEUMATOLOGY", None, None, None, None, "XX", "1234567893"),
    ]
    hl = 3
    for st in statuses:
        hl += 1
        body += [
            seg("HL", str(hl), "3", "PT"),
            seg("NM1", "QC", "1", "TESTPATIENT", "ALPHA", None, None, None, "MI", "TESTMEMBER01"),
            seg("TRN", "2", st.encounter_id),
            _stc(st.codes, st.text),
        ]
        if st.payer_claim_number:
            body.append(seg("REF", "1K", st.payer_claim_number))
        body.append(seg("DTP", "472", "D8", "20250304"))
        for control, code in st.lines:
            body += [
                seg("SVC", ("HC", "J1745"), "100", None, None, None, None, "1"),
                _stc([code]),
                seg("REF", "FJ", control),
                seg("DTP", "472", "D8", "20250304"),
            ]
    gs = seg("GS", "HN", idx.receiver, idx.sender, "20250117", "1200", "902", "X", "005010X214")
    specs = envelope(
        [body], isa=_isa(idx.receiver, idx.sender, "000000903"), gs=gs, st_controls=["0001"],
        st01="277",
    )  # fmt: skip
    return WRITER.render_all(specs)
