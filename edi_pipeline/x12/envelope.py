"""Interchange / functional group / transaction set envelopes: structure, counts, control numbers.

``EnvelopeReader`` wraps a segment stream and yields every segment with its ``Context`` (the
ISA13, GS06, GS08, ST01, ST02 and implementation guide it sits in), checking on the way:

* SE01 equals the segments counted from ST to SE inclusive, and SE02 equals ST02;
* GE01 equals the transaction sets in the group, and GE02 equals GS06;
* IEA01 equals the functional groups in the interchange, and IEA02 equals ISA13;
* every ST has its SE, every GS its GE, every ISA its IEA, and no data segment sits outside a
  transaction set.

A mismatch is a ``Problem`` (never an exception) naming file, segment ordinal, segment id and byte
offset; reading goes on. A file that starts at GS or ST (no ISA) gets an interchange whose ISA13
is None, and likewise a group whose GS06 is None; the reader has already said the ISA is missing.

After iteration, ``interchanges`` summarises the file (the shape ``inspect`` prints) and
``problems`` lists what was found. ``transactions()`` groups the stream one transaction set at a
time, for readers of small transactions (999, 277CA, one 835 payment); it holds one transaction
in memory, so prefer ``EnvelopeReader`` for very large 837 transactions.

The guide of a transaction is ST03 when present, else GS08 (835s usually omit ST03).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from edi_pipeline.models import Problem, Where
from edi_pipeline.x12.reader import Segment

CLAIM_TAGS = {"837": "CLM", "835": "CLP"}  # the segment that starts a claim, per transaction set


@dataclass(frozen=True, slots=True)
class Context:
    """The envelope a segment sits in (None where that envelope level is absent)."""

    isa13: str | None = None
    gs06: str | None = None
    gs01: str | None = None  # functional identifier code (HC, HP, FA, HN…)
    gs08: str | None = None
    st01: str | None = None
    st02: str | None = None
    st03: str | None = None

    @property
    def guide(self) -> str | None:
        """The implementation guide: ST03 when present, else GS08."""
        return self.st03 or self.gs08 or None


OUTSIDE = Context()


@dataclass(frozen=True, slots=True)
class TransactionSummary:
    st01: str
    st02: str
    guide: str | None
    segments: int  # ST through SE inclusive, as counted
    claims: int  # CLM (837) or CLP (835) segments
    segment_index: int  # ordinal of the ST in the file
    offset: int  # byte offset of the ST
    se01: str | None = None  # as declared (None when the SE is missing)


@dataclass(frozen=True, slots=True)
class GroupSummary:
    gs06: str | None
    gs01: str | None
    gs08: str | None
    transactions: tuple[TransactionSummary, ...]
    segment_index: int | None = None


@dataclass(frozen=True, slots=True)
class InterchangeSummary:
    isa13: str | None
    groups: tuple[GroupSummary, ...]
    segment_index: int | None = None
    ta1: int = 0  # TA1 segments directly inside the interchange


@dataclass(slots=True)
class _Tx:
    ctx: Context
    start: Segment
    count: int = 1
    claims: int = 0
    claim_tag: str | None = None


@dataclass(slots=True)
class _Group:
    gs06: str | None
    gs01: str | None
    gs08: str | None
    start: Segment | None
    transactions: list[TransactionSummary] = field(default_factory=list)

    def freeze(self) -> GroupSummary:
        index = self.start.index if self.start else None
        return GroupSummary(self.gs06, self.gs01, self.gs08, tuple(self.transactions), index)


@dataclass(slots=True)
class _Interchange:
    isa13: str | None
    start: Segment | None
    groups: list[GroupSummary] = field(default_factory=list)
    ta1: int = 0

    def freeze(self) -> InterchangeSummary:
        index = self.start.index if self.start else None
        return InterchangeSummary(self.isa13, tuple(self.groups), index, self.ta1)


def _int(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() else None


class EnvelopeReader:
    """Yield ``(Context, Segment)`` for every segment, checking envelopes as they close.

    >>> env = EnvelopeReader(X12Reader("in.835"))        # doctest: +SKIP
    >>> for ctx, seg in env: ...
    >>> env.interchanges, env.problems
    """

    def __init__(self, segments: Iterable[Segment], *, file: str | None = None) -> None:
        self._segments = segments
        self.file = file if file is not None else getattr(segments, "name", None)
        self.problems: list[Problem] = []
        self.interchanges: list[InterchangeSummary] = []
        self._isa: _Interchange | None = None
        self._gs: _Group | None = None
        self._tx: _Tx | None = None
        self._last: Segment | None = None

    # ------------------------------------------------------------------ reporting

    def _problem(
        self, seg: Segment | None, code: str, message: str, severity: str = "error"
    ) -> None:
        where = (
            Where(file=self.file, segment_index=seg.index, segment_id=seg.tag, offset=seg.offset)
            if seg is not None
            else Where(file=self.file)
        )
        self.problems.append(Problem(code, message, where, severity))  # type: ignore[arg-type]

    # ------------------------------------------------------------------ closing levels

    def _close_tx(self, seg: Segment | None, se: Segment | None) -> None:
        tx = self._tx
        if tx is None:
            return
        self._tx = None
        st02 = tx.ctx.st02 or ""
        if se is None:
            self._problem(
                seg,
                "missing_se",
                f"transaction set {tx.ctx.st01} {st02} (ST at segment {tx.start.index}) has no SE",
            )
        else:
            tx.count += 1
            declared = _int(se.get(1))
            if declared is None:
                self._problem(se, "se01_invalid", f"SE01 {se.get(1)!r} is not a segment count")
            elif declared != tx.count:
                self._problem(
                    se,
                    "se01_mismatch",
                    f"SE01 says {declared} segments, counted {tx.count} (ST through SE)",
                )
            if se.get(2) != st02:
                self._problem(
                    se,
                    "se02_mismatch",
                    f"SE02 {se.get(2)!r} does not match ST02 {st02!r}",
                )
        summary = TransactionSummary(
            st01=tx.ctx.st01 or "",
            st02=st02,
            guide=tx.ctx.guide,
            segments=tx.count,
            claims=tx.claims,
            segment_index=tx.start.index,
            offset=tx.start.offset,
            se01=se.get(1) if se is not None else None,
        )
        if self._gs is not None:
            self._gs.transactions.append(summary)

    def _close_gs(self, seg: Segment | None, ge: Segment | None) -> None:
        gs = self._gs
        if gs is None:
            return
        self._gs = None
        if ge is None:
            if gs.start is not None:  # a group we opened from a GS (not one made up for an ST)
                self._problem(
                    seg,
                    "missing_ge",
                    f"functional group {gs.gs06} (GS at segment {gs.start.index}) has no GE",
                )
        else:
            declared = _int(ge.get(1))
            counted = len(gs.transactions)
            if declared is None:
                self._problem(ge, "ge01_invalid", f"GE01 {ge.get(1)!r} is not a count")
            elif declared != counted:
                self._problem(
                    ge,
                    "ge01_mismatch",
                    f"GE01 says {declared} transaction sets, counted {counted}",
                )
            if gs.start is not None and ge.get(2) != (gs.gs06 or ""):
                self._problem(
                    ge, "ge02_mismatch", f"GE02 {ge.get(2)!r} does not match GS06 {gs.gs06!r}"
                )
        if self._isa is not None:
            self._isa.groups.append(gs.freeze())

    def _close_isa(self, seg: Segment | None, iea: Segment | None) -> None:
        isa = self._isa
        if isa is None:
            return
        self._isa = None
        if iea is None:
            if isa.start is not None:
                self._problem(
                    seg,
                    "missing_iea",
                    f"interchange {isa.isa13} (ISA at segment {isa.start.index}) has no IEA",
                )
        else:
            declared = _int(iea.get(1))
            counted = len(isa.groups)
            if declared is None:
                self._problem(iea, "iea01_invalid", f"IEA01 {iea.get(1)!r} is not a count")
            elif declared != counted:
                self._problem(
                    iea,
                    "iea01_mismatch",
                    f"IEA01 says {declared} functional groups, counted {counted}",
                )
            if isa.start is not None and iea.get(2).strip() != (isa.isa13 or ""):
                self._problem(
                    iea,
                    "iea02_mismatch",
                    f"IEA02 {iea.get(2)!r} does not match ISA13 {isa.isa13!r}",
                )
        self.interchanges.append(isa.freeze())

    # ------------------------------------------------------------------ opening levels

    def _open_isa(self, seg: Segment | None) -> _Interchange:
        isa13 = seg.get(13).strip() if seg is not None else None
        self._isa = _Interchange(isa13, seg)
        return self._isa

    def _open_gs(self, seg: Segment | None) -> _Group:
        if self._isa is None:
            if seg is not None and self.interchanges:
                self._problem(seg, "gs_outside_interchange", "GS after an IEA and before any ISA")
            self._open_isa(None)
        if seg is None:
            self._gs = _Group(None, None, None, None)
        else:
            self._gs = _Group(seg.get(6), seg.get(1), seg.get(8), seg)
        return self._gs

    # ------------------------------------------------------------------ iteration

    def __iter__(self) -> Iterator[tuple[Context, Segment]]:
        ctx = OUTSIDE
        seg: Segment | None = None
        for seg in self._segments:
            tag = seg.tag
            tx = self._tx
            if tx is not None and tag != "SE" and tag not in _ENVELOPE:
                tx.count += 1
                if tag == tx.claim_tag:
                    tx.claims += 1
                yield ctx, seg
                continue
            if tag == "ST":
                if tx is not None:
                    self._close_tx(seg, None)
                if self._gs is None:
                    self._problem(
                        seg,
                        "st_outside_group",
                        "transaction set outside a functional group (no GS before it)",
                        "warning" if not self.interchanges and self._isa is None else "error",
                    )
                    self._open_gs(None)
                gs = self._gs
                isa = self._isa
                assert gs is not None and isa is not None
                ctx = Context(
                    isa13=isa.isa13,
                    gs06=gs.gs06,
                    gs01=gs.gs01,
                    gs08=gs.gs08,
                    st01=seg.get(1),
                    st02=seg.get(2),
                    st03=seg.get(3) or None,
                )
                self._tx = _Tx(ctx, seg, claim_tag=CLAIM_TAGS.get(seg.get(1)))
                yield ctx, seg
            elif tag == "SE":
                if tx is None:
                    self._problem(seg, "se_without_st", "SE with no open transaction set")
                    yield ctx, seg
                else:
                    yield ctx, seg
                    self._close_tx(seg, seg)
                ctx = self._outer_context()
            elif tag == "GS":
                self._close_tx(seg, None)
                if self._gs is not None:
                    self._close_gs(seg, None)
                self._open_gs(seg)
                ctx = self._outer_context()
                yield ctx, seg
            elif tag == "GE":
                self._close_tx(seg, None)
                if self._gs is None:
                    self._problem(seg, "ge_without_gs", "GE with no open functional group")
                else:
                    self._close_gs(seg, seg)
                yield self._outer_context(), seg
                ctx = self._outer_context()
            elif tag == "ISA":
                self._close_tx(seg, None)
                self._close_gs(seg, None)
                self._close_isa(seg, None)
                self._open_isa(seg)
                ctx = self._outer_context()
                yield ctx, seg
            elif tag == "IEA":
                self._close_tx(seg, None)
                self._close_gs(seg, None)
                if self._isa is None:
                    self._problem(seg, "iea_without_isa", "IEA with no open interchange")
                    yield ctx, seg
                else:
                    yield ctx, seg
                    self._close_isa(seg, seg)
                ctx = OUTSIDE
            elif tag == "TA1" and self._isa is not None and self._gs is None:
                self._isa.ta1 += 1
                yield ctx, seg
            else:
                self._problem(
                    seg,
                    "outside_transaction",
                    f"segment {tag!r} is outside any transaction set (ST/SE)",
                )
                yield ctx, seg
        self._last = seg
        self._close_tx(seg, None)
        self._close_gs(seg, None)
        self._close_isa(seg, None)

    def _outer_context(self) -> Context:
        isa, gs = self._isa, self._gs
        return Context(
            isa13=isa.isa13 if isa else None,
            gs06=gs.gs06 if gs else None,
            gs01=gs.gs01 if gs else None,
            gs08=gs.gs08 if gs else None,
        )


_ENVELOPE = frozenset({"ST", "SE", "GS", "GE", "ISA", "IEA"})


@dataclass(frozen=True, slots=True)
class Transaction:
    """One transaction set, ST through SE, with the envelope it came in."""

    context: Context
    segments: tuple[Segment, ...]

    @property
    def guide(self) -> str | None:
        return self.context.guide


def transactions(segments: Iterable[Segment], *, file: str | None = None) -> Iterator[Transaction]:
    """Group a segment stream into transaction sets (envelope segments are skipped).

    Envelope problems are not returned here: iterate an ``EnvelopeReader`` for those.
    """
    current: list[Segment] = []
    ctx: Context | None = None
    for seg_ctx, seg in EnvelopeReader(segments, file=file):
        if seg.tag == "ST":
            if current and ctx is not None:
                yield Transaction(ctx, tuple(current))
            current, ctx = [seg], seg_ctx
        elif ctx is not None and seg_ctx is ctx:
            current.append(seg)
            if seg.tag == "SE":
                yield Transaction(ctx, tuple(current))
                current, ctx = [], None
        elif current and ctx is not None:
            yield Transaction(ctx, tuple(current))
            current, ctx = [], None
    if current and ctx is not None:
        yield Transaction(ctx, tuple(current))


@dataclass(frozen=True, slots=True)
class EnvelopeReport:
    """Everything ``check`` found: the envelope tree and its problems."""

    interchanges: tuple[InterchangeSummary, ...]
    problems: tuple[Problem, ...]
    segments: int


def check(segments: Iterable[Segment], *, file: str | None = None) -> EnvelopeReport:
    """Read a whole stream and return its envelope summary and problems (constant memory)."""
    env = EnvelopeReader(segments, file=file)
    n = sum(1 for _ in env)
    return EnvelopeReport(tuple(env.interchanges), tuple(env.problems), n)
