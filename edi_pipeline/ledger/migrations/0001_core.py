"""Core schema: practices, encounters, claims and their lines, interchanges, control numbers."""

NAME = "core: practices, encounters, claims, lines, interchanges, control numbers, holds"

# Claim statuses are the closed set of cli.md (models.CLAIM_STATUSES). Interchange statuses are
# open (built, sending, sent, acknowledged, rejected, lost …): later stages add their own.
SQL = """
CREATE TABLE practices (
    id {id},
    key TEXT NOT NULL UNIQUE,            -- the practice's configured key (submitter id by default)
    name TEXT,
    created_at TEXT NOT NULL
);

CREATE TABLE encounters (
    id {id},
    practice_id INTEGER NOT NULL REFERENCES practices (id),
    encounter_id TEXT NOT NULL,
    record_hash TEXT,                    -- sha256 of the accepted record
    first_seen_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (practice_id, encounter_id)
);

CREATE TABLE claims (
    id {id},
    practice_id INTEGER NOT NULL REFERENCES practices (id),
    encounter_id TEXT NOT NULL,          -- CLM01, the patient control number
    frequency TEXT NOT NULL,             -- CLM05-3: 1 original, 7 replacement, 8 void
    status TEXT NOT NULL CHECK (status IN ('held', 'built', 'sent', 'accepted', 'rejected',
        'payer_accepted', 'payer_rejected', 'paid', 'partially_paid', 'denied', 'reversed',
        'replaced', 'voided')),
    payer_id TEXT NOT NULL,              -- key of maps/payers
    charge TEXT NOT NULL,                -- decimal string, two places
    date_of_service TEXT,                -- ISO date
    payer_claim_number TEXT,             -- from the 277CA/835, or REF*F8 sent on 7/8
    record_hash TEXT,                    -- the encounter record this claim was coded from
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (practice_id, encounter_id, frequency)
);
CREATE INDEX claims_encounter ON claims (encounter_id);
CREATE INDEX claims_status ON claims (status);

CREATE TABLE claim_status_history (
    id {id},
    claim_id INTEGER NOT NULL REFERENCES claims (id),
    status TEXT NOT NULL,
    at TEXT NOT NULL,
    source TEXT,                         -- build, scrub, 999, TA1, 277CA, 835, reprocess …
    code TEXT,
    message TEXT
);
CREATE INDEX claim_status_history_claim ON claim_status_history (claim_id);

CREATE TABLE holds (
    id {id},
    claim_id INTEGER NOT NULL REFERENCES claims (id),
    rule TEXT NOT NULL,
    category TEXT NOT NULL,
    message TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX holds_claim ON holds (claim_id);

CREATE TABLE interchanges (
    id {id},
    practice_id INTEGER NOT NULL REFERENCES practices (id),
    file TEXT NOT NULL,                  -- absolute path of the file as released
    sha256 TEXT,                         -- of the bytes written
    sender TEXT NOT NULL,                -- ISA06 (trimmed)
    receiver TEXT NOT NULL,              -- ISA08 (trimmed)
    isa13 TEXT NOT NULL,
    gs06 TEXT NOT NULL,
    usage TEXT NOT NULL,                 -- ISA15: T or P
    status TEXT NOT NULL,                -- built, sending, sent, acknowledged, rejected, lost …
    claims INTEGER NOT NULL,
    remote_name TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (sender, receiver, isa13)
);
CREATE INDEX interchanges_status ON interchanges (status);

-- One row per claim per interchange: a claim rebuilt after a rejection gets a new row.
-- Segment positions count from ST = 1, as a 999's IK3/IK4 and a 277CA do.
CREATE TABLE interchange_claims (
    id {id},
    interchange_id INTEGER NOT NULL REFERENCES interchanges (id),
    st02 TEXT NOT NULL,
    claim_id INTEGER NOT NULL REFERENCES claims (id),
    first_segment INTEGER NOT NULL,      -- the claim's 2000B HL
    last_segment INTEGER NOT NULL,       -- the last segment of its last 2400 loop
    UNIQUE (interchange_id, claim_id)
);
CREATE INDEX interchange_claims_st ON interchange_claims (interchange_id, st02);
CREATE INDEX interchange_claims_claim ON interchange_claims (claim_id);

-- The service lines of one build of a claim; the line control number (REF*6R) is unique
-- across all claims ever built, so an 835 line or a 277CA line finds its way back.
CREATE TABLE lines (
    id {id},
    claim_id INTEGER NOT NULL REFERENCES claims (id),
    interchange_claim_id INTEGER REFERENCES interchange_claims (id),
    line_number INTEGER NOT NULL,        -- LX01
    line_control_number TEXT NOT NULL UNIQUE,
    procedure TEXT NOT NULL,
    modifiers TEXT NOT NULL,             -- colon-separated, as in SV101
    units TEXT NOT NULL,                 -- decimal string
    charge TEXT NOT NULL,                -- decimal string, two places
    ndc TEXT,
    ndc_quantity TEXT,
    ndc_unit TEXT,
    date_of_service TEXT,
    first_segment INTEGER,               -- LX position within the ST
    last_segment INTEGER
);
CREATE INDEX lines_claim ON lines (claim_id);

-- Control numbers per sender/receiver pair and kind ("interchange": ISA13 and GS06; "line":
-- line control numbers, sender = receiver = ''). Taken with UPDATE … RETURNING inside the
-- transaction that records what uses them, so a rollback returns them and nothing is skipped.
CREATE TABLE control_numbers (
    sender TEXT NOT NULL,
    receiver TEXT NOT NULL,
    kind TEXT NOT NULL,
    last_value INTEGER NOT NULL,
    PRIMARY KEY (sender, receiver, kind)
);

-- Control numbers that were taken but whose file never came to be (a recorded gap).
CREATE TABLE control_number_gaps (
    id {id},
    sender TEXT NOT NULL,
    receiver TEXT NOT NULL,
    kind TEXT NOT NULL,
    value INTEGER NOT NULL,
    reason TEXT NOT NULL,
    at TEXT NOT NULL
);
"""
