-- Announcements to customers.
--
-- users.announcements_dm: the customer asked for announcements by DM (My Account); off by
-- default. Notices about the customer's own account do not look at it.
ALTER TABLE users ADD COLUMN announcements_dm INTEGER NOT NULL DEFAULT 0 CHECK (announcements_dm IN (0, 1));

-- One row per announcement. A draft is what the admin previews; confirming it writes the
-- recipients below and makes it 'sending'; 'done' once no recipient is left to try; 'cancelled'
-- drops the recipients not tried yet. audience is all, active, expired or server (server_id set).
CREATE TABLE announcements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    audience TEXT NOT NULL CHECK (audience IN ('all', 'active', 'expired', 'server')),
    server_id BIGINT REFERENCES servers (id),
    message TEXT NOT NULL CHECK (length(message) BETWEEN 1 AND 1800),
    status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'sending', 'done', 'cancelled')),
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    confirmed_at BIGINT,
    posted_message_id TEXT,
    finished_at BIGINT,
    dropped INTEGER NOT NULL DEFAULT 0 CHECK (dropped >= 0),
    CHECK ((audience = 'server') = (server_id IS NOT NULL))
);

-- The DM outbox: one row per opted-in customer of the audience, written when the announcement is
-- confirmed. A sender claims a row (pending -> sending, a guarded UPDATE) before it sends and
-- marks it after (sent, failed). A row left in 'sending' by a sender that stopped is settled as
-- 'unknown' and never sent again: Discord may have delivered it, and a customer reading an
-- announcement twice is worse than one missing it.
CREATE TABLE announcement_recipients (
    announcement_id BIGINT NOT NULL REFERENCES announcements (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'unknown')),
    attempts INTEGER NOT NULL DEFAULT 0,
    claimed_at BIGINT,
    finished_at BIGINT,
    error TEXT,
    PRIMARY KEY (announcement_id, user_id)
);
CREATE INDEX announcement_recipients_status ON announcement_recipients (status, announcement_id);
