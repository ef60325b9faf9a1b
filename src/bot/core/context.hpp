#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "bot/db/executor.hpp"
#include "bot/domain/analytics.hpp"
#include "bot/domain/catalog.hpp"
#include "bot/domain/orders.hpp"
#include "bot/domain/provisioning.hpp"
#include "bot/domain/users.hpp"
#include "bot/ui/i18n.hpp"
#include "bot/ui/time_zone.hpp"
#include "common/clock.hpp"
#include "common/sleeper.hpp"
#include "common/task_group.hpp"
#include "discord/rest.hpp"
#include "discord/snowflake.hpp"

// What the handlers, the customer notifications (bot/notify) and the jobs share: the shop's
// settings and the objects the app wires together. The app (src/bot/app) builds one BotContext;
// handlers receive it with each Call, notify functions and jobs take it by reference.

namespace nebula::bot::core {

/// The shop's Discord layout and the order-flow knobs: what handlers, notifications and jobs need
/// from the configuration (secrets such as the bot token are not here). Plain value, read once at
/// start-up.
struct ShopSettings {
    std::string shop_name = "NebulaLinks";  ///< SHOP_NAME, shown on the main panel
    discord::Snowflake application_id;      ///< DISCORD_CLIENT_ID
    discord::Snowflake bot_user_id;         ///< the bot's own user (GET /users/@me at start-up)
    discord::Snowflake guild_id;            ///< DISCORD_GUILD_ID
    discord::Snowflake admin_role_id;       ///< ADMIN_ROLE_ID, checked on every admin click
    discord::Snowflake review_channel_id;
    discord::Snowflake billing_channel_id;
    discord::Snowflake main_panel_channel_id;
    discord::Snowflake orders_category_id;                 ///< ORDERS_CATEGORY_ID
    std::optional<discord::Snowflake> subscriber_role_id;  ///< SUBSCRIBER_ROLE_ID, optional
    /// ANNOUNCE_CHANNEL_ID, optional: where /admin announce posts (nothing there when unset).
    std::optional<discord::Snowflake> announce_channel_id;
    ui::Locale default_locale = ui::Locale::en;  ///< DEFAULT_LOCALE
    std::filesystem::path data_dir = "data";     ///< DATA_DIR (receipts, exports)
    /// A finished order's channel turns read-only this long after the last step, and is deleted
    /// `order_channel_delete_after` after that.
    std::chrono::seconds order_channel_archive_after{std::chrono::minutes(10)};
    std::chrono::seconds order_channel_delete_after{std::chrono::hours(24)};
    /// How long My Account waits for a usage figure older than 5 minutes to be read again from
    /// its gateway before it shows the stored one with its "as of" time.
    std::chrono::milliseconds usage_refresh_wait{std::chrono::seconds(3)};
    /// TRIAL_MIN_ACCOUNT_AGE_DAYS: a Discord account younger than this gets no free trial (0 = any).
    std::chrono::days trial_min_account_age{0};
    /// REFERRAL_BONUS_DAYS: days a referrer's account gains when a customer they referred has
    /// their first paid order approved (0 = no referrals).
    int referral_bonus_days = 7;
};

/// Everything a handler, a notification or a job may use, by reference; the app owns the objects
/// and keeps them alive for as long as any of them runs. Use from the Discord executor only
/// (`executor`); the domain services are stateless and are called inside `db.run(...)` with the
/// connection it leases.
struct BotContext {
    /// Changed only on the Discord executor: at start-up, and by /admin setup as it makes the
    /// roles and channels bot.env does not name.
    ShopSettings& shop;
    const ui::TimeZone& zone;  ///< TIMEZONE, for dates shown to people
    const common::Clock& clock;
    boost::asio::any_io_executor executor;  ///< the Discord thread's executor
    discord::RestClient& rest;
    db::DbExecutor& db;
    domain::UserService& users;
    domain::CatalogService& catalog;
    domain::OrderService& orders;
    domain::Provisioner& provisioner;
    domain::AccountOperations& accounts;
    domain::GatewayDirectory& gateways;
    domain::Analytics& analytics;
    /// Timers and other work that outlives one interaction (order channel closers). The app
    /// cancels and joins it before it destroys anything above.
    common::TaskGroup& background;
    /// Waits of that background work (channel closing, delivery retries), on `clock`'s time.
    common::Sleeper& sleeper;
};

}  // namespace nebula::bot::core
