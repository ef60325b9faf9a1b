#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "bot/db/executor.hpp"
#include "bot/domain/analytics.hpp"
#include "bot/domain/catalog.hpp"
#include "bot/domain/orders.hpp"
#include "bot/domain/provisioning.hpp"
#include "bot/domain/users.hpp"
#include "bot/ui/i18n.hpp"
#include "bot/ui/time_zone.hpp"
#include "common/clock.hpp"
#include "common/task_group.hpp"
#include "discord/interactions.hpp"
#include "discord/model.hpp"
#include "discord/rest.hpp"
#include "discord/snowflake.hpp"

// How the handlers fit together
// -----------------------------
// The app (src/bot/app) builds one BotContext and one Router, then calls each module's
// `register_*_handlers(Router&, BotContext&)`. The admin commands plug in through
// `register_admin_handlers` (declared in bot/handlers/admin.hpp, defined in admin*.cpp).
// A handler receives a Call: the interaction, its responder (auto-defer inside Discord's 3 s
// window is already armed), the locale to answer in and whether the clicker holds the admin role.
// Handlers run on the Discord executor and must never block it: database work goes through
// `co_await ctx.db.run([&](db::Connection& c) { ... })`, gateway calls are coroutines already.

namespace nebula::bot::handlers {

/// The shop's Discord layout and the order-flow knobs: what handlers need from the configuration
/// (secrets such as the bot token are not here). Plain value, read once at start-up.
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
    ui::Locale default_locale = ui::Locale::en;            ///< DEFAULT_LOCALE
    std::filesystem::path data_dir = "data";               ///< DATA_DIR (receipts, exports)
    std::size_t max_receipt_bytes = 8 * 1024 * 1024;       ///< receipts above this are refused
    /// A finished order's channel turns read-only this long after the last step, and is deleted
    /// `order_channel_delete_after` after that.
    std::chrono::seconds order_channel_archive_after{std::chrono::minutes(10)};
    std::chrono::seconds order_channel_delete_after{std::chrono::hours(24)};
    /// How long My Account waits for a usage figure older than 5 minutes to be read again from
    /// its gateway before it shows the stored one with its "as of" time.
    std::chrono::milliseconds usage_refresh_wait{std::chrono::seconds(3)};
};

/// Everything a handler may use, by reference; the app owns the objects and keeps them alive
/// for as long as handlers run. Use from the Discord executor only (`executor`); the domain
/// services are stateless and are called inside `db.run(...)` with the connection it leases.
struct BotContext {
    const ShopSettings& shop;
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
};

/// True when the interaction's member holds the admin role (ADMIN_ROLE_ID). Checked on every
/// admin click and command, never trusted from command permissions alone. DMs are never admin.
bool is_admin(const ShopSettings& shop, const discord::Interaction& interaction);

/// One interaction being handled. Owned by the dispatcher for the duration of the handler.
struct Call {
    BotContext& ctx;
    const discord::Interaction& interaction;
    discord::InteractionResponder& responder;
    /// The customer's saved choice, else their Discord locale, else the shop's.
    ui::Locale locale = ui::Locale::en;
    bool admin = false;  ///< is_admin() of this interaction

    /// tr() in this call's locale.
    std::string tr(ui::Msg msg, std::initializer_list<ui::Arg> args = {}) const {
        return ui::tr(locale, msg, args);
    }
    const discord::User& user() const { return interaction.user; }
};

/// Replies with one ephemeral text message (only the clicker sees it).
boost::asio::awaitable<void> reply_ephemeral(Call& call, std::string text);
/// Replies with a payload made ephemeral.
boost::asio::awaitable<void> reply_ephemeral_payload(Call& call, discord::MessagePayload payload);

/// Replies "admins only" (ephemeral) and returns false unless the clicker holds the admin role.
/// Use first thing in every admin handler: `if (!co_await require_admin(call)) co_return;`.
boost::asio::awaitable<bool> require_admin(Call& call);

}  // namespace nebula::bot::handlers
