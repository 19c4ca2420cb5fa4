"""Claims → a 005010X222A1 837P interchange (pure: no I/O, no clock, no ledger).

Everything that varies between runs comes in as values: the claims (coded, scrubbed, each line
already carrying its line control number from the ledger), the practice, the payers map, the
control numbers (ISA13/GS06 taken from the ledger) and ``now``. The result is the interchange
text plus, for every claim and line, the segment positions inside its transaction set (ST = 1),
which the ledger records so that a 999's IK3 position leads back to a claim and a line.

Loops written, in TR3 order: ISA/GS/ST/BHT; 1000A submitter and 1000B receiver; 2000A billing
provider (PRV*BI) with 2010AA (NPI, physical address, 9-digit ZIP, REF*EI) and 2010AB pay-to
when configured; then per claim a 2000B subscriber HL with SBR (SBR09 from the payer map),
2010BA subscriber and 2010BB payer; a 2000C/2010CA patient loop only when the patient is not the
subscriber; 2300 CLM (POS, frequency 1/7/8), REF*G1 prior authorization, REF*F8 payer claim
number for 7/8, HI (ABK/ABF, no dots); 2310B rendering provider; 2400 LX, SV1, DTP*472, REF*6R,
NTE*ADD (JW lines); 2410 LIN**N4 and CTP quantity and unit. One 2000B per claim keeps a
claim's segments contiguous, so its position range is one interval.

Free text from encounters (names, addresses, notes) is upper-cased, folded to ASCII and has the
delimiters replaced by spaces; codes are checked by ``claim_problems`` before building, so the
writer's refusal of a delimiter can only mean a bug.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from edi_pipeline.codes import icd10_strip, npi_is_valid
from edi_pipeline.errors import BuildError
from edi_pipeline.models import Address, Claim, Problem, ServiceLine, Where
from edi_pipeline.practice import Practice, Receiver
from edi_pipeline.x12.reader import Delimiters
from edi_pipeline.x12.writer import SegmentSpec, X12Writer, seg, x12_number

GUIDE = "005010X222A1"
MAX_LINES = 50  # 2400 repeat
MAX_DIAGNOSES = 12  # HI01..HI12
RELATIONSHIP = {"spouse": "01", "child": "19", "other": "G8"}  # PAT01
PRIORITY = {"primary": "P", "secondary": "S"}  # SBR01
DELIMITERS = Delimiters("*", ":", "^", "~")

_PROCEDURE = re.compile(r"[A-Z0-9]{5}")
_MODIFIER = re.compile(r"[A-Z0-9]{2}")
_NDC = re.compile(r"\d{11}")
_CONTROL = re.compile(r"[A-Za-z0-9]{1,50}")
_CLM01 = re.compile(r"[A-Za-z0-9-]{1,38}")  # the encounter id as the input contract allows it
_FOLD = str.maketrans({c: " " for c in "*:^~\r\n\t"})


@dataclass(frozen=True, slots=True)
class LineSpan:
    line_number: int  # LX01
    line_control_number: str  # REF*6R
    first_segment: int  # LX, position in the ST (ST = 1)
    last_segment: int  # the line's last segment (CTP, NTE or REF*6R)


@dataclass(frozen=True, slots=True)
class ClaimSpan:
    index: int  # position of the claim in the list given to build_interchange
    encounter_id: str
    frequency: str
    st02: str
    first_segment: int  # the claim's 2000B HL, position in its ST
    last_segment: int
    file_first: int  # the same range as 1-based segment ordinals in the file
    file_last: int
    lines: tuple[LineSpan, ...]


@dataclass(frozen=True, slots=True)
class BuiltInterchange:
    text: str
    sender: str  # ISA06, trimmed
    receiver: str  # ISA08, trimmed
    isa13: str  # nine digits
    gs06: str
    usage: str
    st02s: tuple[str, ...]
    claims: tuple[ClaimSpan, ...]
    segment_count: int


# ------------------------------------------------------------------ formatting


class _Writer(X12Writer):
    """The foundation writer with a fast path for the values this module produces.

    A claim is ~30 segments and ~120 elements; the generic checks (a location string and a set
    intersection per element) made rendering most of the build time. Plain text elements and
    all-text composites are checked here with one regular expression for the delimiters and
    control characters; anything else, and any value that fails, takes the writer's own path,
    which raises its usual error naming the element.
    """

    __slots__ = ("_forbidden", "_rendered")

    def __post_init__(self) -> None:
        X12Writer.__post_init__(self)
        chars = re.escape("".join(sorted(self.delimiters.all())))
        self._forbidden = re.compile(f"[{chars}\\x00-\\x1f\\x7f-\\x9f]")
        self._rendered: dict[SegmentSpec, str] = {}

    def render(self, spec: SegmentSpec) -> str:
        """Segments repeat across claims (LX*1, DTP*472 of one day, the payer's NM1, SV1 of
        the same service…): each distinct one is rendered once per interchange."""
        text = self._rendered.get(spec)
        if text is None:
            text = X12Writer.render(self, spec)
            if len(self._rendered) < 100_000:
                self._rendered[spec] = text
        return text

    def element(self, tag: str, n: int, value: Any) -> str:
        kind = type(value)
        if kind is str:
            if self._forbidden.search(value) is None:
                return value
        elif kind is tuple and all(type(p) is str and not self._forbidden.search(p) for p in value):
            parts = list(value)
            while parts and parts[-1] == "":
                parts.pop()
            return self.delimiters.component.join(parts)
        elif value is None:
            return ""
        return X12Writer.element(self, tag, n, value)


def text(value: str | None, limit: int) -> str:
    """Free text as an element: ASCII upper case, no delimiters, single spaces, at most
    ``limit`` characters."""
    if not value:
        return ""
    if not value.isascii():
        value = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    return " ".join(value.translate(_FOLD).upper().split())[:limit].rstrip()


def number(value: Decimal) -> str:
    """An X12 R value: no exponent, no trailing zeros (``230.50`` → ``230.5``)."""
    return x12_number(value)


def amount(value: Decimal) -> str:
    return number(value.quantize(Decimal("0.01")))


def d8(day: date) -> str:
    return day.strftime("%Y%m%d")


def isa13_text(isa13: int) -> str:
    return f"{isa13:09d}"


# ------------------------------------------------------------------ checks


def claim_problems(
    claim: Claim,
    practice: Practice,
    payers: Mapping[str, Any],
    *,
    numbered: bool = True,
) -> list[Problem]:
    """What would make this claim unbuildable or invalid, found before any segment is written.

    pyx12 catches structure and code lists; these are the rules it does not check (SNIP 3+)
    plus the shapes that would otherwise break the writer. Messages name fields, never patient
    values. ``numbered=False`` checks a claim whose line control numbers the ledger has not
    assigned yet.
    """
    where = Where(encounter_id=claim.encounter_id, claim_id=claim.encounter_id)
    out: list[Problem] = []

    def bad(code: str, message: str, **loc: Any) -> None:
        from dataclasses import replace

        out.append(Problem(code, message, replace(where, **loc)))

    if not _CLM01.fullmatch(claim.encounter_id):
        bad(
            "clm01_shape", "CLM01 (encounter_id) must be 1-38 letters, digits or '-'", field="CLM01"
        )
    if claim.payer_id not in payers:
        bad("unknown_payer", f"payer {claim.payer_id!r} is not in maps/payers", field="payer_id")
    try:
        practice.receiver_for(claim.payer_id)
    except Exception as exc:  # SettingsError: the practice has no receiver for it
        bad("no_receiver", str(exc), field="payer_id")
    if not claim.lines:
        bad("no_lines", "a claim needs at least one service line", loop="2400")
    if len(claim.lines) > MAX_LINES:
        bad("too_many_lines", f"at most {MAX_LINES} lines per claim (got {len(claim.lines)})")
    if not 1 <= len(claim.diagnoses) <= MAX_DIAGNOSES:
        bad("diagnosis_count", f"1 to {MAX_DIAGNOSES} diagnoses (got {len(claim.diagnoses)})")
    if claim.frequency in ("7", "8") and not claim.payer_claim_number:
        bad("f8_missing", f"frequency {claim.frequency} needs the payer claim number (REF*F8)")
    if claim.frequency not in ("1", "7", "8"):
        bad("frequency", f"CLM05-3 must be 1, 7 or 8 (got {claim.frequency!r})")
    if not re.fullmatch(r"\d{2}", claim.place_of_service):
        bad("pos", f"place of service must be 2 digits (got {claim.place_of_service!r})")
    if not npi_is_valid(claim.encounter.rendering_provider.npi):
        bad("rendering_npi", "rendering provider NPI fails the check digit", loop="2310B")
    coverage = claim.encounter.coverage
    if coverage.relationship != "self" and coverage.subscriber is None:
        bad("subscriber_missing", "relationship is not self but no subscriber is given")
    for ref, value in (("G1", claim.prior_authorization), ("F8", claim.payer_claim_number)):
        if value is not None and (not value.strip() or set(value) & DELIMITERS.all()):
            bad("ref_shape", f"REF*{ref} must be non-empty without X12 delimiters", field=ref)
    for n, line in enumerate(claim.lines, start=1):
        out.extend(_line_problems(line, n, len(claim.diagnoses), where, numbered))
    lcns = [ln.line_control_number for ln in claim.lines]
    if numbered and len(set(lcns)) != len(lcns):
        bad("lcn_duplicate", "two lines share a line control number (REF*6R)")
    return out


def _line_problems(
    line: ServiceLine, n: int, n_dx: int, where: Where, numbered: bool
) -> list[Problem]:
    from dataclasses import replace

    w = replace(where, line=n, loop="2400")
    out: list[Problem] = []

    def bad(code: str, message: str) -> None:
        out.append(Problem(code, f"line {n}: {message}", w))

    if not _PROCEDURE.fullmatch(line.procedure):
        bad("procedure_shape", f"procedure must be 5 letters/digits (got {line.procedure!r})")
    if len(line.modifiers) > 4 or not all(_MODIFIER.fullmatch(m) for m in line.modifiers):
        bad("modifier_shape", f"up to 4 two-character modifiers (got {list(line.modifiers)})")
    if line.units <= 0:
        bad("units", f"units must be > 0 (got {line.units})")
    if line.charge < 0:
        bad("charge", f"charge must be >= 0 (got {line.charge})")
    ptrs = line.diagnosis_pointers
    if not 1 <= len(ptrs) <= 4 or not all(1 <= p <= n_dx for p in ptrs):
        bad("pointers", f"1-4 diagnosis pointers within 1..{n_dx} (got {list(ptrs)})")
    lcn = line.line_control_number
    if numbered and (lcn is None or not _CONTROL.fullmatch(lcn)):
        bad("lcn", "line control number (REF*6R) missing or not alphanumeric")
    if line.ndc is not None:
        if not _NDC.fullmatch(line.ndc):
            bad("ndc_shape", f"NDC must be 11 digits (got {line.ndc!r})")
        if line.ndc_quantity is None or line.ndc_quantity <= 0 or line.ndc_unit is None:
            bad("ndc_quantity", "an NDC needs a quantity > 0 and a unit (CTP04, CTP05)")
    return out


# ------------------------------------------------------------------ segments


def _address(address: Address) -> list[SegmentSpec]:
    n3 = seg("N3", text(address.line1, 55), text(address.line2, 55) or None)
    n4 = seg("N4", text(address.city, 30), address.state.upper(), address.zip.replace("-", ""))
    return [n3, n4]


def _nm1(
    entity: str, last: str, first: str | None, qualifier: str | None, ident: str | None
) -> SegmentSpec:
    """A person's NM1 (NM102 = 1): names as text, then the id qualifier and id when given."""
    return seg(
        "NM1",
        entity,
        "1",
        text(last, 60),
        text(first, 35) or None,
        None,
        None,
        None,
        qualifier,
        text(ident, 80) if ident else None,
    )


def _header(practice: Practice, receiver: Receiver, bht03: str, now: datetime) -> list[SegmentSpec]:
    sub, bp = practice.submitter, practice.billing_provider
    per: list[str | None] = ["IC", text(sub.contact_name, 60)]
    if sub.contact_phone:
        per += ["TE", sub.contact_phone]
    if sub.contact_email:
        per += ["EM", sub.contact_email]
    if bp.is_organization:
        nm85 = seg("NM1", "85", "2", text(bp.organization_name, 60), None, None, None, None)
    else:
        nm85 = seg(
            "NM1", "85", "1", text(bp.last_name, 60), text(bp.first_name, 35), None, None, None
        )
    out = [
        seg("BHT", "0019", "00", bht03, d8(now.date()), now.strftime("%H%M"), "CH"),
        seg("NM1", "41", "2", text(sub.name, 60), None, None, None, None, "46", sub.id),
        seg("PER", *per),
        seg("NM1", "40", "2", text(receiver.name, 60), None, None, None, None, "46", receiver.id),
        seg("HL", "1", None, "20", "1"),
        seg("PRV", "BI", "PXC", bp.taxonomy),
        SegmentSpec(nm85.tag, (*nm85.elements, "XX", bp.npi)),
        *_address(bp.address),
        seg("REF", "EI", bp.ein),
    ]
    if practice.pay_to is not None:
        out += [seg("NM1", "87", "2"), *_address(practice.pay_to)]
    return out


def _claim_segments(
    claim: Claim, practice: Practice, payers: Mapping[str, Any], hl: int, cache: dict[Any, Any]
) -> tuple[list[SegmentSpec], list[tuple[int, int, str]]]:
    """The claim's segments from its 2000B HL on, and each line's (first, last, lcn) offsets
    relative to the claim's first segment."""
    enc = claim.encounter
    cov = enc.coverage
    payer = payers[claim.payer_id]
    patient_is_subscriber = cov.relationship == "self"
    subscriber = enc.patient if patient_is_subscriber else cov.subscriber
    assert subscriber is not None  # claim_problems refuses the claim otherwise
    out: list[SegmentSpec] = [
        seg("HL", str(hl), "1", "22", "0" if patient_is_subscriber else "1"),
        seg(
            "SBR",
            PRIORITY[cov.priority],
            "18" if patient_is_subscriber else None,
            text(cov.group_number, 50) or None,
            None,
            None,
            None,
            None,
            None,
            payer.claim_filing_indicator,
        ),
        _nm1("IL", subscriber.last_name, subscriber.first_name, "MI", cov.member_id),
        *_address(subscriber.address),
        seg("DMG", "D8", d8(subscriber.birth_date), subscriber.sex),
        _cached(cache, ("PR", claim.payer_id), lambda: _payer_name(payer)),
    ]
    if not patient_is_subscriber:
        out += [
            seg("HL", str(hl + 1), str(hl), "23", "0"),
            seg("PAT", RELATIONSHIP[cov.relationship]),
            _nm1("QC", enc.patient.last_name, enc.patient.first_name, None, None),
            *_address(enc.patient.address),
            seg("DMG", "D8", d8(enc.patient.birth_date), enc.patient.sex),
        ]
    c = practice.claim
    out.append(
        seg(
            "CLM",
            claim.encounter_id,
            amount(claim.total_charge),
            None,
            None,
            (claim.place_of_service, "B", claim.frequency),
            c.provider_signature,
            c.assignment,
            c.benefits_assignment,
            c.release_of_information,
        )
    )
    if claim.prior_authorization:
        out.append(seg("REF", "G1", text(claim.prior_authorization, 50)))
    if claim.frequency in ("7", "8") and claim.payer_claim_number:
        out.append(seg("REF", "F8", text(claim.payer_claim_number, 50)))
    dx = [icd10_strip(d) for d in claim.diagnoses]
    out.append(seg("HI", ("ABK", dx[0]), *(("ABF", d) for d in dx[1:])))
    bp = practice.billing_provider
    rendering = enc.rendering_provider
    if bp.is_organization or rendering.npi != bp.npi:
        out += _cached(
            cache,
            ("82", rendering.npi, rendering.last_name, rendering.first_name),
            lambda: [
                _nm1("82", rendering.last_name, rendering.first_name, "XX", rendering.npi),
                seg("PRV", "PE", "PXC", c.rendering_taxonomy or bp.taxonomy),
            ],
        )
    spans: list[tuple[int, int, str]] = []
    dos = d8(claim.date_of_service)
    for n, line in enumerate(claim.lines, start=1):
        first = len(out)
        out += _line_segments(line, n, dos)
        spans.append((first, len(out) - 1, line.line_control_number or ""))
    return out, spans


def _payer_name(payer: Any) -> SegmentSpec:
    return seg("NM1", "PR", "2", text(payer.name, 60), None, None, None, None, "PI", payer.payer_id)


def _cached(cache: dict[Any, Any], key: Any, make: Any) -> Any:
    """Segments that repeat across claims (payer, rendering provider) are made once per file."""
    found = cache.get(key)
    if found is None:
        found = cache[key] = make()
    return found


def _line_segments(line: ServiceLine, n: int, dos: str) -> list[SegmentSpec]:
    out = [
        seg("LX", str(n)),
        seg(
            "SV1",
            ("HC", line.procedure, *line.modifiers),
            amount(line.charge),
            "UN",
            number(line.units),
            None,
            None,
            tuple(str(p) for p in line.diagnosis_pointers),
        ),
        seg("DTP", "472", "D8", dos),
        seg("REF", "6R", line.line_control_number),
    ]
    if line.note:
        out.append(seg("NTE", "ADD", text(line.note, 80)))
    if line.ndc:
        assert line.ndc_quantity is not None and line.ndc_unit is not None
        out.append(seg("LIN", None, "N4", line.ndc))
        out.append(seg("CTP", None, None, None, number(line.ndc_quantity), (line.ndc_unit,)))
    return out


# ------------------------------------------------------------------ interchange


def build_interchange(
    claims: Sequence[Claim],
    practice: Practice,
    receiver: Receiver,
    payers: Mapping[str, Any],
    *,
    isa13: int,
    gs06: int,
    now: datetime,
    check: bool = True,
) -> BuiltInterchange:
    """One interchange for one receiver: one GS, one ST per ``claims_per_transaction`` claims.

    Raises ``BuildError`` naming the claim when a claim has problems (``claim_problems``):
    callers check first and leave such claims out (``check=False`` skips checking again).
    """
    if not claims:
        raise BuildError("an interchange needs at least one claim", code="build_empty")
    for claim in claims if check else ():
        problems = claim_problems(claim, practice, payers)
        if problems:
            raise BuildError(
                "; ".join(p.message for p in problems),
                where=problems[0].where,
                code="build_claim_invalid",
            )
    writer = _Writer(DELIMITERS, practice.line_ending)
    sub = practice.submitter
    control = isa13_text(isa13)
    isa = seg(
        "ISA",
        "00",
        "",
        "00",
        "",
        sub.id_qualifier,
        sub.id,
        receiver.id_qualifier,
        receiver.id,
        now.strftime("%y%m%d"),
        now.strftime("%H%M"),
        None,
        "00501",
        control,
        "1" if receiver.ack_requested else "0",
        practice.usage,
        None,
    )
    gs = seg(
        "GS",
        "HC",
        sub.id,
        receiver.application_id,
        d8(now.date()),
        now.strftime("%H%M"),
        str(gs06),
        "X",
        GUIDE,
    )
    parts = [writer.render(isa), writer.render(gs)]
    position = 2  # segments written so far in the file
    per = practice.claims_per_transaction
    cache: dict[Any, Any] = {}
    spans: list[ClaimSpan] = []
    st02s: list[str] = []
    for t, start in enumerate(range(0, len(claims), per), start=1):
        st02 = f"{t:04d}"
        st02s.append(st02)
        body = _header(practice, receiver, f"{control}{st02}", now)
        hl = 2
        for index in range(start, min(start + per, len(claims))):
            claim = claims[index]
            segs, line_spans = _claim_segments(claim, practice, payers, hl, cache)
            hl += 1 if claim.encounter.coverage.relationship == "self" else 2
            first = len(body) + 2  # ST is position 1, the body starts at 2
            body += segs
            spans.append(
                ClaimSpan(
                    index=index,
                    encounter_id=claim.encounter_id,
                    frequency=claim.frequency,
                    st02=st02,
                    first_segment=first,
                    last_segment=first + len(segs) - 1,
                    file_first=position + first,
                    file_last=position + first + len(segs) - 1,
                    lines=tuple(
                        LineSpan(n, lcn, first + a, first + b)
                        for n, (a, b, lcn) in enumerate(line_spans, start=1)
                    ),
                )
            )
        parts.append(writer.render(seg("ST", "837", st02, GUIDE)))
        parts.append(writer.render_all(body))
        parts.append(writer.render(seg("SE", str(len(body) + 2), st02)))
        position += len(body) + 2
    parts.append(writer.render(seg("GE", str(len(st02s)), str(gs06))))
    parts.append(writer.render(seg("IEA", "1", control)))
    return BuiltInterchange(
        text="".join(parts),
        sender=sub.id,
        receiver=receiver.id,
        isa13=control,
        gs06=str(gs06),
        usage=practice.usage,
        st02s=tuple(st02s),
        claims=tuple(spans),
        segment_count=position + 2,
    )
