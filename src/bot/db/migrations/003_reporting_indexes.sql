-- Indexes for the background jobs and reports: accounts expiring soon, revenue by day, unpaid
-- orders to expire, a customer's orders and accounts, and per-server load.
CREATE INDEX vpn_accounts_status_expiry ON vpn_accounts (status, expires_at);
CREATE INDEX vpn_accounts_user ON vpn_accounts (user_id);
CREATE INDEX vpn_accounts_server ON vpn_accounts (server_id, status);
CREATE INDEX orders_status_fulfilled ON orders (status, fulfilled_at);
CREATE INDEX orders_status_created ON orders (status, created_at);
CREATE INDEX orders_user ON orders (user_id, created_at);
