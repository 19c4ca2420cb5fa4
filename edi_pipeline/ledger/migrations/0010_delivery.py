"""Delivery and the drop folder: interchange delivery columns and events, inbound file claims."""

NAME = "delivery: interchange delivery state, delivery events, inbound files claimed by hash"

# An interchange moves built -> sending -> sent (status column of the core table). The remote
# name and the destination are written in the same transaction that sets "sending", before a
# byte leaves, so a restart knows exactly what to look for. The lease (owner, until) says which
# process is sending it now; a lease whose owner died or expired may be taken over.
#
# inbound_files: one row per distinct content (sha256) ever dropped into a watched folder.
# The row is inserted ("claimed") before the file is processed, in a transaction, so the same
# content dropped twice, or seen by two watchers, is processed once. state: processing (leased),
# done, failed (a failed file may be dropped again and is then retried).
SQL = """
ALTER TABLE interchanges ADD COLUMN destination TEXT;
ALTER TABLE interchanges ADD COLUMN size INTEGER;
ALTER TABLE interchanges ADD COLUMN delivery_owner TEXT;
ALTER TABLE interchanges ADD COLUMN delivery_lease_until TEXT;
ALTER TABLE interchanges ADD COLUMN sending_at TEXT;
ALTER TABLE interchanges ADD COLUMN sent_at TEXT;
ALTER TABLE interchanges ADD COLUMN delivery_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE interchanges ADD COLUMN delivery_error TEXT;

CREATE TABLE delivery_events (
    id {id},
    interchange_id INTEGER NOT NULL REFERENCES interchanges (id),
    status TEXT NOT NULL,                -- sending, sent, failed, reconciled
    at TEXT NOT NULL,
    destination TEXT,                    -- folder:DIR or sftp://host:port/path (never a user)
    remote_name TEXT,
    size INTEGER,
    note TEXT                            -- error code and message, or how it was reconciled
);
CREATE INDEX delivery_events_interchange ON delivery_events (interchange_id);

CREATE TABLE inbound_files (
    content_hash TEXT PRIMARY KEY,       -- sha256 of the bytes
    name TEXT NOT NULL,                  -- file name when first claimed
    size INTEGER NOT NULL,
    kind TEXT,                           -- encounters, ack, remit, unknown
    state TEXT NOT NULL CHECK (state IN ('processing', 'done', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 1,
    copies INTEGER NOT NULL DEFAULT 1,   -- times this content was dropped
    lease_owner TEXT,
    lease_until TEXT,
    first_seen_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    finished_at TEXT,
    outcome TEXT,                        -- the stage's summary (JSON: counts and ids only)
    reason TEXT,                         -- why it failed (no PHI)
    archived_as TEXT                     -- where the file went (archive/ or error/)
);
CREATE INDEX inbound_files_state ON inbound_files (state);
"""
