-- Customers on a server that is down can be told of the outage, and told again when it is back:
-- two more kinds of job notice. SQLite cannot change a CHECK constraint, so the table is copied
-- into one with the new constraint (nothing references job_notices).
CREATE TABLE job_notices_new (
    notice_key TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('account_expired', 'expiry_reminder', 'traffic_alert',
                                       'traffic_exhausted', 'order_expired', 'server_outage',
                                       'server_restored')),
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
INSERT INTO job_notices_new SELECT notice_key, kind, user_id, account_id, order_id, level, created_at,
    claimed_until, attempts, last_error, sent_at FROM job_notices;
DROP TABLE job_notices;
ALTER TABLE job_notices_new RENAME TO job_notices;
CREATE INDEX job_notices_pending ON job_notices (sent_at, created_at);
