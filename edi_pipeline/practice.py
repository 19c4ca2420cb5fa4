"""The practice configuration: who submits, to whom, and who bills (a TOML file).

Everything the 837P needs that is not in an encounter: the submitter (ISA06/GS02/1000A) and
each receiver (ISA08/GS03/1000B, one interchange per receiver per run), the billing provider
(2010AA: NPI, EIN, taxonomy and a *physical* address with a 9-digit ZIP; no PO box, as
X222A1 requires), the pay-to address when remittances go elsewhere (2010AB, where a PO box may
go), the usage indicator (ISA15, ``T`` until the partner says otherwise) and how many claims go
in one transaction set (5000 by default, the TR3's recommended ceiling).

The file is checked like a map (``maps.schema``): every problem is collected with its table and
field, unknown keys are errors (a misspelt key would silently fall back to a default), and one
``SettingsError`` lists them all. The bundled demo practice (all identifiers fake) lives in
``fixtures/demo/practice.toml``, shipped in the wheel as ``edi_pipeline/_data/demo``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from edi_pipeline.codes import npi_is_valid
from edi_pipeline.errors import SettingsError
from edi_pipeline.maps.schema import Field, Problems, check_row
from edi_pipeline.models import Address

ISA_QUALIFIERS = frozenset({"01", "14", "20", "27", "28", "29", "30", "33", "ZZ"})
MAX_CLAIMS_PER_TRANSACTION = 5000
LINE_ENDINGS = {"none": "", "lf": "\n", "crlf": "\r\n"}

_ID = r"[A-Z0-9][A-Z0-9 ]{1,14}"  # ISA06/ISA08: 2-15 characters, upper case, no delimiters
_TEXT = r"[^*:^~]+"  # free text that will be written into an element: no X12 delimiter
_PO_BOX = re.compile(
    r"\b(P\s*\.?\s*O\s*\.?\s*BOX|POST\s+OFFICE\s+BOX|POB|LOCK\s*BOX|LOCKBOX)\b", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class Submitter:
    id: str  # ISA06, GS02, 1000A NM109
    id_qualifier: str  # ISA05
    name: str  # 1000A NM103
    contact_name: str  # PER02
    contact_phone: str | None  # PER*TE
    contact_email: str | None  # PER*EM


@dataclass(frozen=True, slots=True)
class Receiver:
    key: str
    id: str  # ISA08, 1000B NM109
    id_qualifier: str  # ISA07
    name: str  # 1000B NM103
    application_id: str  # GS03 (defaults to id)
    payers: tuple[str, ...]  # payer keys routed here; ("*",) takes every other payer
    ack_requested: bool  # ISA14: ask for a TA1


@dataclass(frozen=True, slots=True)
class BillingProvider:
    npi: str
    ein: str  # 9 digits, no hyphen (REF*EI)
    taxonomy: str  # PRV*BI*PXC
    address: Address  # physical, 9-digit ZIP
    organization_name: str | None = None  # NM102 = 2
    last_name: str | None = None  # NM102 = 1 (a solo practitioner billing under an NPI)
    first_name: str | None = None

    @property
    def is_organization(self) -> bool:
        return self.organization_name is not None


@dataclass(frozen=True, slots=True)
class ClaimDefaults:
    """CLM06–CLM09 and the rendering taxonomy: what the practice attests on every claim."""

    provider_signature: str = "Y"  # CLM06
    assignment: str = "A"  # CLM07
    benefits_assignment: str = "Y"  # CLM08
    release_of_information: str = "Y"  # CLM09
    rendering_taxonomy: str | None = None  # 2310B PRV*PE (default: the billing taxonomy)


@dataclass(frozen=True, slots=True)
class Practice:
    key: str  # the practice's key in the ledger
    name: str
    submitter: Submitter
    receivers: tuple[Receiver, ...]
    billing_provider: BillingProvider
    pay_to: Address | None
    usage: str  # ISA15: T or P
    claims_per_transaction: int
    line_ending: str  # written after each segment terminator ("" = none)
    claim: ClaimDefaults
    ledger: str | None  # a ledger path or URL, when the configuration names one
    source: str  # the file it was read from, for messages

    def receiver_for(self, payer_key: str) -> Receiver:
        """The receiver a payer's claims go to: the one that lists it, else the ``*`` one."""
        for receiver in self.receivers:
            if payer_key in receiver.payers:
                return receiver
        for receiver in self.receivers:
            if "*" in receiver.payers:
                return receiver
        raise SettingsError(
            f"{self.source}: no receiver takes payer {payer_key!r} (list it in a receiver's "
            f'payers, or give one receiver payers = ["*"])',
            code="settings_no_receiver",
        )


# ------------------------------------------------------------------ schema

_TOP = (
    Field("key", pattern=r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"),
    Field("name", pattern=_TEXT),
    Field("usage", choices=frozenset({"T", "P"}), required=False, default="T"),
    Field("claims_per_transaction", "int", required=False, default=MAX_CLAIMS_PER_TRANSACTION),
    Field("line_ending", choices=frozenset(LINE_ENDINGS), required=False, default="lf"),
    Field("ledger", required=False),
    Field("submitter", "table"),
    Field("receiver", "any"),
    Field("billing_provider", "table"),
    Field("pay_to", "table", required=False),
    Field("claim", "table", required=False, default={}),
)
_SUBMITTER = (
    Field("id", pattern=_ID),
    Field("id_qualifier", choices=ISA_QUALIFIERS, required=False, default="ZZ"),
    Field("name", pattern=_TEXT),
    Field("contact_name", pattern=_TEXT),
    Field("contact_phone", pattern=r"\d{10,15}", required=False),
    Field("contact_email", pattern=r"[^*:^~\s]+@[^*:^~\s]+", required=False),
)
_RECEIVER = (
    Field("key", pattern=r"[a-z0-9][a-z0-9_-]*"),
    Field("id", pattern=_ID),
    Field("id_qualifier", choices=ISA_QUALIFIERS, required=False, default="ZZ"),
    Field("name", pattern=_TEXT),
    Field("application_id", pattern=r"[A-Z0-9][A-Z0-9 ]{1,14}", required=False),
    Field("payers", "list"),
    Field("ack_requested", "bool", required=False, default=True),
)
_BILLING = (
    Field("npi", pattern=r"\d{10}"),
    Field("ein", pattern=r"\d{9}"),
    Field("taxonomy", pattern=r"[0-9A-Z]{9}X"),
    Field("organization_name", pattern=_TEXT, required=False),
    Field("last_name", pattern=_TEXT, required=False),
    Field("first_name", pattern=_TEXT, required=False),
    Field("address", "table"),
)
_ADDRESS = (
    Field("line1", pattern=r"[^*:^~]{1,55}"),
    Field("line2", pattern=r"[^*:^~]{1,55}", required=False),
    Field("city", pattern=r"[^*:^~]{2,30}"),
    Field("state", pattern=r"[A-Z]{2}"),
    Field("zip", pattern=r"\d{5}|\d{9}"),
)
_CLAIM = (
    Field("provider_signature", choices=frozenset({"Y", "N"}), required=False, default="Y"),
    Field("assignment", choices=frozenset({"A", "B", "C"}), required=False, default="A"),
    Field("benefits_assignment", choices=frozenset({"Y", "N", "W"}), required=False, default="Y"),
    Field("release_of_information", choices=frozenset({"Y", "I"}), required=False, default="Y"),
    Field("rendering_taxonomy", pattern=r"[0-9A-Z]{9}X", required=False),
)


def _address(
    raw: Any, problems: Problems, file: str, scope: str, *, physical: bool
) -> Address | None:
    if not isinstance(raw, Mapping):
        problems.add(file, scope, None, "must be a table with line1, city, state, zip")
        return None
    row = check_row(raw, _ADDRESS, problems, file=file, scope=scope)
    if row is None:
        return None
    ok = True
    if physical:
        if len(row["zip"]) != 9:
            problems.add(file, scope, "zip", "must be 9 digits (ZIP+4) for the billing provider")
            ok = False
        for line in ("line1", "line2"):
            if row[line] and _PO_BOX.search(row[line]):
                problems.add(
                    file,
                    scope,
                    line,
                    "must be a physical street address, not a PO box or lock box "
                    "(put a PO box in [pay_to])",
                )
                ok = False
    if not ok:
        return None
    return Address(row["line1"], row["city"], row["state"], row["zip"], row["line2"])


def parse_practice(raw: Mapping[str, Any], source: str) -> Practice:
    """A ``Practice`` from parsed TOML, or one ``SettingsError`` listing every problem."""
    problems = Problems()
    file = source
    top = check_row(raw, _TOP, problems, file=file, scope="top level")
    # The sections are checked even when a top-level value is wrong: every problem at once.
    submitter = receivers = billing = None
    pay_to: Address | None = None
    claim = ClaimDefaults()
    s = _table(raw, "submitter", problems, file)
    s = s and check_row(s, _SUBMITTER, problems, file=file, scope="[submitter]")
    if s:
        if not (s["contact_phone"] or s["contact_email"]):
            problems.add(file, "[submitter]", "contact_phone", "give a phone or an email")
        else:
            submitter = Submitter(
                s["id"],
                s["id_qualifier"],
                s["name"],
                s["contact_name"],
                s["contact_phone"],
                s["contact_email"],
            )
    receivers = _receivers(raw.get("receiver"), problems, file)
    if (b := _table(raw, "billing_provider", problems, file)) is not None:
        billing = _billing(b, problems, file)
    if raw.get("pay_to") is not None:
        pay_to = _address(raw["pay_to"], problems, file, "[pay_to]", physical=False)
    c = check_row(raw.get("claim") or {}, _CLAIM, problems, file=file, scope="[claim]")
    if c is not None:
        claim = ClaimDefaults(**c)
    per = raw.get("claims_per_transaction", MAX_CLAIMS_PER_TRANSACTION)
    if type(per) is int and not 1 <= per <= MAX_CLAIMS_PER_TRANSACTION:
        problems.add(
            file,
            "top level",
            "claims_per_transaction",
            f"must be 1 to {MAX_CLAIMS_PER_TRANSACTION} (got {per})",
        )
    if problems or top is None or submitter is None or receivers is None or billing is None:
        raise SettingsError(
            "practice configuration is invalid:\n  " + "\n  ".join(problems),
            code="settings_practice",
        )
    return Practice(
        key=top["key"],
        name=top["name"],
        submitter=submitter,
        receivers=receivers,
        billing_provider=billing,
        pay_to=pay_to,
        usage=top["usage"],
        claims_per_transaction=top["claims_per_transaction"],
        line_ending=LINE_ENDINGS[top["line_ending"]],
        claim=claim,
        ledger=top["ledger"],
        source=source,
    )


def _table(raw: Mapping[str, Any], name: str, problems: Problems, file: str) -> Any:
    value = raw.get(name)
    if not isinstance(value, Mapping):
        problems.add(file, f"[{name}]", None, "is required (a table)")
        return None
    return value


def _receivers(raw: Any, problems: Problems, file: str) -> tuple[Receiver, ...] | None:
    if not isinstance(raw, list) or not raw:
        problems.add(file, "[[receiver]]", None, "at least one [[receiver]] table is required")
        return None
    out: list[Receiver] = []
    for n, item in enumerate(raw, start=1):
        scope = f"[[receiver]] #{n}"
        if not isinstance(item, Mapping):
            problems.add(file, scope, None, "must be a table")
            continue
        r = check_row(item, _RECEIVER, problems, file=file, scope=scope)
        if r is None:
            continue
        if not r["payers"]:
            problems.add(file, scope, "payers", 'list the payer keys, or ["*"] for every payer')
            continue
        out.append(
            Receiver(
                r["key"],
                r["id"],
                r["id_qualifier"],
                r["name"],
                r["application_id"] or r["id"],
                tuple(r["payers"]),
                r["ack_requested"],
            )
        )
    keys = [r.key for r in out]
    for key in sorted({k for k in keys if keys.count(k) > 1}):
        problems.add(file, "[[receiver]]", "key", f"{key!r} is used twice")
    seen: dict[str, str] = {}
    for receiver in out:
        for payer in receiver.payers:
            if payer in seen:
                problems.add(
                    file,
                    f"[[receiver]] {receiver.key}",
                    "payers",
                    f"{payer!r} is also routed to receiver {seen[payer]!r}",
                )
            seen[payer] = receiver.key
    return tuple(out) if len(out) == len(raw) else None


def _billing(raw: Any, problems: Problems, file: str) -> BillingProvider | None:
    scope = "[billing_provider]"
    b = check_row(raw, _BILLING, problems, file=file, scope=scope)
    if b is None:
        return None
    ok = True
    if not npi_is_valid(b["npi"]):
        problems.add(file, scope, "npi", "fails the NPI check digit (Luhn with prefix 80840)")
        ok = False
    person = b["last_name"] or b["first_name"]
    if bool(b["organization_name"]) == bool(person) or (person and not b["last_name"]):
        problems.add(
            file,
            scope,
            "organization_name",
            "give organization_name (a group) or last_name and first_name (one person), not both",
        )
        ok = False
    address = _address(b["address"], problems, file, f"{scope}.address", physical=True)
    if not ok or address is None:
        return None
    return BillingProvider(
        npi=b["npi"],
        ein=b["ein"],
        taxonomy=b["taxonomy"],
        address=address,
        organization_name=b["organization_name"],
        last_name=b["last_name"],
        first_name=b["first_name"],
    )


# ------------------------------------------------------------------ loading


def demo_root() -> Traversable:
    """The bundled demo (practice + encounters): in the wheel, or the checkout's fixtures/demo."""
    packaged = files("edi_pipeline") / "_data" / "demo"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[1] / "fixtures" / "demo"


def load_practice(path: str | Path | None = None) -> Practice:
    """Read and check a practice file; ``None`` reads the bundled demo practice."""
    if path is None:
        entry = demo_root() / "practice.toml"
        source = "bundled demo practice.toml"
        try:
            text = entry.read_text(encoding="utf-8")
        except OSError as exc:
            raise SettingsError(f"{source} cannot be read: {exc}") from exc
    else:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise SettingsError(
                f"--config {source}: cannot be read ({exc.strerror or exc})",
                code="settings_unreadable",
            ) from exc
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{source}: is not valid TOML: {exc}", code="settings_toml") from exc
    return parse_practice(raw, source)
