-- Files kept in the database (`file_storage = "database"`): one row per file
-- and its bytes in ordered chunks, so every instance on one PostgreSQL reads
-- the same files without a shared volume. Keys are the file boundary's slash
-- paths (`logos/org_….png`, `media/org_…/ws_…/med_…`). BYTEA is PostgreSQL's
-- byte type; SQLite accepts the name and stores the values as blobs.
CREATE TABLE stored_files (
    key TEXT PRIMARY KEY,
    size BIGINT NOT NULL CHECK (size >= 0),
    chunks BIGINT NOT NULL CHECK (chunks >= 0),
    created_at BIGINT NOT NULL
);

CREATE TABLE stored_file_chunks (
    key TEXT NOT NULL,
    seq BIGINT NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (key, seq)
)
