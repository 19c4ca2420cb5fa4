"""Streaming 835 (005010X221A1) reader: segments in, ``RemitClaim``s and ``RemitTransaction``s out.

It sits on ``x12.reader.X12Reader`` and keeps only the claim being read, so memory stays flat
however many claims a file holds; a file may carry several ST/SE (one per payment).

Why a small state machine and not a generic loop walker: an 835 has exactly two repeating loops
that matter for money (2100 CLP, 2110 SVC), and each starts with its own segment tag, so the tag
alone says where a CAS, REF, DTM or AMT belongs (before the claim's first SVC: claim level; after:
line level). This is also the hot path of ``remit`` on large files.

Bad values are reported, never guessed and never fatal: a non-numeric CAS amount (placeholder
files carry ``CAS*grp_code*reason_code*amount``) is a ``Problem`` naming file, segment ordinal
and element, and that one triplet is left out; the rest of the file is still read. Patient
names and member ids (NM1) are skipped, not stored.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from importlib.resources import files
from typing import BinaryIO

from edi_pipeline.models import Problem, Where
from edi_pipeline.remit.models import (
    ZERO,
    Adjustment,
    Payment,
    Procedure,
    ProviderAdjustment,
    RemitClaim,
    RemitLine,
    RemitTransaction,
    new_adjustment,
    new_claim,
    new_line,
    new_procedure,
)
from edi_pipeline.x12.reader import Segment, X12Reader


@functools.cache
def tr3_codes(xid: str) -> frozenset[str]:
    """The valid codes of one element (``CAS01``, ``PLB03-01``) in pyx12's 005010X221A1 map: the
    TR3's code lists are read as data, not retyped here."""
    from lxml import etree

    path = files("pyx12") / "map" / "835.5010.X221.A1.xml"
    tree = etree.fromstring(path.read_bytes())
    for element in tree.iter("element"):
        if element.get("xid") == xid:
            return frozenset(c.text for c in element.iter("code") if c.text)
    raise LookupError(f"no element {xid} in pyx12's 835 map")


#: CAS01 group codes of 005010X221A1, plus CR which non-conforming payers still send (835.md §3).
GROUPS = tr3_codes("CAS01")
TOLERATED_GROUPS = frozenset({"CR"}) - GROUPS
#: PLB03-1 adjustment reason codes (element 426).
PLB_REASONS = tr3_codes("PLB03-01")
_RARC = re.compile(r"(?:MA|M|N)\d{1,3}").fullmatch
_CARC = re.compile(r"[A-Z0-9]{1,3}").fullmatch
_CAS_AMOUNTS = (3, 6, 9, 12, 15, 18)
#: An X12 R (decimal) value: optional minus, digits with an optional decimal point. Decimal()
#: alone would also take exponents, NaN, blanks and underscores.
_NUMBER = re.compile(
    r"-?(?:\d+\.?\d*|\.\d+)"
).fullmatch  # CAS03, 06 … 18 (reason before, quantity after)

Event = RemitClaim | RemitTransaction
_PAD = ("",) * 9


_DATES: dict[str, date | None] = {}
#: Amount text -> its Decimal: a payer's fee schedule makes the same few thousand amounts recur,
#: and a dict hit is several times cheaper than the regex check plus Decimal(). Bounded.
_DECIMALS: dict[str, Decimal] = {}
#: CARCs already seen well-formed (the regex check is the dearer part of the common CAS).
_CARCS: set[str] = set()


def _carc_ok(text: str) -> bool:
    if _CARC(text):
        if len(_CARCS) < 4096:
            _CARCS.add(text)
        return True
    return False


def _decimal(text: str) -> Decimal | None:
    """``text`` as a Decimal when it is an X12 R value, else None (the caller reports it)."""
    value = _DECIMALS.get(text)
    if value is None and text and _NUMBER(text):
        value = Decimal(text)
        if len(_DECIMALS) < 65536:
            _DECIMALS[text] = value
    return value


def _date(text: str) -> date | None:
    """CCYYMMDD to a date; None when it is not one (the caller reports it)."""
    if text in _DATES:
        return _DATES[text]
    value: date | None
    try:
        value = date(int(text[0:4]), int(text[4:6]), int(text[6:8])) if len(text) == 8 else None
    except ValueError:
        value = None
    if len(_DATES) < 8192:
        _DATES[text] = value
    return value


class _Line:
    __slots__ = (
        "adjustments",
        "allowed",
        "charge",
        "control",
        "number",
        "original",
        "original_units",
        "paid",
        "procedure",
        "rarcs",
        "revenue",
        "seg",
        "svc_from",
        "svc_to",
        "units",
    )

    def __init__(self, number: int, seg: int) -> None:
        self.number = number
        self.seg = seg
        self.adjustments: list[Adjustment] = []
        self.rarcs: list[str] = []
        self.allowed = self.units = self.original_units = None
        self.original = None
        self.control = self.revenue = None
        self.svc_from = self.svc_to = None

    def freeze(self) -> RemitLine:
        return new_line(
            self.number,
            self.procedure,
            self.charge,
            self.paid,
            self.units,
            self.original,
            self.original_units,
            self.revenue,
            self.svc_from,
            self.svc_to,
            self.control,
            tuple(self.adjustments),
            tuple(self.rarcs),
            self.allowed,
            self.seg,
        )


class _Claim:
    __slots__ = (
        "adjustments",
        "auth",
        "charge",
        "f8",
        "facility",
        "filing",
        "frequency",
        "icn",
        "lines",
        "paid",
        "pcn",
        "pr",
        "problems",
        "rarcs",
        "received",
        "seg",
        "status",
        "stmt_from",
        "stmt_to",
    )

    def __init__(self, seg: int) -> None:
        self.seg = seg
        self.adjustments: list[Adjustment] = []
        self.lines: list[RemitLine] = []
        self.rarcs: list[str] = []
        self.problems: list[Problem] = []
        self.stmt_from = self.stmt_to = self.received = None
        self.f8 = self.auth = None


class RemitReader:
    """Iterate the claims and transactions of one 835 file.

    >>> for event in RemitReader("payer.835"):                       # doctest: +SKIP
    ...     if isinstance(event, RemitClaim): print(event.patient_control_number)

    After iteration, ``problems`` holds the problems that belong to no claim or transaction
    (the tokenizer's, and transaction sets that are not 835s).
    """

    def __init__(
        self, source: str | os.PathLike[str] | BinaryIO | bytes, *, name: str | None = None
    ) -> None:
        self._reader = X12Reader(source, name=name)
        if name is None and isinstance(source, str | os.PathLike):
            name = str(source)
        self.name = name or getattr(source, "name", "<stream>")
        self.problems: list[Problem] = []

    def __iter__(self) -> Iterator[Event]:
        try:
            yield from self._events()
        finally:
            self.problems.extend(self._reader.problems)

    # ------------------------------------------------------------------ helpers (cold paths)

    def _problem(
        self,
        sink: list[Problem],
        seg: Segment,
        code: str,
        message: str,
        *,
        element: str | None = None,
        claim: str | None = None,
        severity: str = "error",
    ) -> None:
        sink.append(
            Problem(
                code,
                message,
                Where(
                    file=self.name,
                    claim_id=claim,
                    segment_index=seg.index,
                    segment_id=seg.tag,
                    element=element,
                    offset=seg.offset,
                ),
                severity,  # type: ignore[arg-type]
            )
        )

    def _amount(
        self, seg: Segment, n: int, sink: list[Problem], claim: str | None, *, required: bool = True
    ) -> Decimal | None:
        elements = seg.elements
        text = elements[n - 1] if n <= len(elements) else ""
        value = _decimal(text)
        if value is not None:
            return value
        name = f"{seg.tag}{n:02d}"
        if not text:
            if required:
                self._problem(
                    sink, seg, "amount_missing", f"{name} is empty", element=name, claim=claim
                )
            return None
        self._problem(
            sink,
            seg,
            "amount_not_numeric",
            f"{name} {text[:20]!r} is not a number; left out of this segment's amounts",
            element=name,
            claim=claim,
        )
        return None

    def _procedure(self, seg: Segment, n: int, sink: list[Problem], claim: str | None) -> Procedure:
        parts = seg.components(n)
        if len(parts) == 1 and len(parts[0]) > 3 and not parts[0][2].isalnum():
            # e.g. HC>12345>26 in a file whose ISA16 is ':' (seen in the corpus).
            sep = parts[0][2]
            parts = tuple(parts[0].split(sep))
            self._problem(
                sink,
                seg,
                "component_separator_mismatch",
                f"{seg.tag}{n:02d} uses {sep!r} between components, not the ISA16 separator "
                f"{seg.delimiters.component!r}; read with {sep!r}",
                element=f"{seg.tag}{n:02d}",
                claim=claim,
                severity="warning",
            )
        if not parts or len(parts) < 2 or not parts[1]:
            self._problem(
                sink,
                seg,
                "procedure_missing",
                f"{seg.tag}{n:02d} has no procedure code",
                element=f"{seg.tag}{n:02d}",
                claim=claim,
            )
            return Procedure(parts[0] if parts else "", "", ())
        return new_procedure(parts[0], parts[1], tuple(m for m in parts[2:6] if m))

    def _cas(self, seg: Segment, sink: list[Problem], claim: str | None) -> list[Adjustment]:
        group = seg.elements[0] if seg.elements else ""
        if group not in GROUPS:
            if group in TOLERATED_GROUPS:
                self._problem(
                    sink,
                    seg,
                    "cas_group_not_5010",
                    f"CAS01 {group!r} is not a 5010 835 group code; read anyway",
                    element="CAS01",
                    claim=claim,
                    severity="warning",
                )
            else:
                self._problem(
                    sink,
                    seg,
                    "cas_group_invalid",
                    f"CAS01 {group[:12]!r} is not a group code (CO, OA, PI, PR); "
                    "the segment's amounts are left out",
                    element="CAS01",
                    claim=claim,
                )
                # Still report each amount that does not parse, so nothing is silently lost.
                for i in _CAS_AMOUNTS:
                    if seg.get(i):
                        self._amount(seg, i, sink, claim)
                return []
        out: list[Adjustment] = []
        elements = seg.elements
        size = len(elements)
        index = seg.index
        for position, i in enumerate(_CAS_AMOUNTS, start=1):
            if i - 1 > size:
                break
            reason = elements[i - 2]
            amount_text = elements[i - 1] if i - 1 < size else ""
            if not reason and not amount_text:
                continue
            if reason and amount_text and _NUMBER(amount_text) and _CARC(reason):
                qty_text = elements[i] if i < size else ""
                if not qty_text:
                    out.append(
                        new_adjustment(group, reason, _decimal(amount_text), None, index, position)
                    )
                    continue
            if not reason:
                self._problem(
                    sink,
                    seg,
                    "cas_reason_missing",
                    f"CAS{i - 1:02d} is empty but CAS{i:02d} has an amount; the amount is left out",
                    element=f"CAS{i - 1:02d}",
                    claim=claim,
                )
                continue
            amount = self._amount(seg, i, sink, claim)
            if amount is None:
                continue
            if not _CARC(reason):
                self._problem(
                    sink,
                    seg,
                    "carc_malformed",
                    f"CAS{i - 1:02d} {reason[:12]!r} does not look like a CARC; kept as unknown",
                    element=f"CAS{i - 1:02d}",
                    claim=claim,
                    severity="warning",
                )
            qty_text = elements[i] if i < size else ""
            quantity = self._amount(seg, i + 1, sink, claim) if qty_text else None
            out.append(new_adjustment(group, reason, amount, quantity, index, position))
        return out

    def _rarcs(
        self, seg: Segment, numbers: tuple[int, ...], sink: list[Problem], claim: str | None
    ) -> list[str]:
        out = []
        elements = seg.elements
        size = len(elements)
        for n in numbers:
            code = elements[n - 1] if n <= size else ""
            if not code:
                continue
            if _RARC(code):
                out.append(code)
            else:
                self._problem(
                    sink,
                    seg,
                    "rarc_malformed",
                    f"{seg.tag}{n:02d} {code[:16]!r} is not a remark code (RARC); left out",
                    element=f"{seg.tag}{n:02d}",
                    claim=claim,
                )
        return out

    # ------------------------------------------------------------------ the state machine

    def _events(self) -> Iterator[Event]:
        name = self.name
        in_835 = False
        header: dict[str, object] = {}
        payment: Payment | None = None
        claim: _Claim | None = None
        line: _Line | None = None
        tx_problems: list[Problem] = []
        plbs: list[ProviderAdjustment] = []
        n_claims = 0
        claims_paid = ZERO
        st_index = 0
        st_seg: Segment | None = None
        n1 = ""
        amount = self._amount
        carc_ok = _carc_ok
        carcs = _CARCS
        # SVC01 text -> its Procedure (immutable, so shared); valid for one component separator
        procedures: dict[str, Procedure] = {}
        rarc_ok = _RARC
        dates = _DATES
        decs = _DECIMALS
        comp = ""

        def finish_claim() -> RemitClaim:
            nonlocal line
            assert claim is not None and payment is not None
            if line is not None:
                claim.lines.append(line.freeze())
                line = None
            return new_claim(
                payment,
                claim.pcn,
                claim.status,
                claim.charge,
                claim.paid,
                claim.pr,
                claim.filing,
                claim.icn,
                claim.facility,
                claim.frequency,
                tuple(claim.adjustments),
                tuple(claim.lines),
                tuple(claim.rarcs),
                claim.stmt_from,
                claim.stmt_to,
                claim.received,
                claim.f8,
                claim.auth,
                claim.seg,
                tuple(claim.problems),
            )

        def make_payment(seg: Segment) -> Payment:
            if "BPR" not in header:
                self._problem(tx_problems, seg, "bpr_missing", "no BPR before the first claim")
            return Payment(
                name,
                st_seg.get(2) if st_seg else "",
                str(header.get("handling", "")),
                header.get("amount", ZERO),  # type: ignore[arg-type]
                str(header.get("credit_debit", "")),
                str(header.get("method", "")),
                header.get("paid_on"),  # type: ignore[arg-type]
                str(header.get("trace", "")),
                str(header.get("trace_payer", "")),
                str(header.get("payer_name", "")),
                str(
                    header.get("payer_id")
                    or header.get("payer_ref")
                    or header.get("trace_payer", "")
                ),
                str(header.get("payee_name", "")),
                str(header.get("payee_id", "")),
                header.get("production_date"),  # type: ignore[arg-type]
                st_seg.index if st_seg else 0,
            )

        def finish_transaction(seg: Segment | None, counted: int) -> RemitTransaction:
            nonlocal payment
            if payment is None:
                payment = make_payment(seg or st_seg)  # type: ignore[arg-type]
            return RemitTransaction(
                payment, tuple(plbs), n_claims, claims_paid, counted, tuple(tx_problems)
            )

        for seg in self._reader:
            tag = seg[0]
            el = seg[1]
            if not in_835:
                if tag == "ST":
                    if seg.get(1) == "835":
                        comp = seg.delimiters.component
                        procedures = {}
                        in_835 = True
                        st_seg = seg
                        st_index = seg.index
                        header = {}
                        payment = None
                        claim = None
                        line = None
                        tx_problems = []
                        plbs = []
                        n_claims = 0
                        claims_paid = ZERO
                        n1 = ""
                    else:
                        self._problem(
                            self.problems,
                            seg,
                            "not_an_835",
                            f"transaction set {seg.get(1)[:6]!r} is not an 835; skipped",
                            element="ST01",
                        )
                elif tag == "GS" and seg.get(1) not in ("HP", ""):
                    self._problem(
                        self.problems,
                        seg,
                        "gs_not_hp",
                        f"GS01 is {seg.get(1)[:4]!r}, not HP (health care claim payment)",
                        element="GS01",
                        severity="warning",
                    )
                continue

            # ---- inside an 835 transaction set; most frequent tags first
            if tag == "DTM":
                qual = el[0] if el else ""
                text = el[1] if len(el) > 1 else ""
                day = dates.get(text) if text else None
                if day is None and text:
                    day = self._dtm(seg, claim, tx_problems)
                if line is not None:
                    if qual == "472" or qual == "150":
                        line.svc_from = day
                    elif qual == "151":
                        line.svc_to = day
                elif claim is not None:
                    if qual == "232":
                        claim.stmt_from = day
                    elif qual == "233":
                        claim.stmt_to = day
                    elif qual == "050":
                        claim.received = day
                elif qual == "405":
                    header["production_date"] = day
            elif tag == "CAS":
                target = line if line is not None else claim
                if target is None:
                    self._problem(tx_problems, seg, "cas_outside_claim", "CAS before any CLP")
                    continue
                if len(el) == 3 and el[0] in GROUPS and (el[1] in carcs or carc_ok(el[1])):
                    # the common case: one well-formed triplet
                    value = decs.get(el[2])
                    if value is None:
                        value = _decimal(el[2])
                    if value is not None:
                        target.adjustments.append(
                            new_adjustment(el[0], el[1], value, None, seg[2], 1)
                        )
                    else:
                        target.adjustments.extend(self._cas(seg, claim.problems, claim.pcn))  # type: ignore[union-attr]
                else:
                    target.adjustments.extend(self._cas(seg, claim.problems, claim.pcn))  # type: ignore[union-attr]
            elif tag == "NM1" or tag == "QTY" or tag == "PER" or tag == "N3" or tag == "N4":
                continue  # names and addresses are PHI or not needed
            elif tag == "REF":
                qual = el[0] if el else ""
                value = el[1] if len(el) > 1 else ""
                if line is not None:
                    if qual == "6R":
                        line.control = value or None
                elif claim is not None:
                    if qual == "F8":
                        claim.f8 = value or None
                    elif qual == "G1" or qual == "BB":
                        claim.auth = value or None
                elif qual == "2U" and n1 == "PR":
                    header["payer_ref"] = value
            elif tag == "SVC":
                if claim is None:
                    self._problem(tx_problems, seg, "svc_outside_claim", "SVC before any CLP")
                    continue
                if line is not None:
                    claim.lines.append(line.freeze())
                probs = claim.problems
                line = _Line(len(claim.lines) + 1, seg.index)
                svc01 = el[0] if el else ""
                procedure = procedures.get(svc01)
                if procedure is None:
                    parts = svc01.split(comp) if el else ()
                    if len(parts) > 1 and parts[1]:
                        procedure = new_procedure(
                            parts[0],
                            parts[1],
                            tuple(m for m in parts[2:6] if m) if len(parts) > 2 else (),
                        )
                        if len(procedures) < 4096:
                            procedures[svc01] = procedure
                    else:
                        procedure = self._procedure(seg, 1, probs, claim.pcn)
                line.procedure = procedure
                n_el = len(el)
                text = el[1] if n_el > 1 else ""
                charge = decs.get(text)
                if charge is None:
                    charge = amount(seg, 2, probs, claim.pcn)
                text = el[2] if n_el > 2 else ""
                paid = decs.get(text)
                if paid is None:
                    paid = amount(seg, 3, probs, claim.pcn)
                line.charge = ZERO if charge is None else charge
                line.paid = ZERO if paid is None else paid
                elements = el
                if n_el > 3:
                    line.revenue = elements[3] or None
                    if len(elements) > 4 and elements[4]:
                        units = decs.get(elements[4])
                        if units is None:
                            units = amount(seg, 5, probs, claim.pcn, required=False)
                        line.units = units
                    if len(elements) > 5 and elements[5]:
                        line.original = self._procedure(seg, 6, probs, claim.pcn)
                    if len(elements) > 6 and elements[6]:
                        line.original_units = amount(seg, 7, probs, claim.pcn, required=False)
            elif tag == "CLP":
                if claim is not None:
                    n_claims += 1
                    yield finish_claim()
                if payment is None:
                    payment = make_payment(seg)
                claim = _Claim(seg.index)
                line = None
                f = el + _PAD if len(el) < 9 else el
                pcn = f[0]
                claim.pcn = pcn
                probs = claim.problems
                if not pcn:
                    self._problem(
                        probs,
                        seg,
                        "clp01_missing",
                        "CLP01 (patient control number) is empty",
                        element="CLP01",
                    )
                claim.status = f[1]
                if not claim.status:
                    self._problem(
                        probs,
                        seg,
                        "clp02_missing",
                        "CLP02 (claim status) is empty",
                        element="CLP02",
                        claim=pcn,
                    )
                text = f[2]
                charge = decs.get(text)
                if charge is None:
                    charge = amount(seg, 3, probs, pcn)
                text = f[3]
                paid = decs.get(text)
                if paid is None:
                    paid = amount(seg, 4, probs, pcn)
                claim.charge = ZERO if charge is None else charge
                claim.paid = ZERO if paid is None else paid
                claims_paid += claim.paid
                text = f[4]
                pr = decs.get(text) if text else None
                if pr is None and text:
                    pr = amount(seg, 5, probs, pcn)
                claim.pr = pr
                claim.filing = f[5]
                claim.icn = f[6]
                claim.facility = f[7]
                claim.frequency = f[8]
            elif tag == "AMT":
                if line is not None and el and el[0] == "B6":
                    allowed = decs.get(el[1]) if len(el) > 1 else None
                    if allowed is None:
                        allowed = amount(seg, 2, claim.problems, claim.pcn)  # type: ignore[union-attr]
                    line.allowed = allowed
            elif tag == "LQ":
                if line is not None and el and el[0] == "HE":
                    if len(el) == 2 and rarc_ok(el[1]):
                        line.rarcs.append(el[1])
                    else:
                        line.rarcs.extend(self._rarcs(seg, (2,), claim.problems, claim.pcn))  # type: ignore[union-attr]
            elif tag == "MOA":
                if claim is not None:
                    claim.rarcs.extend(self._rarcs(seg, (3, 4, 5, 6, 7), claim.problems, claim.pcn))
            elif tag == "MIA":
                if claim is not None:
                    claim.rarcs.extend(
                        self._rarcs(seg, (5, 20, 21, 22, 23), claim.problems, claim.pcn)
                    )
            elif tag == "LX" or tag == "TS3" or tag == "TS2":
                if claim is not None:
                    n_claims += 1
                    yield finish_claim()
                    claim = None
                if payment is None:
                    payment = make_payment(seg)
            elif tag == "PLB":
                if claim is not None:
                    n_claims += 1
                    yield finish_claim()
                    claim = None
                if payment is None:
                    payment = make_payment(seg)
                plbs.extend(self._plb(seg, tx_problems))
            elif tag == "SE":
                if claim is not None:
                    n_claims += 1
                    yield finish_claim()
                    claim = None
                counted = seg.index - st_index + 1
                declared = seg.get(1)
                if declared != str(counted):
                    self._problem(
                        tx_problems,
                        seg,
                        "se_count_mismatch",
                        f"SE01 says {declared[:8]!r} segments, counted {counted}",
                        element="SE01",
                        severity="warning",
                    )
                if st_seg is not None and seg.get(2) != st_seg.get(2):
                    self._problem(
                        tx_problems,
                        seg,
                        "se_control_mismatch",
                        f"SE02 {seg.get(2)[:9]!r} differs from ST02 {st_seg.get(2)[:9]!r}",
                        element="SE02",
                        severity="warning",
                    )
                yield finish_transaction(seg, counted)
                in_835 = False
            elif tag == "BPR":
                header["BPR"] = True
                header["handling"] = seg.get(1)
                bpr02 = amount(seg, 2, tx_problems, None)
                header["amount"] = ZERO if bpr02 is None else bpr02
                header["credit_debit"] = seg.get(3)
                header["method"] = seg.get(4)
                header["paid_on"] = self._dtm(seg, None, tx_problems, element=16)
            elif tag == "TRN":
                header["trace"] = seg.get(2)
                header["trace_payer"] = seg.get(3)
            elif tag == "N1":
                n1 = seg.get(1)
                if n1 == "PR":
                    header["payer_name"] = seg.get(2)
                    header["payer_id"] = seg.get(4)
                elif n1 == "PE":
                    header["payee_name"] = seg.get(2)
                    header["payee_id"] = seg.get(4)
            elif tag in ("ST", "GS", "GE", "ISA", "IEA"):
                self._problem(
                    tx_problems,
                    seg,
                    "se_missing",
                    f"{tag} inside an 835 transaction set: its SE is missing",
                    severity="error",
                )
                if claim is not None:
                    n_claims += 1
                    yield finish_claim()
                    claim = None
                yield finish_transaction(seg, seg.index - st_index)
                in_835 = False
                if tag == "ST" and seg.get(1) == "835":
                    comp = seg.delimiters.component
                    procedures = {}
                    in_835 = True
                    st_seg = seg
                    st_index = seg.index
                    header = {}
                    payment = None
                    line = None
                    tx_problems = []
                    plbs = []
                    n_claims = 0
                    claims_paid = ZERO
                    n1 = ""
            # other segments (CUR, RDM, QTY…) carry nothing the remit stage uses
        if in_835:
            if claim is not None:
                n_claims += 1
                yield finish_claim()
            tx_problems.append(
                Problem(
                    "se_missing",
                    "file ended inside an 835 transaction set (no SE)",
                    Where(file=name, segment_id="ST", segment_index=st_index),
                )
            )
            yield finish_transaction(None, 0)

    def _dtm(
        self,
        seg: Segment,
        claim: _Claim | None,
        sink: list[Problem] | None = None,
        *,
        element: int = 2,
    ) -> date | None:
        elements = seg.elements
        text = elements[element - 1] if element <= len(elements) else ""
        if not text:
            return None
        value = _DATES.get(text) or _date(text)
        if value is None:
            self._problem(
                claim.problems
                if claim is not None
                else (sink if sink is not None else self.problems),
                seg,
                "date_invalid",
                f"{seg.tag}{element:02d} {text[:10]!r} is not a CCYYMMDD date",
                element=f"{seg.tag}{element:02d}",
                claim=claim.pcn if claim is not None else None,
            )
        return value

    def _plb(self, seg: Segment, sink: list[Problem]) -> list[ProviderAdjustment]:
        provider = seg.get(1)
        period = self._dtm(seg, None, sink, element=2)
        out = []
        for position, n in enumerate(range(3, 15, 2), start=1):
            ident = seg.get(n)
            amount_text = seg.get(n + 1)
            if not ident and not amount_text:
                continue
            el = f"PLB{n:02d}"
            comps = ident.split(seg.delimiters.component) if ident else [""]
            reason = comps[0]
            reference = comps[1] if len(comps) > 1 else ""
            if not amount_text:
                self._problem(
                    sink,
                    seg,
                    "plb_amount_missing",
                    f"PLB{n + 1:02d} is empty after {el}"
                    + (" (the amount may be inside the composite)" if len(comps) > 2 else "")
                    + "; this adjustment is left out",
                    element=f"PLB{n + 1:02d}",
                )
                continue
            amount = self._amount(seg, n + 1, sink, None)
            if amount is None:
                continue
            if reason not in PLB_REASONS:
                self._problem(
                    sink,
                    seg,
                    "plb_reason_invalid",
                    f"{el}-1 {reason[:12]!r} is not a PLB adjustment reason code; "
                    "amount kept as an unknown provider adjustment",
                    element=el,
                )
            out.append(
                ProviderAdjustment(provider, period, reason, reference, amount, seg.index, position)
            )
        return out


def read_remit(
    source: str | os.PathLike[str] | BinaryIO | bytes, *, name: str | None = None
) -> tuple[list[RemitClaim], list[RemitTransaction], list[Problem]]:
    """All claims, transactions and file-level problems of a small 835 at once (tests, tools)."""
    reader = RemitReader(source, name=name)
    claims: list[RemitClaim] = []
    txs: list[RemitTransaction] = []
    for event in reader:
        (claims if isinstance(event, RemitClaim) else txs).append(event)  # type: ignore[arg-type]
    return claims, txs, reader.problems
