-- Business state that lived as text keys in `settings` gets a typed home; existing rows are
-- converted and removed from settings:
--   health_failures:<server>  -> servers.health_failures (failed checks in a row)
--   health_alerted:<server>   -> servers.health_alerted (the state admins were last told: up/down)
--   outage_told:<server>      -> servers.outage_incident (the incident whose customers were told)
--   revenue_posted:<day>      -> revenue_snapshots.posted_message_id
--   notice_channel:<user>     -> users.notice_channel_id (private channel for DM-less notices)
--   hint:<order>              -> orders.payment_hint_at (the payment hint was given)
--   close:<channel>           -> order_channels (archive/delete schedule of a finished order's
--                                channel; the value was "archive_at delete_at customer archived")
-- Only shop-wide settings (the main panel's message id) stay in settings.
ALTER TABLE servers ADD COLUMN health_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE servers ADD COLUMN health_alerted TEXT NOT NULL DEFAULT 'up';
ALTER TABLE servers ADD COLUMN outage_incident BIGINT;
ALTER TABLE revenue_snapshots ADD COLUMN posted_message_id TEXT;
ALTER TABLE users ADD COLUMN notice_channel_id TEXT;
ALTER TABLE orders ADD COLUMN payment_hint_at BIGINT;

CREATE TABLE order_channels (
    channel_id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    archive_at BIGINT NOT NULL,
    delete_at BIGINT NOT NULL,
    archived INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),
    updated_at BIGINT NOT NULL
);

UPDATE servers SET health_failures = (
    SELECT CAST(value AS INTEGER) FROM settings
    WHERE key = 'health_failures:' || CAST(servers.id AS TEXT))
WHERE EXISTS (SELECT 1 FROM settings WHERE key = 'health_failures:' || CAST(servers.id AS TEXT));
UPDATE servers SET health_alerted = (
    SELECT value FROM settings WHERE key = 'health_alerted:' || CAST(servers.id AS TEXT))
WHERE EXISTS (SELECT 1 FROM settings WHERE key = 'health_alerted:' || CAST(servers.id AS TEXT)
              AND value IN ('up', 'down'));
UPDATE servers SET outage_incident = (
    SELECT CAST(value AS BIGINT) FROM settings WHERE key = 'outage_told:' || CAST(servers.id AS TEXT));
UPDATE revenue_snapshots SET posted_message_id = (
    SELECT value FROM settings WHERE key = 'revenue_posted:' || revenue_snapshots.day);
UPDATE users SET notice_channel_id = (
    SELECT value FROM settings WHERE key = 'notice_channel:' || CAST(users.id AS TEXT));
UPDATE orders SET payment_hint_at = (
    SELECT updated_at FROM settings WHERE key = 'hint:' || CAST(orders.id AS TEXT));

-- "archive_at delete_at customer archived", split on its spaces.
INSERT INTO order_channels (channel_id, customer_id, archive_at, delete_at, archived, updated_at)
SELECT substr(key, 7), split_part(value, ' ', 3), CAST(split_part(value, ' ', 1) AS BIGINT),
       CAST(split_part(value, ' ', 2) AS BIGINT),
       CASE WHEN split_part(value, ' ', 4) = '1' THEN 1 ELSE 0 END, updated_at
FROM settings
WHERE substr(key, 1, 6) = 'close:' AND split_part(value, ' ', 3) <> '' AND split_part(value, ' ', 1) <> ''
    AND split_part(value, ' ', 2) <> '';

DELETE FROM settings WHERE substr(key, 1, 16) = 'health_failures:' OR substr(key, 1, 15) = 'health_alerted:'
    OR substr(key, 1, 12) = 'outage_told:' OR substr(key, 1, 15) = 'revenue_posted:'
    OR substr(key, 1, 15) = 'notice_channel:' OR substr(key, 1, 5) = 'hint:' OR substr(key, 1, 6) = 'close:';
