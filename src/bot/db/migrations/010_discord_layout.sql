-- The shop's Discord layout that /admin setup made: its roles and channels, one row per server
-- (a bot moved to another server starts that one's layout afresh). NULL: not made yet. Ids in
-- bot.env (ADMIN_ROLE_ID, REVIEW_CHANNEL_ID, ...) win over these.
CREATE TABLE discord_layout (
    guild_id TEXT PRIMARY KEY,
    admin_role_id TEXT,
    subscriber_role_id TEXT,
    review_channel_id TEXT,
    billing_channel_id TEXT,
    main_panel_channel_id TEXT,
    orders_category_id TEXT,
    updated_at BIGINT NOT NULL
);
