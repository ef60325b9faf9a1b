#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "bot/domain/orders.hpp"
#include "bot/domain/provisioning.hpp"
#include "bot/handlers/context.hpp"
#include "bot/handlers/router.hpp"
#include "bot/ui/i18n.hpp"
#include "discord/builders.hpp"
#include "discord/model.hpp"

namespace nebula::bot::handlers {

/// What `/admin order approve|decline` shares with the review buttons: telling the customer and
/// updating the review card. Each hook is optional; without it the command changes the order in
/// the database (audited) and the customer hears nothing from it.
struct AdminHooks {
    /// After an order was approved and its account created.
    std::function<boost::asio::awaitable<void>(Call&, domain::Fulfilment)> order_fulfilled;
    /// After an order was approved but provisioning failed (the reconciler finishes it).
    std::function<boost::asio::awaitable<void>(domain::Order, domain::Error)> order_pending;
    /// After an order was declined.
    std::function<boost::asio::awaitable<void>(domain::Order)> order_declined;
};

/// The `/admin` subcommands this module answers (every one except `setup`, which the panel
/// module owns): groups plan, server, payment, export, user, account and order; subcommands
/// stats and audit. Plans, servers, accounts and orders are picked with autocomplete; the
/// option's value is the record's id as decimal text (a name, email or reference typed by hand
/// works too).
discord::Command admin_command_definition(std::uint64_t default_member_permissions);

/// The command paths (as CommandData::path() joins them) this module registers.
std::vector<std::string> admin_command_paths();

/// The admin slash commands: parse the options, check the admin role, call the domain and
/// render an ephemeral reply in the admin's language. Every change is audited by the domain with
/// the admin's Discord id. Nothing is kept between calls (state is in the database), so a
/// restart loses nothing. Coroutines run on the Discord executor; database work goes to the
/// DbExecutor. Use from that executor.
class AdminCommands {
  public:
    explicit AdminCommands(BotContext& ctx, AdminHooks hooks = {}) : ctx_(ctx), hooks_(std::move(hooks)) {}

    /// The reply to a `/admin …` command. A non-admin gets error_not_admin and nothing changes;
    /// bad input and domain refusals get a message naming the problem. Exceptions (database
    /// failures, bugs) propagate to the dispatcher, which logs them and answers generically.
    boost::asio::awaitable<discord::MessagePayload> handle(const discord::Interaction& interaction,
                                                           ui::Locale locale, bool admin, Call& source);

    /// Choices for the focused plan / server / account / order option, at most 25 (none for a
    /// non-admin).
    boost::asio::awaitable<std::vector<discord::OptionChoice>> autocomplete(
        const discord::Interaction& interaction, bool admin);

    /// Public for the admin_*.cpp files only: one invocation's context (see admin_internal.hpp).
    struct Invocation;

  private:
    using Reply = boost::asio::awaitable<discord::MessagePayload>;

    Reply plan(const Invocation& call, std::string action);
    Reply server(const Invocation& call, std::string action);
    Reply payment(const Invocation& call, std::string action);
    Reply stats(const Invocation& call);
    Reply export_data(const Invocation& call, std::string what);
    Reply audit(const Invocation& call);
    Reply user(const Invocation& call, std::string action);
    Reply account(const Invocation& call, std::string action);
    Reply move_account(const Invocation& call, const domain::Account& account);
    Reply order(const Invocation& call, std::string action);
    Reply trial(const Invocation& call, std::string action);
    Reply promo(const Invocation& call, std::string action);
    // Customers and their history, accounts given by admins, refunds (admin_customers.cpp).
    Reply user_list(const Invocation& call, std::string action);
    Reply user_note(const Invocation& call);
    boost::asio::awaitable<discord::Embed> history_embed(const Invocation& call, domain::UserId user);
    Reply account_create(const Invocation& call);
    Reply account_change_plan(const Invocation& call);
    Reply order_refund(const Invocation& call);
    Reply announce(const Invocation& call, std::string action);

    BotContext& ctx_;
    AdminHooks hooks_;
};

/// The hooks register_admin_handlers(Router&, BotContext&) uses, the same steps as the review
/// buttons: a fulfilled order's link, QR code and subscription URL are delivered to the customer
/// (flow::deliver); a declined order and an approved order still being provisioned are announced
/// to the customer in the order channel (or by DM).
AdminHooks default_admin_hooks(BotContext& ctx);

/// register_admin_handlers() with hooks into the review flow.
void register_admin_handlers(Router& router, BotContext& ctx, AdminHooks hooks);

}  // namespace nebula::bot::handlers
