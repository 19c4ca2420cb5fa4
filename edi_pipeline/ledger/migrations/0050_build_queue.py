"""The build queue: claims coded and scrubbed, waiting for any worker to build them."""

NAME = "build queue: scrubbed claims waiting to be built, leased by the worker building them"

# One row per claim key (practice, encounter_id, frequency). The worker that reads an encounter
# export codes and scrubs it and puts every claim that passed here, in one transaction; any
# worker then takes a batch of ready rows (SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL) under a
# lease, builds and validates them into an interchange and marks them done. A worker that dies
# leaves its lease, which expires (or is seen dead on the same host), and another takes the rows
# over: building is idempotent per claim key (a claim a live interchange holds is not built
# again), so a batch taken twice is built once.
#
# payload is the claim as JSON (edi_pipeline.codec), patient data included: the one place the
# ledger holds it, only while the claim waits; it is emptied when the row is done or failed.
# state: ready (waiting or leased), done (built, already built or rejected: outcome says which),
# failed (could not be built after repeated attempts, or a payload this release cannot read).
SQL = """
CREATE TABLE build_queue (
    id {id},
    practice TEXT NOT NULL,
    encounter_id TEXT NOT NULL,
    frequency TEXT NOT NULL,
    receiver TEXT NOT NULL,              -- practice receiver key the claim goes to
    payload TEXT NOT NULL,               -- the Claim as JSON while ready; '' after
    record_hash TEXT,                    -- sha256 of the accepted encounter record
    file TEXT,                           -- export it came from (name) and record number
    record INTEGER,
    state TEXT NOT NULL CHECK (state IN ('ready', 'done', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until TEXT,
    enqueued_at TEXT NOT NULL,
    finished_at TEXT,
    finished_by TEXT,                    -- the worker (host:pid:token) that finished it
    outcome TEXT,                        -- built, already_built, rejected
    isa13 TEXT,                          -- the interchange that holds it, when built
    reason TEXT,                         -- why it failed (no PHI)
    UNIQUE (practice, encounter_id, frequency)
);
CREATE INDEX build_queue_ready ON build_queue (state, id)
"""
