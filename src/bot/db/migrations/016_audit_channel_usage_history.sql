-- The audit channel's outbox and the daily usage history of accounts.
--
-- audit_outbox: audit entries still to be posted to AUDIT_CHANNEL_ID, one row per entry, written
-- in the same transaction as the entry (only while a channel is set). The audit-channel job posts
-- them in audit id order and deletes each row once Discord has the line.
CREATE TABLE audit_outbox (
    audit_id BIGINT PRIMARY KEY REFERENCES audit_logs (id)
);

-- account_usage_days: traffic an account used on each day of the shop's time zone, built by the
-- traffic job from the panel's counters. counter_bytes is the counter (up + down) last read that
-- day, the base of the next reading's difference; a counter lower than it was reset on the panel,
-- so the whole new counter counts as used since. Rows older than 90 days are pruned.
CREATE TABLE account_usage_days (
    account_id BIGINT NOT NULL REFERENCES vpn_accounts (id),
    day TEXT NOT NULL,
    used_bytes BIGINT NOT NULL DEFAULT 0 CHECK (used_bytes >= 0),
    counter_bytes BIGINT NOT NULL DEFAULT 0 CHECK (counter_bytes >= 0),
    PRIMARY KEY (account_id, day)
);
CREATE INDEX account_usage_days_day ON account_usage_days (day);
