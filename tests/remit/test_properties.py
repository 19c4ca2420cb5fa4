"""Properties: every CAS amount lands in exactly one classified adjustment, totals are equal,
and a remit built to balance is found balanced (and one cent off is found, with its amount)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from edi_pipeline.maps import load_maps
from edi_pipeline.remit.balance import claim_imbalances, transaction_imbalance
from edi_pipeline.remit.classify import Classifier
from edi_pipeline.remit.parse import read_remit

MAPS = load_maps()
GROUPS = st.sampled_from(["CO", "OA", "PI", "PR"])
# Known CARCs, a RARC-decided one, and codes the map does not know.
CARCS = st.sampled_from(
    ["1", "2", "4", "16", "45", "50", "97", "151", "197", "204", "A2", "Z9", "777"]
)
RARCS = st.lists(st.sampled_from(["M119", "N290", "M20", "N362", "N999"]), max_size=2)
CENTS = st.integers(min_value=-50_000, max_value=500_000).map(lambda c: Decimal(c).scaleb(-2))
CODES = st.sampled_from(["J1745", "96413", "20610", "99214", "Q5103", "80053", "A9999"])
MODS = st.lists(st.sampled_from(["JW", "JZ", "RT", "LT", "25", "59"]), max_size=2, unique=True)

triplet = st.tuples(CARCS, CENTS)
cas_seg = st.tuples(GROUPS, st.lists(triplet, min_size=1, max_size=6))
line = st.tuples(CODES, MODS, CENTS, st.lists(cas_seg, max_size=3), RARCS)
claim = st.tuples(st.lists(cas_seg, max_size=2), st.lists(line, max_size=4))


def render(claims, *, off_by: Decimal = Decimal(0)) -> tuple[str, list]:
    """An 835 whose claims and lines balance by construction (plus ``off_by`` on BPR02)."""
    segs = ["ST*835*0001", None, "TRN*1*TRACE1*1999999999", "N1*PR*TEST PAYER", "N1*PE*P*XX*1"]
    cas_amounts = []
    total_paid = Decimal(0)
    for n, (claim_cas, lines) in enumerate(claims):
        body = []
        claim_charge = Decimal(0)
        claim_paid = Decimal(0)
        for group, trips in claim_cas:
            body.append("CAS*" + group + "".join(f"*{c}*{a}*" for c, a in trips).rstrip("*"))
            cas_amounts.extend(a for _, a in trips)
            claim_charge += sum(a for _, a in trips)
        for code, mods, paid, line_cas, rarcs in lines:
            adj = sum((a for _, trips in line_cas for _, a in trips), Decimal(0))
            charge = paid + adj
            comp = ":".join(["HC", code, *mods])
            body.append(f"SVC*{comp}*{charge}*{paid}**1")
            body.append("DTM*472*20250105")
            for group, trips in line_cas:
                body.append("CAS*" + group + "".join(f"*{c}*{a}*" for c, a in trips).rstrip("*"))
                cas_amounts.extend(a for _, a in trips)
            body.extend(f"LQ*HE*{r}" for r in rarcs)
            claim_charge += charge
            claim_paid += paid
        # CLP03 - sum(claim CAS + line CAS) = CLP04 with CLP04 = sum(SVC03) (+10 with no lines)
        claim_paid_total = claim_paid if lines else Decimal("10")
        claim_charge += claim_paid_total if not lines else Decimal(0)
        total_paid += claim_paid_total
        segs.append(f"LX*{n + 1}")
        segs.append(f"CLP*E{n}*1*{claim_charge}*{claim_paid_total}**12*ICN{n}")
        segs.extend(body)
    segs[1] = f"BPR*I*{total_paid + off_by}*C*ACH************20250110"
    segs.append(f"SE*{len(segs) + 1}*0001")
    return "~".join(segs) + "~", cas_amounts


@settings(max_examples=150, deadline=None)
@given(st.lists(claim, min_size=1, max_size=4))
def test_every_cas_amount_in_exactly_one_classified_adjustment(claims) -> None:
    text, cas_amounts = render(claims)
    parsed, txs, _ = read_remit(text.encode(), name="gen.835")
    classifier = Classifier(MAPS.denials)
    seen: dict[tuple[int, int], int] = {}
    total = Decimal(0)
    for c in parsed:
        cc = classifier.classify_claim(c)
        for a in cc.all_adjustments():
            key = (a.adjustment.segment_index, a.adjustment.position)
            seen[key] = seen.get(key, 0) + 1
            total += a.adjustment.amount
            assert a.classification.root_cause
        assert not claim_imbalances(c), c.patient_control_number
    assert all(v == 1 for v in seen.values())
    assert len(seen) == len(cas_amounts)
    assert total == sum(cas_amounts, Decimal(0))
    assert transaction_imbalance(txs[0]) is None


@settings(max_examples=50, deadline=None)
@given(st.lists(claim, min_size=1, max_size=3), CENTS.filter(lambda d: d != 0))
def test_transaction_imbalance_is_found_with_its_amount(claims, off_by) -> None:
    text, _ = render(claims, off_by=off_by)
    _, txs, _ = read_remit(text.encode(), name="gen.835")
    imb = transaction_imbalance(txs[0])
    assert imb is not None and imb.difference == off_by
