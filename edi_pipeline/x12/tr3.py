"""TR3 loop structure, read from the XML maps pyx12 ships, and one walker that names loops.

Nothing here is written by hand per transaction: the loops (``2000A``, ``2300``, ``2400``,
``2110``, ``2200D``…), their segments in order, and the qualifier values that tell one ``NM1`` or
``HL`` from another come from pyx12's maps (``837.5010.X222.A1.xml``, ``835.5010.X221.A1.xml``,
``999.5010X231.A1.xml``, ``277.5010.X214.xml``), read once with lxml through
``importlib.resources`` and cached as a tree of frozen ``LoopSpec``/``SegmentRule`` values.

Use::

    from edi_pipeline.x12.tr3 import walk, walk_file, loop_id

    for path, seg in walk(segments, "005010X222A1"):  # one guide, ST..SE (envelopes pass)
        if seg.tag == "CLM":
            assert path[-1] == "2300"  # path: ("DETAIL", "2000A", "2000B", "2300")

    for ctx, path, seg in walk_file(X12Reader("in.835")):  # guide per transaction (GS08/ST03)
        print(ctx.guide, path[-1], seg.tag)

* ``LoopPath`` is the tuple of loop ids from the transaction set down to the segment's loop, the
  map's tables included (``HEADER``, ``DETAIL``, ``FOOTER``, as pyx12 names them): BHT is in
  ``("HEADER",)``, the 837P submitter NM1 in ``("HEADER", "1000A")``, an 835 PLB in
  ``("FOOTER",)``. ST, SE and envelope segments have the empty path. ``loop_id(path)`` is the
  innermost id (``""`` for the empty path).
* A loop starts where its first segment appears with a qualifier the map allows (``NM1*85`` opens
  2010AA, ``HL`` with HL03 ``22`` opens 2000B); segments are matched forward from the current
  position, popping out to enclosing loops, as the TR3 orders them. A segment out of order inside
  its loop stays in that loop. HL segments are placed by their parent id (HL02) first, so the
  hierarchy follows the HL numbers, not only the order of the file.
* A segment that fits nowhere keeps the current path and becomes a ``Problem``
  (``unexpected_segment``) in ``walker.problems``; so does an HL whose HL02 names no open HL.
* ``resolve_guide`` maps a declared guide onto the map used: 005010X222A2 and 005010X222 are read
  with the X222A1 map (pyx12 has no other), 005010X231 with X231A1; with no guide at all, an 835
  or 999 is still recognised from ST01.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files

from lxml import etree

from edi_pipeline.errors import X12Error
from edi_pipeline.models import Problem, Where
from edi_pipeline.x12.envelope import Context, EnvelopeReader
from edi_pipeline.x12.reader import Segment

LoopPath = tuple[str, ...]

# Implementation guide (GS08/ST03) -> the pyx12 map file holding its TR3 structure.
MAPS = {
    "005010X222A1": "837.5010.X222.A1.xml",
    "005010X221A1": "835.5010.X221.A1.xml",
    "005010X231A1": "999.5010X231.A1.xml",
    "005010X214": "277.5010.X214.xml",
}
# Guides read with another guide's map: pyx12 ships none of their own, and the loop structure is
# the same (X222A2 is an errata of X222A1 with the same loops; X231 is X231A1 before its errata).
ALIASES = {
    "005010X222A2": "005010X222A1",
    "005010X222": "005010X222A1",
    "005010X231": "005010X231A1",
}
# With no guide declared (no GS, no ST03), the transaction set id alone is unambiguous for these.
BY_ST01 = {"835": "005010X221A1", "999": "005010X231A1"}

_ENVELOPE = frozenset({"ISA", "IEA", "GS", "GE", "TA1"})


def resolve_guide(guide: str | None, st01: str | None = None) -> str | None:
    """The guide whose map reads ``guide`` (None when pyx12 has no map for it)."""
    if guide:
        guide = guide.strip()
        guide = ALIASES.get(guide, guide)
        if guide in MAPS:
            return guide
        return None
    return BY_ST01.get(st01 or "")


@dataclass(frozen=True, slots=True)
class SegmentRule:
    """One segment of a loop in the TR3: which data segments it accepts."""

    id: str
    name: str
    usage: str  # R required, S situational, N not used
    max_use: str
    key: tuple[int, int | None] | None = None  # element (and component) carrying the qualifier
    codes: frozenset[str] = frozenset()  # qualifier values that select this rule

    def matches(self, seg: Segment) -> bool:
        if seg.tag != self.id:
            return False
        if self.key is None:
            return True
        n, m = self.key
        value = seg.get(n) if m is None else seg.component(n, m)
        return value in self.codes


@dataclass(frozen=True, slots=True)
class LoopSpec:
    """One loop (or table) of the TR3: its segments and child loops, in TR3 order."""

    id: str
    name: str
    usage: str
    repeat: str
    children: tuple[SegmentRule | LoopSpec, ...]
    by_tag: dict[str, tuple[tuple[int, SegmentRule | LoopSpec], ...]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        index: dict[str, list[tuple[int, SegmentRule | LoopSpec]]] = {}
        for i, child in enumerate(self.children):
            first = child.first if isinstance(child, LoopSpec) else child
            if first is not None:
                index.setdefault(first.id, []).append((i, child))
        self.by_tag.update({tag: tuple(found) for tag, found in index.items()})

    @property
    def first(self) -> SegmentRule | None:
        """The segment that opens this loop (found through leading child loops)."""
        for child in self.children:
            return child.first if isinstance(child, LoopSpec) else child
        return None

    @property
    def segments(self) -> tuple[SegmentRule, ...]:
        return tuple(c for c in self.children if isinstance(c, SegmentRule))

    @property
    def loops(self) -> tuple[LoopSpec, ...]:
        return tuple(c for c in self.children if isinstance(c, LoopSpec))

    def find(self, loop_id: str) -> LoopSpec | None:
        """The first loop with this id, depth first (``find("2400")``)."""
        for child in self.loops:
            if child.id == loop_id:
                return child
            found = child.find(loop_id)
            if found is not None:
                return found
        return None

    def matches(self, seg: Segment) -> bool:
        first = self.first
        return first is not None and first.matches(seg)


# --------------------------------------------------------------------------- loading


def _map_bytes(name: str) -> bytes:
    return (files("pyx12") / "map" / name).read_bytes()


@cache
def _data_types() -> dict[str, str]:
    """Data element number -> X12 data type (ID, AN, DT, TM, N2, R…), from pyx12's dataele.xml."""
    root = etree.fromstring(_map_bytes("dataele.xml"))
    return {e.get("ele_num"): e.get("data_type") for e in root.iter("data_ele")}


def data_type(element_number: str) -> str | None:
    """The X12 data type of a data element (``"1270"`` -> ``"ID"``), None when unknown."""
    return _data_types().get(element_number)


def _codes(node: etree._Element) -> frozenset[str]:
    valid = node.find("valid_codes")
    if valid is None:
        return frozenset()
    return frozenset((c.text or "").strip() for c in valid.findall("code"))


def _key(seg: etree._Element) -> tuple[tuple[int, int | None] | None, frozenset[str]]:
    """Where a segment's qualifier sits, mirroring how pyx12 tells same-id segments apart."""
    types = _data_types()
    kids = [c for c in seg if c.tag in ("element", "composite")]

    def is_type(node: etree._Element, wanted: str) -> bool:
        return types.get((node.findtext("data_ele") or "").strip()) == wanted

    c0 = kids[0] if kids else None
    if (
        c0 is not None
        and c0.tag == "element"
        and is_type(c0, "ID")
        and (c0.findtext("usage") or "") == "R"
        and _codes(c0)
    ):
        return (1, None), _codes(c0)
    if (  # ENT carries its qualifier at element 02 (820)
        seg.get("xid") == "ENT"
        and len(kids) > 1
        and kids[1].tag == "element"
        and is_type(kids[1], "ID")
        and _codes(kids[1])
    ):
        return (2, None), _codes(kids[1])
    if c0 is not None and c0.tag == "composite":
        sub = c0.find("element")
        if sub is not None and _codes(sub) and (is_type(sub, "ID") or seg.get("xid") == "CTX"):
            return (1, 1), _codes(sub)
    if seg.get("xid") == "HL" and len(kids) > 2 and _codes(kids[2]):
        return (3, None), _codes(kids[2])
    return None, frozenset()


def _segment(node: etree._Element) -> SegmentRule:
    key, codes = _key(node)
    return SegmentRule(
        id=node.get("xid"),
        name=(node.findtext("name") or "").strip(),
        usage=(node.findtext("usage") or "").strip(),
        max_use=(node.findtext("max_use") or "").strip(),
        key=key,
        codes=codes,
    )


def _loop(node: etree._Element) -> LoopSpec:
    children: list[SegmentRule | LoopSpec] = []
    for child in node:
        if child.tag == "segment":
            children.append(_segment(child))
        elif child.tag == "loop":
            children.append(_loop(child))
    return LoopSpec(
        id=node.get("xid"),
        name=(node.findtext("name") or "").strip(),
        usage=(node.findtext("usage") or "").strip(),
        repeat=(node.findtext("repeat") or "").strip(),
        children=tuple(children),
    )


@cache
def spec(guide: str) -> LoopSpec:
    """The transaction set loop (``ST_LOOP``) of a guide's TR3, read from pyx12's map.

    Raises ``X12Error`` (code ``no_tr3_map``) for a guide no map covers.
    """
    resolved = resolve_guide(guide)
    if resolved is None:
        raise X12Error(
            f"no TR3 map for implementation guide {guide!r} "
            f"(maps: {', '.join(sorted(MAPS))}, also read: {', '.join(sorted(ALIASES))})",
            code="no_tr3_map",
        )
    root = etree.fromstring(_map_bytes(MAPS[resolved]))
    st_loop = root.find("loop/loop/loop")  # ISA_LOOP / GS_LOOP / ST_LOOP
    if st_loop is None or st_loop.get("xid") != "ST_LOOP":
        raise X12Error(f"pyx12 map {MAPS[resolved]} has no ST_LOOP", code="no_tr3_map")
    return _loop(st_loop)


# --------------------------------------------------------------------------- walking


@dataclass(slots=True)
class _Frame:
    loop: LoopSpec
    pos: int  # index in loop.children of the last child matched
    hl: str | None = None  # HL01 of the HL that opened this loop


def loop_id(path: LoopPath) -> str:
    """The innermost loop id of a path (``""`` at transaction level)."""
    return path[-1] if path else ""


class Walker:
    """Assigns each segment of a transaction set its loop path, one segment at a time.

    ``step(seg)`` returns the segment's ``LoopPath``; an ST starts over. ``problems`` collects
    segments that fit nowhere and HL parents that do not resolve.
    """

    def __init__(self, guide: str, *, file: str | None = None) -> None:
        self.root = spec(guide)
        self.guide = guide
        self.file = file
        self.problems: list[Problem] = []
        self._stack: list[_Frame] = []
        self._path: LoopPath = ()
        self._hls: dict[str, list[_Frame]] = {}  # HL01 -> the open loops down to its own
        self._st_pos = next(
            (i for i, c in enumerate(self.root.children) if isinstance(c, SegmentRule)), 0
        )

    def _problem(self, seg: Segment, code: str, message: str) -> None:
        self.problems.append(
            Problem(
                code,
                message,
                Where(
                    file=self.file,
                    segment_index=seg.index,
                    segment_id=seg.tag,
                    offset=seg.offset,
                    loop=loop_id(self._path) or None,
                ),
                "error",
            )
        )

    def step(self, seg: Segment) -> LoopPath:
        tag = seg.tag
        if tag == "ST":
            self._stack = [_Frame(self.root, self._st_pos)]
            self._path = ()
            self._hls = {}
            return ()
        if tag in _ENVELOPE or not self._stack:
            return ()
        if tag == "HL":
            self._place_hl(seg)
        if self._forward(seg) or self._anywhere(seg):
            self._path = tuple(f.loop.id for f in self._stack[1:])
            if tag == "HL" and self._stack[-1].hl is not None:
                self._hls[self._stack[-1].hl] = list(self._stack)
            return self._path
        self._problem(
            seg,
            "unexpected_segment",
            f"segment {tag} fits no loop of {self.guide} here (after loop "
            f"{loop_id(self._path) or 'header'}); kept in the current loop",
        )
        return self._path

    def _place_hl(self, seg: Segment) -> None:
        """Go back to the loop opened by this HL's parent (HL02), wherever the file left it."""
        parent = seg.get(2)
        stack = self._stack
        if not parent:
            # A top-level HL: leave every HL-opened loop.
            for depth, frame in enumerate(stack):
                if frame.hl is not None:
                    del stack[depth:]
                    return
            return
        for depth in range(len(stack) - 1, -1, -1):
            if stack[depth].hl == parent:
                del stack[depth + 1 :]
                return
        known = self._hls.get(parent)
        if known is not None:  # a parent closed earlier: its children may still follow
            self._stack = list(known)
            return
        self._problem(
            seg,
            "hl_parent_unresolved",
            f"HL02 {parent!r} names no earlier HL01 (HL01 {seg.get(1)!r})",
        )

    def _forward(self, seg: Segment) -> bool:
        """Match forward from the current position, innermost loop first, popping outwards."""
        stack = self._stack
        for depth in range(len(stack) - 1, -1, -1):
            frame = stack[depth]
            loop = frame.loop
            for i, child in loop.by_tag.get(seg.tag, ()):
                if i < frame.pos:
                    continue
                if isinstance(child, SegmentRule):
                    if i == 0 and depth > 0:
                        continue  # the loop's own first segment: a new occurrence, found above
                    if child.matches(seg):
                        del stack[depth + 1 :]
                        frame.pos = i
                        return True
                elif child.matches(seg):
                    del stack[depth + 1 :]
                    frame.pos = i
                    self._enter(child, seg)
                    return True
        return False

    def _anywhere(self, seg: Segment) -> bool:
        """A segment out of TR3 order: accept it in the innermost open loop that has it."""
        stack = self._stack
        for depth in range(len(stack) - 1, 0, -1):
            frame = stack[depth]
            for i, child in frame.loop.by_tag.get(seg.tag, ()):
                if isinstance(child, SegmentRule) and i > 0 and child.matches(seg):
                    del stack[depth + 1 :]
                    return True
        return False

    def _enter(self, loop: LoopSpec, seg: Segment) -> None:
        while True:
            first = loop.children[0]
            if isinstance(first, LoopSpec):
                self._stack.append(_Frame(loop, 0))
                loop = first
                continue
            self._stack.append(_Frame(loop, 0, seg.get(1) if seg.tag == "HL" else None))
            return


def walk(
    segments: Iterable[Segment], guide: str, *, file: str | None = None
) -> Iterator[tuple[LoopPath, Segment]]:
    """``(loop_path, segment)`` for every segment, all read with one guide's map."""
    walker = Walker(guide, file=file)
    step = walker.step
    for seg in segments:
        yield step(seg), seg


def walk_file(
    segments: Iterable[Segment],
    *,
    file: str | None = None,
    problems: list[Problem] | None = None,
) -> Iterator[tuple[Context, LoopPath, Segment]]:
    """``(context, loop_path, segment)`` for a whole file, each transaction read with its guide.

    Transactions whose guide no map covers get the empty path for every segment. When a
    ``problems`` list is given, the envelope and walker problems are added to it at the end.
    """
    walkers: dict[str, Walker] = {}
    current: Walker | None = None
    envelope = EnvelopeReader(segments, file=file)
    for ctx, seg in envelope:
        if seg.tag == "ST":
            guide = resolve_guide(ctx.guide, ctx.st01)
            current = None
            if guide is not None:
                current = walkers.get(guide)
                if current is None:
                    current = walkers[guide] = Walker(guide, file=file)
        if current is None or ctx.st01 is None:
            yield ctx, (), seg
        else:
            yield ctx, current.step(seg), seg
    if problems is not None:
        problems.extend(envelope.problems)
        for walker in walkers.values():
            problems.extend(walker.problems)
