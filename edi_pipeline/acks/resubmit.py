"""How a claim goes out again after a rejection or a correction (pure: a decision table).

The rules (acks.md §3, 837p.md §6):

* A claim **rejected** by a TA1, a 999 or a 277CA never entered adjudication: the payer has
  nothing to replace. It is rebuilt as the *same* claim (same CLM01 and frequency, so still an
  original when it was one) with new control numbers; a 277CA's REF*1K on a rejection is not a
  usable REF*F8.
* A claim the payer **has** (accepted by the 277CA, paid, partly paid or denied on an 835) is
  corrected only by a **replacement**, frequency 7 with REF*F8 = the payer's claim number. A
  second original for it would be a duplicate claim; without the payer's number there is no
  valid replacement, so the claim is refused and the biller told what is missing.
* A claim still in flight (built, sent, accepted by the 999 and waiting for the payer) is left
  alone: sending it again would be a second original of the same encounter.
* A held claim that was never built belongs to ``build``; one held after a reprocess is
  rebuilt here when its holds are gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Action = Literal["rebuild", "replace", "refuse"]

REJECTED = frozenset({"rejected", "payer_rejected"})
AT_PAYER = frozenset({"payer_accepted", "paid", "partially_paid", "denied"})
IN_FLIGHT = frozenset({"built", "sent", "accepted"})
CLOSED = frozenset({"replaced", "voided", "reversed"})


@dataclass(frozen=True, slots=True)
class Plan:
    action: Action
    frequency: str | None = None  # CLM05-3 of the claim to build
    payer_claim_number: str | None = None  # REF*F8 of the claim to build
    reason: str = ""


def plan(
    status: str,
    frequency: str,
    payer_claim_number: str | None,
    *,
    built_before: bool,
    explicit: bool,
) -> Plan:
    """What to do with the newest claim of an encounter.

    ``explicit`` is true when the biller named the claim (``--claim``) or sent its corrected
    encounter (``--file``); ``--rejected`` alone never replaces a claim the payer has.
    """
    if status in REJECTED:
        return Plan(
            "rebuild",
            frequency,
            payer_claim_number if frequency in ("7", "8") else None,
            f"{status}: rebuilt with new control numbers as the same claim (frequency "
            f"{frequency}); the payer never adjudicated it",
        )
    if status == "held":
        if built_before:
            return Plan("rebuild", frequency, payer_claim_number if frequency != "1" else None,
                        "held after a reprocess: rebuilt once its holds are gone")  # fmt: skip
        return Plan("refuse", reason="held and never built: run build once the holds are fixed")
    if status in AT_PAYER:
        if not explicit:
            return Plan("refuse", reason=f"{status}: not selected by --rejected")
        if not payer_claim_number:
            return Plan(
                "refuse",
                reason=f"{status} but the payer's claim number is not known: a replacement needs "
                "REF*F8, and a second original would be a duplicate claim. Record the number "
                "from the 835 (CLP07) or the 277CA (REF*1K) first",
            )
        return Plan(
            "replace",
            "7",
            payer_claim_number,
            f"{status}: sent as a replacement (frequency 7) of payer claim {payer_claim_number}",
        )
    if status in IN_FLIGHT:
        return Plan(
            "refuse",
            reason=f"{status}: still waiting for its acknowledgment; sending it again would be a "
            "second original of the same encounter",
        )
    if status in CLOSED:
        return Plan("refuse", reason=f"{status}: this claim is closed")
    return Plan("refuse", reason=f"status {status!r} cannot be reprocessed")
