-- A choice of location, and moving an account to another server.
--
-- orders.location: the location a customer picked for a new account (NULL = any location: the
-- least loaded server with room). Approval places the order on the least loaded server with room
-- in that location, or elsewhere when it filled up meanwhile (the customer and the admins are told).
ALTER TABLE orders ADD COLUMN location TEXT;

-- One move of an account to another server, as a resumable state machine:
--   creating  the new client (new_* values, fixed here) is being made on the target server;
--   switched  it exists and the account points at it; the customer is to get the new link;
--   told      the customer has the new link (or could not be reached); the old client goes next;
--   done      the old client is removed from the old server.
-- Each step is repeatable: the new client is created with the same email and UUID on a retry,
-- and removing a client that is already gone is success. At most one open move per account.
CREATE TABLE account_moves (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES vpn_accounts (id),
    from_server_id BIGINT NOT NULL REFERENCES servers (id),
    to_server_id BIGINT NOT NULL REFERENCES servers (id),
    old_client_email TEXT NOT NULL,
    new_client_email TEXT NOT NULL UNIQUE,
    new_client_uuid TEXT NOT NULL,
    new_sub_id TEXT NOT NULL,
    new_inbound_id INTEGER NOT NULL,
    -- The new client's quota: what was left of the old one (0 = unlimited).
    traffic_limit_bytes BIGINT NOT NULL CHECK (traffic_limit_bytes >= 0),
    state TEXT NOT NULL CHECK (state IN ('creating', 'switched', 'told', 'done')),
    actor TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    switched_at BIGINT,
    told_at BIGINT,
    done_at BIGINT
);
CREATE UNIQUE INDEX account_moves_one_open ON account_moves (account_id) WHERE state <> 'done';
CREATE INDEX account_moves_state ON account_moves (state);
