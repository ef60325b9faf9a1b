#pragma once

#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "bot/core/context.hpp"
#include "bot/ui/i18n.hpp"
#include "discord/interactions.hpp"
#include "discord/model.hpp"
#include "discord/rest.hpp"
#include "discord/snowflake.hpp"

// How the handlers fit together
// -----------------------------
// The app (src/bot/app) builds one BotContext (bot/core/context.hpp) and one Router, then calls each module's
// `register_*_handlers(Router&, BotContext&)`. The admin commands plug in through
// `register_admin_handlers` (declared in bot/handlers/admin.hpp, defined in admin*.cpp).
// A handler receives a Call: the interaction, its responder (auto-defer inside Discord's 3 s
// window is already armed), the locale to answer in and whether the clicker holds the admin role.
// Handlers run on the Discord executor and must never block it: database work goes through
// `co_await ctx.db.run([&](db::Connection& c) { ... })`, gateway calls are coroutines already.

namespace nebula::bot::handlers {

using core::BotContext;
using core::ShopSettings;

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
    /// The clicker's users row (nothing inside: not a customer yet) once a handler that reads it
    /// itself (Router::reads_clicker) handed it over with know_clicker(); unset otherwise.
    std::optional<std::optional<domain::User>> clicker;

    /// Takes the clicker's row read in the handler's own database task: the locale follows their
    /// saved choice from here on, and the dispatcher notes their Discord language afterwards.
    void know_clicker(std::optional<domain::User> user, ui::Locale shop_default) {
        locale =
            ui::choose_locale(user ? user->locale_choice.value_or("") : "", interaction.locale, shop_default);
        clicker = std::move(user);
    }

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
