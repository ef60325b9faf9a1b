-- The first schema. Times are Unix epoch seconds (UTC); money is integer piasters (EGP x 100);
-- booleans are 0/1 integers; Discord ids are text snowflakes. docs/schema.md documents each column.

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    discord_id TEXT NOT NULL UNIQUE,
    username TEXT NOT NULL,
    locale TEXT NOT NULL DEFAULT 'en' CHECK (locale IN ('en', 'ar')),
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'banned')),
    ban_reason TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE plans (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    duration_days INTEGER NOT NULL CHECK (duration_days > 0),
    traffic_bytes BIGINT NOT NULL DEFAULT 0 CHECK (traffic_bytes >= 0),
    device_limit INTEGER NOT NULL DEFAULT 1 CHECK (device_limit >= 0),
    price_piasters BIGINT NOT NULL CHECK (price_piasters >= 0),
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    sort_order INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE servers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    location TEXT NOT NULL DEFAULT '',
    gateway_url TEXT NOT NULL,
    gateway_key TEXT NOT NULL,
    tls_pin_sha256 TEXT NOT NULL DEFAULT '',
    inbound_id INTEGER NOT NULL CHECK (inbound_id > 0),
    capacity INTEGER NOT NULL CHECK (capacity > 0),
    weight INTEGER NOT NULL DEFAULT 1 CHECK (weight > 0),
    enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    health TEXT NOT NULL DEFAULT 'unknown' CHECK (health IN ('unknown', 'up', 'down')),
    last_seen_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE payment_methods (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    name_en TEXT NOT NULL,
    name_ar TEXT NOT NULL,
    account TEXT NOT NULL DEFAULT '',
    instructions_en TEXT NOT NULL DEFAULT '',
    instructions_ar TEXT NOT NULL DEFAULT '',
    enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    sort_order INTEGER NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL
);

CREATE TABLE orders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    reference TEXT UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users (id),
    plan_id BIGINT NOT NULL REFERENCES plans (id),
    kind TEXT NOT NULL CHECK (kind IN ('new', 'renewal')),
    account_id BIGINT REFERENCES vpn_accounts (id),
    status TEXT NOT NULL CHECK (status IN ('awaiting_payment', 'under_review', 'approved', 'fulfilled',
                                           'declined', 'expired', 'cancelled')),
    amount_piasters BIGINT NOT NULL CHECK (amount_piasters >= 0),
    payment_method_id BIGINT REFERENCES payment_methods (id),
    channel_id TEXT,
    review_message_id TEXT,
    claimed_by TEXT,
    claimed_at BIGINT,
    reviewer_id TEXT,
    decline_reason TEXT,
    allow_reupload INTEGER NOT NULL DEFAULT 0 CHECK (allow_reupload IN (0, 1)),
    server_id BIGINT REFERENCES servers (id),
    client_email TEXT,
    client_uuid TEXT,
    sub_id TEXT,
    target_expires_at BIGINT,
    target_traffic_bytes BIGINT,
    provision_attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    submitted_at BIGINT,
    approved_at BIGINT,
    fulfilled_at BIGINT,
    declined_at BIGINT,
    cancelled_at BIGINT,
    expired_at BIGINT
);

-- One open order per customer, enforced by the database so concurrent Buy clicks cannot race.
CREATE UNIQUE INDEX orders_one_open_per_user ON orders (user_id)
    WHERE status IN ('awaiting_payment', 'under_review', 'approved');

CREATE TABLE vpn_accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id),
    server_id BIGINT NOT NULL REFERENCES servers (id),
    order_id BIGINT NOT NULL UNIQUE REFERENCES orders (id),
    plan_id BIGINT REFERENCES plans (id),
    client_email TEXT NOT NULL UNIQUE,
    client_uuid TEXT NOT NULL,
    sub_id TEXT NOT NULL,
    inbound_id INTEGER NOT NULL,
    traffic_limit_bytes BIGINT NOT NULL DEFAULT 0 CHECK (traffic_limit_bytes >= 0),
    device_limit INTEGER NOT NULL DEFAULT 1,
    used_up_bytes BIGINT NOT NULL DEFAULT 0,
    used_down_bytes BIGINT NOT NULL DEFAULT 0,
    expires_at BIGINT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled', 'expired', 'deleted')),
    traffic_alert_level INTEGER NOT NULL DEFAULT 0,
    expiry_alert_level INTEGER NOT NULL DEFAULT 0,
    traffic_synced_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE receipts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id BIGINT NOT NULL REFERENCES orders (id),
    file_path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size_bytes BIGINT NOT NULL CHECK (size_bytes >= 0),
    content_type TEXT NOT NULL,
    attachment_id TEXT,
    reused_from_order_id BIGINT REFERENCES orders (id),
    uploaded_at BIGINT NOT NULL
);

CREATE INDEX receipts_sha256 ON receipts (sha256);
CREATE INDEX receipts_order ON receipts (order_id);

CREATE TABLE audit_logs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT,
    at BIGINT NOT NULL
);

CREATE INDEX audit_logs_target ON audit_logs (target_type, target_id);
CREATE INDEX audit_logs_at ON audit_logs (at);

CREATE TABLE revenue_snapshots (
    day TEXT PRIMARY KEY,
    revenue_piasters BIGINT NOT NULL DEFAULT 0,
    orders_fulfilled INTEGER NOT NULL DEFAULT 0,
    revenue_by_method TEXT NOT NULL DEFAULT '{}',
    revenue_by_plan TEXT NOT NULL DEFAULT '{}',
    orders_by_status TEXT NOT NULL DEFAULT '{}',
    new_users INTEGER NOT NULL DEFAULT 0,
    active_accounts INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
