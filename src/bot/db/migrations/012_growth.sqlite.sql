-- Selling more: a free trial and promo codes.
--
-- trial_offer: the one trial plan a reseller offers (at most one row, id 1). It names a plan of
-- the catalogue for its device limit and name, with its own length and traffic. enabled = 0 is
-- "no trial offered"; the row stays for the record.
CREATE TABLE trial_offer (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    plan_id BIGINT NOT NULL REFERENCES plans (id),
    duration_days INTEGER NOT NULL CHECK (duration_days > 0),
    traffic_bytes BIGINT NOT NULL DEFAULT 0 CHECK (traffic_bytes >= 0),
    enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    updated_at BIGINT NOT NULL
);

-- A trial is an order of amount 0 that skips payment and review (created approved) and is
-- provisioned like any other. One per customer, ever: the database refuses a second.
ALTER TABLE orders ADD COLUMN trial INTEGER NOT NULL DEFAULT 0 CHECK (trial IN (0, 1));
CREATE UNIQUE INDEX orders_one_trial_per_user ON orders (user_id) WHERE trial = 1;

-- Promo codes. code is kept upper-case, so codes are unique whatever the case typed. Exactly one
-- of percent_off / amount_off_piasters is set. uses counts approved orders that used the code
-- (taken in the approval's transaction, guarded by max_uses); per_customer limits one
-- customer's approved orders with the code. No rows in promo_code_plans = every plan.
CREATE TABLE promo_codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE CHECK (length(code) BETWEEN 1 AND 32),
    percent_off INTEGER CHECK (percent_off BETWEEN 1 AND 100),
    amount_off_piasters BIGINT CHECK (amount_off_piasters > 0),
    max_uses INTEGER CHECK (max_uses > 0),
    per_customer INTEGER CHECK (per_customer > 0),
    expires_at BIGINT,
    uses INTEGER NOT NULL DEFAULT 0 CHECK (uses >= 0),
    enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CHECK ((percent_off IS NULL) <> (amount_off_piasters IS NULL)),
    CHECK (max_uses IS NULL OR uses <= max_uses)
);

CREATE TABLE promo_code_plans (
    promo_code_id BIGINT NOT NULL REFERENCES promo_codes (id),
    plan_id BIGINT NOT NULL REFERENCES plans (id),
    PRIMARY KEY (promo_code_id, plan_id)
);

-- An order's price before a code (list_price_piasters, NULL = no code applied), the discount and
-- the code; amount_piasters stays the amount to pay.
ALTER TABLE orders ADD COLUMN promo_code_id BIGINT REFERENCES promo_codes (id);
ALTER TABLE orders ADD COLUMN list_price_piasters BIGINT;
ALTER TABLE orders ADD COLUMN discount_piasters BIGINT NOT NULL DEFAULT 0 CHECK (discount_piasters >= 0);
CREATE INDEX orders_promo_code ON orders (promo_code_id, user_id);

-- The discounts given on the day's fulfilled orders, beside its revenue.
ALTER TABLE revenue_snapshots ADD COLUMN discounts_piasters BIGINT NOT NULL DEFAULT 0;

-- Referrals: the customer who brought another one (entered once, before that customer's first
-- paid order), and the reward owed to the referrer once that order is fulfilled: one row per
-- referred customer, ever. The extension is decided once (account and target expiry written
-- before the panel is changed), so a retry sets the same expiry and never adds the days twice.
ALTER TABLE users ADD COLUMN referred_by BIGINT REFERENCES users (id);
CREATE TABLE referral_rewards (
    referred_user_id BIGINT PRIMARY KEY REFERENCES users (id),
    referrer_id BIGINT NOT NULL REFERENCES users (id),
    order_id BIGINT NOT NULL REFERENCES orders (id),
    days INTEGER NOT NULL CHECK (days > 0),
    account_id BIGINT REFERENCES vpn_accounts (id),
    target_expires_at BIGINT,
    created_at BIGINT NOT NULL,
    granted_at BIGINT,
    told_at BIGINT
);
