#include "bot/handlers/admin_commands.hpp"

#include "bot/domain/admin_queries.hpp"
#include "bot/handlers/admin.hpp"
#include "bot/handlers/admin_internal.hpp"
#include "bot/handlers/customer.hpp"
#include "bot/notify/customer.hpp"
#include "discord/text.hpp"

namespace nebula::bot::handlers {
namespace {

namespace asio = boost::asio;
using discord::OptionChoice;

constexpr int kMaxChoices = 25;

// Autocomplete choice names are limited to 100 characters; values here are short ids.
OptionChoice choice(const std::string& name, std::int64_t id) {
    return {discord::truncate_text(name, 100), std::to_string(id)};
}

asio::awaitable<void> run_command(std::shared_ptr<AdminCommands> commands, Call& call) {
    auto payload = co_await commands->handle(call.interaction, call.locale, call.admin, call);
    co_await reply_ephemeral_payload(call, std::move(payload));
}

asio::awaitable<void> run_autocomplete(std::shared_ptr<AdminCommands> commands, Call& call) {
    auto choices = co_await commands->autocomplete(call.interaction, call.admin);
    co_await call.responder.autocomplete(std::move(choices));
}

// Tells the customer in their order channel (or by DM when it is gone), as the review buttons do.
asio::awaitable<void> notify_customer(BotContext& ctx, domain::Order order, ui::Msg msg) {
    auto user = co_await ctx.db.run([&](db::Connection& c) { return ctx.users.get(c, order.user_id); });
    if (!user) co_return;
    const auto locale = notify::customer_locale(ctx, *user);
    discord::MessagePayload payload;
    payload.content =
        msg == ui::Msg::order_declined
            ? ui::tr(locale, msg,
                     {{"reference", order.reference},
                      {"reason", ui::translate_decline_reason(locale, order.decline_reason.value_or(""))}})
            : ui::tr(locale, msg);
    // A declined order can still be cancelled by the customer (or it expires).
    if (msg == ui::Msg::order_declined) payload.components.push_back(notify::cancel_row(locale, order.id));
    co_await notify::tell_customer(ctx, order, *user, std::move(payload));
}

}  // namespace

asio::awaitable<discord::MessagePayload> AdminCommands::handle(const discord::Interaction& interaction,
                                                               ui::Locale locale, bool admin, Call& source) {
    const auto* data = interaction.command();
    if (!admin || data == nullptr) co_return admin::text_reply(ui::tr(locale, ui::Msg::error_not_admin));
    const Invocation call{interaction, *data, locale, interaction.user.id, source};
    const auto path = data->path();
    const std::string group = path.size() > 1 ? path[1] : std::string();
    const std::string action = path.size() > 2 ? path[2] : std::string();
    if (group == "plan") co_return co_await plan(call, action);
    if (group == "server") co_return co_await server(call, action);
    if (group == "payment") co_return co_await payment(call, action);
    if (group == "stats") co_return co_await stats(call);
    if (group == "export") co_return co_await export_data(call, action);
    if (group == "audit") co_return co_await audit(call);
    if (group == "user") co_return co_await user(call, action);
    if (group == "account") co_return co_await account(call, action);
    if (group == "order") co_return co_await order(call, action);
    if (group == "trial") co_return co_await trial(call, action);
    if (group == "promo") co_return co_await promo(call, action);
    if (group == "announce") co_return co_await announce(call, action);
    // A path Discord no longer shows (an old client, a stale command list): nothing to run.
    co_return admin::text_reply(ui::tr(locale, ui::Msg::error_stale_button));
}

asio::awaitable<std::vector<OptionChoice>> AdminCommands::autocomplete(
    const discord::Interaction& interaction, bool admin) {
    std::vector<OptionChoice> choices;
    const auto* data = interaction.command();
    const auto* focused = data != nullptr ? data->focused() : nullptr;
    if (!admin || focused == nullptr) co_return choices;
    const auto* typed_value = std::get_if<std::string>(&focused->value);
    const std::string typed = typed_value != nullptr ? *typed_value : std::string();
    const std::string option = focused->name;
    auto& catalog = ctx_.catalog;
    const ui::Locale locale = ui::Locale::en;
    choices = co_await ctx_.db.run([&](db::Connection& c) {
        std::vector<OptionChoice> found;
        if (option == "plan") {
            for (const auto& plan : catalog.plans(c, false)) {
                if (!admin::contains_text(plan.spec.name, typed) && std::to_string(plan.id.value) != typed)
                    continue;
                found.push_back(choice(plan.spec.name + " — " + ui::format_money(locale, plan.spec.price) +
                                           " · " +
                                           ui::format_count(locale, plan.spec.duration_days, ui::Unit::day) +
                                           (plan.active ? "" : " · off sale"),
                                       plan.id.value));
            }
        } else if (option == "server") {
            for (const auto& server : catalog.servers(c)) {
                if (!admin::contains_text(server.spec.name, typed) &&
                    !admin::contains_text(server.spec.location, typed))
                    continue;
                found.push_back(choice(server.spec.name + " (" + server.spec.location + ")" +
                                           (server.enabled ? "" : " · disabled"),
                                       server.id.value));
            }
        } else if (option == "account") {
            for (const auto& hit : domain::admin::search_accounts(c, typed, kMaxChoices)) {
                found.push_back(choice("#" + std::to_string(hit.id.value) + " " + hit.client_email + " — " +
                                           hit.username + " — " + hit.server_name + " — " +
                                           std::string(domain::to_string(hit.status)) + ", expires " +
                                           ui::format_date(locale, hit.expires_at, ctx_.zone),
                                       hit.id.value));
            }
        } else if (option == "order") {
            for (const auto& hit : domain::admin::search_orders(c, typed, kMaxChoices)) {
                found.push_back(choice(
                    hit.reference + " — " + hit.username + " — " + std::string(domain::to_string(hit.status)),
                    hit.id.value));
            }
        }
        if (found.size() > kMaxChoices) found.resize(kMaxChoices);
        return found;
    });
    co_return choices;
}

void register_admin_handlers(Router& router, BotContext& ctx, AdminHooks hooks) {
    auto commands = std::make_shared<AdminCommands>(ctx, std::move(hooks));
    router.define_command(admin_command_definition(discord::permissions::kManageGuild));
    for (const auto& path : admin_command_paths()) {
        router.on_command(path, [commands](Call& call) { return run_command(commands, call); });
        router.on_autocomplete(path, [commands](Call& call) { return run_autocomplete(commands, call); });
    }
    admin::register_customer_paging(router);
}

AdminHooks default_admin_hooks(BotContext& ctx) {
    AdminHooks hooks;
    hooks.order_fulfilled = [](Call& call, domain::Fulfilment fulfilment) -> boost::asio::awaitable<void> {
        co_await deliver_approved(call, fulfilment);
    };
    hooks.order_declined = [&ctx](domain::Order order) {
        return notify_customer(ctx, std::move(order), ui::Msg::order_declined);
    };
    hooks.order_pending = [&ctx](domain::Order order, domain::Error) {
        return notify_customer(ctx, std::move(order), ui::Msg::order_being_prepared);
    };
    return hooks;
}

void register_admin_handlers(Router& router, BotContext& ctx) {
    register_admin_handlers(router, ctx, default_admin_hooks(ctx));
}

}  // namespace nebula::bot::handlers
