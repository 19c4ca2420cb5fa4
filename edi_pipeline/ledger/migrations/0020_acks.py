"""Acknowledgments: the files ingested, what each said about each claim, and what matched nothing.

The claim's status and its history stay in the core tables (``claims``,
``claim_status_history``, moved by ``claims.record_status``); these tables keep the detail a
status row cannot: every reason (segment, position, element, line) behind a verdict, verdicts
that changed nothing (stale, duplicate, notes) and verdicts about things we never sent.

No new columns are needed on the core tables: ``interchange_claims`` and ``lines`` already keep
each claim's and line's segment range inside its transaction set, which is what a 999's IK3
position is tied back to. One index is added on ``lines``: tie-back reads the lines of a build
(``interchange_claim_id``), which without it is a scan of every line ever built.
"""

NAME = "acks: ingested TA1/999/277CA files, verdicts per claim with reasons, unmatched verdicts"

SQL = """
CREATE INDEX lines_interchange_claim ON lines (interchange_claim_id);

CREATE TABLE ack_files (
    id {id},
    sha256 TEXT NOT NULL UNIQUE,         -- the same content is ingested once, whatever its name
    file TEXT NOT NULL,
    kinds TEXT NOT NULL,                 -- space-separated: TA1 999 277CA
    sender TEXT,                         -- the ack's ISA06 (clearinghouse or payer)
    isa13 TEXT,                          -- the ack's own ISA13
    verdicts INTEGER NOT NULL,
    unmatched INTEGER NOT NULL,
    errors INTEGER NOT NULL,             -- problems of severity error found reading it
    ingested_at TEXT NOT NULL
);

CREATE TABLE ack_events (
    id {id},
    ack_file_id INTEGER NOT NULL REFERENCES ack_files (id),
    claim_id INTEGER NOT NULL REFERENCES claims (id),
    interchange_claim_id INTEGER REFERENCES interchange_claims (id),
    source TEXT NOT NULL,                -- TA1, 999, 277CA
    status_before TEXT NOT NULL,
    implied_status TEXT,                 -- what the ack says (NULL: a note only)
    applied INTEGER NOT NULL,            -- 1 when the claim's status moved
    note TEXT,                           -- why it did not, when it did not
    code TEXT,
    message TEXT,
    payer_claim_number TEXT,             -- REF*1K as reported (also on rejections)
    ack_segment_index INTEGER,           -- where in the ack file
    at TEXT NOT NULL
);
CREATE INDEX ack_events_claim ON ack_events (claim_id);

CREATE TABLE ack_reasons (
    id {id},
    event_id INTEGER NOT NULL REFERENCES ack_events (id),
    claim_id INTEGER NOT NULL REFERENCES claims (id),
    source TEXT NOT NULL,
    code TEXT,
    message TEXT NOT NULL,
    scope TEXT NOT NULL,                 -- claim, line, transaction, interchange, other_claims
    line_number INTEGER,
    line_control_number TEXT,
    segment_id TEXT,                     -- segment of our 837
    position INTEGER,                    -- its position in our ST (ST = 1)
    element TEXT,                        -- CLM05-2
    ack_segment_index INTEGER
);
CREATE INDEX ack_reasons_event ON ack_reasons (event_id);
CREATE INDEX ack_reasons_claim ON ack_reasons (claim_id);

CREATE TABLE ack_unmatched (
    id {id},
    ack_file_id INTEGER NOT NULL REFERENCES ack_files (id),
    source TEXT NOT NULL,
    reference TEXT NOT NULL,             -- ISA13 …, GS06 … ST02 …, CLM01 …
    message TEXT NOT NULL,
    implied_status TEXT,
    ack_segment_index INTEGER,
    at TEXT NOT NULL
);
"""
