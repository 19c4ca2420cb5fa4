"""Read any inbound acknowledgment file: TA1, 999 and 277CA, in any mix, any delimiters.

One streaming pass over ``X12Reader``: the envelope (ISA/GS/ST … SE/GE/IEA) is followed here,
each transaction set's body goes to its kind's builder (``ack999``, ``ack277``), a TA1 is read
where it stands (alone in its interchange, or after the groups, as pyx12 writes it). Envelope
counts and control numbers are re-checked and mismatches reported as warnings, as an inbound
file deserves (corpus_notes.md: IEA01 = 1 with no group, ISA13 ≠ IEA02). A file that cannot be
tokenized at all becomes one error problem, with whatever was read before it kept.

Pure: bytes or a path in, an ``AckFile`` out; no ledger, no clock.
"""

from __future__ import annotations

import os
from typing import BinaryIO

from edi_pipeline.acks._common import Sink
from edi_pipeline.acks.ack277 import Ack277Builder
from edi_pipeline.acks.ack999 import Ack999Builder
from edi_pipeline.acks.model import Ack277, Ack999, AckFile, Envelope, Ta1
from edi_pipeline.errors import X12SyntaxError
from edi_pipeline.maps.ack_codes import AckCodes
from edi_pipeline.models import Problem, Where
from edi_pipeline.x12.reader import CHUNK, Segment, X12Reader

#: guide ids a 999 may carry (GS08/ST03): the original release and its errata
GUIDES_999 = ("005010X231A1", "005010X231")
GUIDE_277CA = "005010X214"


class _Reader:
    def __init__(self, sink: Sink):
        self.sink = sink
        self.ta1s: list[Ta1] = []
        self.acks999: list[Ack999] = []
        self.acks277: list[Ack277] = []
        self.isa: Segment | None = None
        self.gs: Segment | None = None
        self.st: Segment | None = None
        self.builder: Ack999Builder | Ack277Builder | None = None
        self.skipping = False  # inside an ST that is not an acknowledgment
        self.groups = 0
        self.sets = 0
        self.count = 0  # segments since ST, ST included

    def envelope(self) -> Envelope:
        isa, gs, st = self.isa, self.gs, self.st
        return Envelope(
            isa13=isa.get(13).strip() if isa else None,
            sender=isa.get(6).strip() if isa else None,
            receiver=isa.get(8).strip() if isa else None,
            usage=isa.get(15).strip() if isa else None,
            gs06=gs.get(6).strip() if gs else None,
            st02=st.get(2).strip() if st else None,
            version=(st.get(3).strip() if st else "") or (gs.get(8).strip() if gs else None),
            created=(
                self.sink.date8(gs, 4, "GS04")
                if gs
                else (self.sink.date6(isa, 9, "ISA09") if isa else None)
            ),
        )

    def feed(self, seg: Segment) -> None:
        tag = seg.tag
        if self.st is not None:
            self.count += 1
            if tag == "SE":
                self._se(seg)
            elif tag in ("ST", "GS", "GE", "ISA", "IEA"):
                self.sink.add(
                    "ack_unclosed",
                    f"{tag} inside transaction set {self.st.get(2)!r} (its SE is missing)",
                    seg,
                )
                self._close_set()
                self.feed(seg)
            elif self.builder is not None:
                self.builder.feed(seg)
            return
        handler = getattr(self, f"_{tag.lower()}", None)
        if handler is None:
            self.sink.add(
                "ack_segment_out_of_place",
                f"{tag} outside a transaction set; ignored",
                seg,
                severity="warning",
            )
            return
        handler(seg)

    # ------------------------------------------------------------------ envelope

    def _isa(self, seg: Segment) -> None:
        if self.isa is not None:
            self.sink.add(
                "ack_unclosed", "ISA before the previous interchange's IEA", seg, severity="warning"
            )
        self.isa, self.gs, self.groups = seg, None, 0

    def _iea(self, seg: Segment) -> None:
        if self.isa is None:
            self.sink.add("ack_segment_out_of_place", "IEA without an ISA", seg, severity="warning")
            return
        if self.gs is not None:
            self.sink.add(
                "ack_unclosed", "IEA before the GE of the last group", seg, severity="warning"
            )
            self.gs = None
        said = seg.get(1).strip()
        if said != str(self.groups):
            self.sink.add(
                "ack_count_mismatch",
                f"IEA01 says {said!r} functional groups, counted {self.groups}",
                seg,
                1,
                severity="warning",
            )
        if seg.get(2).strip() != self.isa.get(13).strip():
            self.sink.add(
                "ack_control_mismatch",
                f"IEA02 {seg.get(2).strip()!r} differs from ISA13 {self.isa.get(13).strip()!r}",
                seg,
                2,
                severity="warning",
            )
        self.isa = None

    def _gs(self, seg: Segment) -> None:
        if self.gs is not None:
            self.sink.add(
                "ack_unclosed", "GS before the previous group's GE", seg, severity="warning"
            )
        self.gs, self.sets = seg, 0
        self.groups += 1

    def _ge(self, seg: Segment) -> None:
        if self.gs is None:
            self.sink.add("ack_segment_out_of_place", "GE without a GS", seg, severity="warning")
            return
        said = seg.get(1).strip()
        if said != str(self.sets):
            self.sink.add(
                "ack_count_mismatch",
                f"GE01 says {said!r} transaction sets, counted {self.sets}",
                seg,
                1,
                severity="warning",
            )
        if seg.get(2).strip() != self.gs.get(6).strip():
            self.sink.add(
                "ack_control_mismatch",
                f"GE02 {seg.get(2).strip()!r} differs from GS06 {self.gs.get(6).strip()!r}",
                seg,
                2,
                severity="warning",
            )
        self.gs = None

    def _ta1(self, seg: Segment) -> None:
        if self.gs is not None:
            self.sink.add(
                "ack_segment_out_of_place",
                "TA1 inside a functional group (it belongs directly in the interchange)",
                seg,
                severity="warning",
            )
        control = seg.get(1).strip()
        code = seg.get(4).strip()
        note = seg.get(5).strip()
        if not control:
            self.sink.add("ack_missing_element", "TA101 (our ISA13) is empty", seg, 1)
            return
        codes = self.sink.codes
        if codes is not None and not codes.knows("ta104", code):
            allowed = ", ".join(sorted(codes.codes("ta104")))
            self.sink.add(
                "ack_invalid_code",
                f"TA104 must be one of {allowed} (got {code[:8]!r}): the interchange's fate is "
                "unknown and nothing is changed for it",
                seg,
                4,
            )
            return
        self.sink.check_code("ta105", note or None, seg, 5, "TA105")
        self.ta1s.append(
            Ta1(
                interchange_control=control,
                interchange_date=self.sink.date6(seg, 2, "TA102"),
                interchange_time=self.sink.time4(seg, 3, "TA103"),
                ack_code=code,
                note_code=note,
                envelope=self.envelope(),
                where=self.sink.where(seg),
            )
        )

    def _st(self, seg: Segment) -> None:
        if self.gs is None:
            self.sink.add(
                "ack_segment_out_of_place", "ST outside a functional group (no GS)", seg, "warning"
            )
        self.st, self.count, self.skipping = seg, 1, False
        self.sets += 1
        kind = seg.get(1).strip()
        guide = seg.get(3).strip() or (self.gs.get(8).strip() if self.gs else "")
        env = self.envelope()
        if kind == "999":
            if guide and not guide.startswith(GUIDES_999):
                self.sink.add(
                    "ack_unexpected_guide",
                    f"999 guide {guide!r} is neither {' nor '.join(GUIDES_999)}; read anyway",
                    seg,
                    3,
                    severity="warning",
                )
            self.builder = Ack999Builder(self.sink, env, seg)
        elif kind == "277" and guide.startswith(GUIDE_277CA):
            self.builder = Ack277Builder(self.sink, env, seg)
        else:
            what = f"277 {guide}" if kind == "277" else kind
            self.sink.add(
                "ack_not_an_ack",
                f"transaction set {what!r} is not an acknowledgment this command reads (TA1, "
                f"999, 277CA {GUIDE_277CA}); skipped",
                seg,
                1,
                severity="warning",
            )
            self.builder = None

    def _se(self, seg: Segment) -> None:
        assert self.st is not None
        said = seg.get(1).strip()
        if said != str(self.count):
            self.sink.add(
                "ack_count_mismatch",
                f"SE01 says {said!r} segments, counted {self.count} from ST to SE",
                seg,
                1,
                severity="warning",
            )
        if seg.get(2).strip() != self.st.get(2).strip():
            self.sink.add(
                "ack_control_mismatch",
                f"SE02 {seg.get(2).strip()!r} differs from ST02 {self.st.get(2).strip()!r}",
                seg,
                2,
                severity="warning",
            )
        self._close_set()

    def _close_set(self) -> None:
        if isinstance(self.builder, Ack999Builder):
            self.acks999.append(self.builder.finish())
        elif isinstance(self.builder, Ack277Builder):
            self.acks277.append(self.builder.finish())
        self.builder, self.st = None, None

    def finish(self) -> None:
        if self.st is not None:
            self.sink.add(
                "ack_unclosed",
                f"the file ends inside transaction set {self.st.get(2).strip()!r} (no SE)",
                self.st,
            )
            self._close_set()


def read_ack(
    source: str | os.PathLike[str] | BinaryIO | bytes,
    *,
    codes: AckCodes | None = None,
    name: str | None = None,
    chunk_size: int = CHUNK,
) -> AckFile:
    """Read one inbound file; every problem is in ``AckFile.problems``, nothing is raised.

    ``codes`` (``maps.ack_codes``) lets the reader tell an invalid acknowledgment code (IK501
    ``Q``) from a valid one; without it only the structure is checked.
    """
    reader = X12Reader(source, name=name, chunk_size=chunk_size)
    file = name or (os.fspath(source) if isinstance(source, str | os.PathLike) else "<bytes>")
    sink = Sink(file, codes)
    state = _Reader(sink)
    fatal: list[Problem] = []
    count = 0
    try:
        for seg in reader:
            count = seg.index
            state.feed(seg)
    except X12SyntaxError as exc:
        fatal.append(Problem(exc.code, exc.message, exc.where.merged(Where(file=file)), "error"))
    except OSError as exc:
        fatal.append(Problem("ack_unreadable", f"cannot read the file: {exc.strerror or exc}"))
    state.finish()
    if count == 0 and not fatal:
        sink.add("ack_empty", "the file holds no X12 segments")
    elif not (state.ta1s or state.acks999 or state.acks277) and not fatal:
        sink.add("ack_not_an_ack", "the file holds no TA1, 999 or 277CA", severity="error")
    problems = tuple(
        sorted(
            (
                p
                if p.where.file
                else Problem(p.code, p.message, p.where.merged(Where(file=file)), p.severity)
                for p in (*reader.problems, *sink.problems, *fatal)
            ),
            key=lambda p: p.where.segment_index or 0,
        )
    )
    return AckFile(
        file=file,
        ta1s=tuple(state.ta1s),
        acks999=tuple(state.acks999),
        acks277=tuple(state.acks277),
        problems=problems,
        segments=count,
    )
