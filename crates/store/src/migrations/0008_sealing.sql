-- Which sealing key this database was set up with: one value sealed under it.
-- An instance started with another key finds it won't open and refuses to
-- start, instead of failing every two-factor sign-in.
CREATE TABLE sealing_key_check (
    id BIGINT PRIMARY KEY,
    sealed TEXT NOT NULL,
    created_at BIGINT NOT NULL
)
