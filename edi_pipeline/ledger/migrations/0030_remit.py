"""Remit: 835 payments, the claims they adjudicated and every classified adjustment."""

NAME = "remit: 835 payments, remit claims, classified adjustments, provider-level adjustments"

# remits: one row per 835 transaction set (one payment). TRN02 + TRN03 + BPR02 identify a
# payment (835.md section 2, duplicate detection), so the same 835 ingested twice posts once.
# remit_claims: one row per 2100 CLP, linked to our claim when matched (claim_id NULL if not).
# remit_adjustments: one row per CAS reason/amount pair, line_number NULL at claim level; the
# line's procedure, kind, drug and date are copied so the report needs no other table.
SQL = """
CREATE TABLE remits (
    id {id},
    file TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,
    st02 TEXT NOT NULL,
    trace_number TEXT NOT NULL,          -- TRN02
    payer_identifier TEXT NOT NULL,      -- TRN03
    amount TEXT NOT NULL,                -- BPR02, decimal string
    credit_debit TEXT NOT NULL,          -- BPR03
    paid_on TEXT,                        -- BPR16 (else DTM*405), ISO date
    payer_id TEXT NOT NULL,
    payer_name TEXT NOT NULL,
    claims INTEGER NOT NULL,
    claims_paid TEXT NOT NULL,           -- sum of CLP04
    provider_adjustments TEXT NOT NULL,  -- sum of PLB amounts
    balanced INTEGER NOT NULL,           -- 1 when BPR02 = sum(CLP04) - sum(PLB)
    recorded_at TEXT NOT NULL,
    UNIQUE (trace_number, payer_identifier, amount)
);

CREATE TABLE remit_claims (
    id {id},
    remit_id INTEGER NOT NULL REFERENCES remits (id),
    claim_id INTEGER REFERENCES claims (id),
    patient_control_number TEXT NOT NULL,
    payer_claim_number TEXT NOT NULL,
    status_code TEXT NOT NULL,           -- CLP02
    status TEXT NOT NULL,                -- paid, partially_paid, denied, reversed
    charge TEXT NOT NULL,
    paid TEXT NOT NULL,
    patient_responsibility TEXT,
    matched_by TEXT,
    balanced INTEGER NOT NULL,
    segment_index INTEGER NOT NULL
);
CREATE INDEX remit_claims_claim ON remit_claims (claim_id);
CREATE INDEX remit_claims_remit ON remit_claims (remit_id);

CREATE TABLE remit_adjustments (
    id {id},
    remit_claim_id INTEGER NOT NULL REFERENCES remit_claims (id),
    line_number INTEGER,                 -- remit line (SVC) number; NULL at claim level
    sent_line_number INTEGER,            -- our LX when the line was matched
    procedure TEXT,
    modifiers TEXT,                      -- colon-separated
    units TEXT,                          -- units billed (SVC07, else SVC05)
    line_kind TEXT,
    drug TEXT,                           -- generic name when known, else NULL
    service_date TEXT,
    group_code TEXT NOT NULL,
    carc TEXT NOT NULL,
    rarcs TEXT NOT NULL,                 -- colon-separated
    amount TEXT NOT NULL,
    root_cause TEXT NOT NULL,
    denial INTEGER NOT NULL,
    at_stake TEXT NOT NULL,
    fix TEXT NOT NULL,
    rule TEXT NOT NULL,
    prevent TEXT
);
CREATE INDEX remit_adjustments_claim ON remit_adjustments (remit_claim_id);
CREATE INDEX remit_adjustments_cause ON remit_adjustments (root_cause);

CREATE TABLE remit_provider_adjustments (
    id {id},
    remit_id INTEGER NOT NULL REFERENCES remits (id),
    provider_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    reference TEXT NOT NULL,
    amount TEXT NOT NULL
)
"""
