-- Running the shop by hand: admin notes on customers, accounts given without a payment, refunds.
--
-- An account an admin gives (gift, compensation, staff) is an order of amount 0 created approved
-- and provisioned like any other; gift_reason holds why (NULL = not given by an admin).
ALTER TABLE orders ADD COLUMN gift_reason TEXT;
-- A fulfilled order refunded by an admin keeps status 'fulfilled' (its account was made) and is
-- marked here; revenue leaves it out from then on.
ALTER TABLE orders ADD COLUMN refunded_at BIGINT;
ALTER TABLE orders ADD COLUMN refunded_by TEXT;
ALTER TABLE orders ADD COLUMN refund_reason TEXT;
CREATE INDEX orders_refunded_at ON orders (refunded_at) WHERE refunded_at IS NOT NULL;

-- Notes admins keep about a customer (/admin user note), newest last.
CREATE TABLE user_notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id),
    author TEXT NOT NULL,
    body TEXT NOT NULL CHECK (length(body) BETWEEN 1 AND 1000),
    created_at BIGINT NOT NULL
);
CREATE INDEX user_notes_user ON user_notes (user_id, id);
