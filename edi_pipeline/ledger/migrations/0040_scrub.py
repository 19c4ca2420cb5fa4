"""Scrub: the coded facts of each scrubbed claim (for payer history) and recorded overrides."""

NAME = "scrub: coded claim facts for payer history, hold overrides with reasons"

# scrub_claims / scrub_lines: what a claim billed as coding produced it (line kind and generic
# drug name included, which the built `lines` table does not carry), written when the claim is
# scrubbed. History counts a scrubbed claim only once the core `claims` row says it went out
# (built, sent, accepted, paid …), joined on (practice, encounter_id, frequency).
# member_key is sha256(payer_id, member_id) in hex: the member is found again without the
# ledger storing the member id itself.
#
# scrub_overrides: a person decided that one rule's hold does not apply to one claim, and why.
SQL = """
CREATE TABLE scrub_claims (
    id {id},
    practice TEXT NOT NULL,              -- practices.key
    encounter_id TEXT NOT NULL,
    frequency TEXT NOT NULL,
    payer_id TEXT NOT NULL,              -- key of maps/payers
    member_key TEXT NOT NULL,
    date_of_service TEXT NOT NULL,       -- ISO date
    prior_authorization TEXT,
    scrubbed_at TEXT NOT NULL,
    UNIQUE (practice, encounter_id, frequency)
);
CREATE INDEX scrub_claims_member ON scrub_claims (member_key, date_of_service);

CREATE TABLE scrub_lines (
    id {id},
    scrub_claim_id INTEGER NOT NULL REFERENCES scrub_claims (id),
    line_number INTEGER NOT NULL,
    procedure TEXT NOT NULL,
    modifiers TEXT NOT NULL,             -- colon-separated
    units TEXT NOT NULL,                 -- decimal string
    kind TEXT NOT NULL,                  -- drug, drug_waste, administration, procedure …
    drug TEXT                            -- generic name on drug lines
);
CREATE INDEX scrub_lines_claim ON scrub_lines (scrub_claim_id);

CREATE TABLE scrub_overrides (
    id {id},
    practice TEXT NOT NULL,
    encounter_id TEXT NOT NULL,
    rule TEXT NOT NULL,
    reason TEXT NOT NULL,
    at TEXT NOT NULL,
    UNIQUE (practice, encounter_id, rule)
)
"""
