-- Background jobs. job_runs: one row per job — the lease that keeps a job from running twice at
-- once (also across processes, e.g. `nebula-bot jobs run` beside the running bot) and its last
-- outcome. job_notices: messages the jobs owe customers (expiry, reminders, traffic, unpaid
-- orders), written in the same transaction as the state change that causes them and marked sent
-- once delivered, so a crash or a Discord outage delays a message but never loses the decision.
CREATE TABLE job_runs (
    name TEXT PRIMARY KEY,
    holder TEXT,
    locked_until BIGINT,
    last_started_at BIGINT,
    last_finished_at BIGINT,
    last_ok INTEGER,
    last_error TEXT,
    last_duration_ms BIGINT,
    runs BIGINT NOT NULL DEFAULT 0,
    failures BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE job_notices (
    notice_key TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('account_expired', 'expiry_reminder', 'traffic_alert',
                                       'traffic_exhausted', 'order_expired')),
    user_id BIGINT NOT NULL REFERENCES users (id),
    account_id BIGINT REFERENCES vpn_accounts (id),
    order_id BIGINT REFERENCES orders (id),
    level INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    claimed_until BIGINT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    sent_at BIGINT
);

CREATE INDEX job_notices_pending ON job_notices (sent_at, created_at);
