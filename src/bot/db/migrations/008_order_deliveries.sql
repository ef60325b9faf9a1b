-- What an approved customer must still receive, one row per fulfilled order: written in the same
-- transaction that marks the order fulfilled, each part stamped once Discord confirmed it, the row
-- completed when every part is. The bot (the approval itself, start-up, the reconciler) retries
-- the missing parts with backoff until then, so a crash or a Discord outage at delivery time
-- delays the customer's link but never loses it.
--   card_at     the review card shows the approval
--   channel_at  the link, QR code and subscription URL in the order channel (or no channel to post in)
--   dm_at       the same by direct message (or the customer's DMs are closed)
--   role_at     the Subscriber role (or the customer has left the server)
--   billing_at  the billing line
--   closing_at  the order channel's closing notice and schedule
CREATE TABLE order_deliveries (
    order_id BIGINT PRIMARY KEY REFERENCES orders (id),
    approver TEXT,
    created_at BIGINT NOT NULL,
    card_at BIGINT,
    channel_at BIGINT,
    dm_at BIGINT,
    role_at BIGINT,
    billing_at BIGINT,
    closing_at BIGINT,
    channel_message_id TEXT,
    dm_message_id TEXT,
    outcome TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    completed_at BIGINT
);

CREATE INDEX order_deliveries_pending ON order_deliveries (completed_at, next_attempt_at);
