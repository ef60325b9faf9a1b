-- Customers on a server that is down can be told of the outage, and told again when it is back:
-- two more kinds of job notice.
ALTER TABLE job_notices DROP CONSTRAINT job_notices_kind_check;
ALTER TABLE job_notices ADD CONSTRAINT job_notices_kind_check
    CHECK (kind IN ('account_expired', 'expiry_reminder', 'traffic_alert', 'traffic_exhausted',
                    'order_expired', 'server_outage', 'server_restored'));
