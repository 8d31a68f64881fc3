-- BILL-2: one credit balance per organization, an append-only ledger, the
-- grants debits draw from, usage rollups kept with each entry, and the
-- idempotency keys of debits.

-- The balance: every grant's remainder that is not yet written off. Every
-- change of it goes through this row (a conditional UPDATE), so concurrent
-- debits queue here and the balance never goes below zero.
CREATE TABLE credit_accounts (
    org_id TEXT PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    balance BIGINT NOT NULL CHECK (balance >= 0),
    updated_at BIGINT NOT NULL
);

CREATE TABLE credit_grants (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    -- paid or promotional.
    category TEXT NOT NULL,
    -- Lower is used first.
    priority BIGINT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount > 0),
    remaining BIGINT NOT NULL CHECK (remaining >= 0),
    effective_at BIGINT NOT NULL,
    expires_at BIGINT,
    -- Set when the expiry job wrote the remainder off.
    expired_at BIGINT,
    reason TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
-- The grants a debit may draw from, in the order it draws.
CREATE INDEX credit_grants_usable ON credit_grants (org_id, priority, expires_at, created_at) WHERE remaining > 0;
CREATE INDEX credit_grants_expiring ON credit_grants (expires_at) WHERE remaining > 0 AND expired_at IS NULL;

-- The ledger: grant, debit, refund, expiry, adjustment. `amount` is signed
-- (a debit is negative); `balance_after` is the account's balance after it.
CREATE TABLE credit_entries (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    amount BIGINT NOT NULL,
    balance_after BIGINT NOT NULL CHECK (balance_after >= 0),
    workspace_id TEXT,
    user_id TEXT,
    campaign_id TEXT,
    grant_id TEXT,
    -- For a refund: the debit it gives back.
    refunds_id TEXT,
    -- For a debit: how much of it has been refunded.
    refunded BIGINT NOT NULL DEFAULT 0,
    reason TEXT NOT NULL,
    metadata TEXT NOT NULL,
    actor_type TEXT NOT NULL,
    actor_id TEXT,
    occurred_at BIGINT NOT NULL
);
CREATE INDEX credit_entries_org ON credit_entries (org_id, id);
CREATE INDEX credit_entries_kind ON credit_entries (org_id, kind, id);
CREATE INDEX credit_entries_workspace ON credit_entries (org_id, workspace_id, id);

-- Which grants each debit (or refund, expiry) touched, and by how much.
CREATE TABLE credit_entry_grants (
    entry_id TEXT NOT NULL REFERENCES credit_entries (id) ON DELETE CASCADE,
    grant_id TEXT NOT NULL REFERENCES credit_grants (id) ON DELETE CASCADE,
    org_id TEXT NOT NULL,
    amount BIGINT NOT NULL,
    PRIMARY KEY (entry_id, grant_id)
);
CREATE INDEX credit_entry_grants_grant ON credit_entry_grants (grant_id);

-- Credits used per day and what they were used by: `dimension` is org
-- (key ''), workspace, user or campaign. Written in each entry's transaction.
CREATE TABLE credit_usage (
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    dimension TEXT NOT NULL,
    key TEXT NOT NULL,
    day BIGINT NOT NULL,
    used BIGINT NOT NULL,
    PRIMARY KEY (org_id, dimension, day, key)
);
CREATE INDEX credit_usage_key ON credit_usage (org_id, dimension, key, day);

-- Idempotency-Key of debits: the first request's answer, replayed for the
-- same key and body; `finished_at` NULL while it runs.
CREATE TABLE credit_idempotency (
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status BIGINT,
    response TEXT,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    PRIMARY KEY (org_id, key)
);
CREATE INDEX credit_idempotency_age ON credit_idempotency (started_at);

-- Alert thresholds: a balance, or days left at the current burn rate. Each
-- fires once when crossed and re-arms when the balance is back above it.
CREATE TABLE credit_alerts (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    threshold BIGINT NOT NULL,
    fired_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX credit_alerts_org ON credit_alerts (org_id);

-- Optional monthly budgets by workspace: a debit past one is refused.
CREATE TABLE credit_budgets (
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    monthly BIGINT NOT NULL CHECK (monthly > 0),
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, workspace_id)
);
