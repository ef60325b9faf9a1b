// /admin user …, /admin account …, /admin order …
#include "bot/domain/account_moves.hpp"
#include "bot/domain/deliveries.hpp"
#include "bot/handlers/admin_commands.hpp"
#include "bot/handlers/admin_internal.hpp"
#include "bot/notify/account_moves.hpp"
#include "bot/notify/customer.hpp"
#include "bot/ui/qr.hpp"

namespace nebula::bot::handlers {
namespace {

namespace asio = boost::asio;
using admin::failure;
using admin::text_reply;
using notify::mention;
using ui::Msg;

std::string traffic_text(const AdminCommands::Invocation& call, const domain::Account& account) {
    const auto used = account.used_up_bytes + account.used_down_bytes;
    if (account.traffic_limit_bytes == 0) {
        return call.t(Msg::traffic_used_unlimited, {{"used", ui::format_bytes(used)}});
    }
    return call.t(Msg::traffic_used_of, {{"used", ui::format_bytes(used)},
                                         {"total", ui::format_bytes(account.traffic_limit_bytes)}}) +
           "\n" + ui::progress_bar(used, account.traffic_limit_bytes);
}

}  // namespace

asio::awaitable<discord::MessagePayload> AdminCommands::user(const Invocation& call, std::string action) {
    if (action == "list" || action == "search") co_return co_await user_list(call, action);
    if (action == "note") co_return co_await user_note(call);
    const auto member = call.member("user");
    if (!member) co_return failure(call, "choose a member");
    const domain::DiscordId discord_id = *member;
    const auto resolved = call.data.resolved.users.find(*member);
    const std::string username =
        resolved != call.data.resolved.users.end() ? resolved->second.username : discord_id.str();
    auto& users = ctx_.users;

    if (action == "info") {
        struct Info {
            domain::User user;
            std::size_t orders = 0;
            std::size_t accounts = 0;
        };
        auto info = co_await ctx_.db.run([&](db::Connection& c) -> std::optional<Info> {
            auto user = users.find(c, discord_id);
            if (!user) return std::nullopt;
            return Info{*user, ctx_.orders.for_user(c, user->id).size(),
                        domain::accounts::for_user(c, user->id).size()};
        });
        if (!info) co_return text_reply(call.t(Msg::admin_not_found, {{"query", mention(discord_id)}}));
        std::string status = info->user.status == domain::UserStatus::banned
                                 ? call.t(Msg::user_status_banned)
                                 : call.t(Msg::account_status_active);
        if (info->user.ban_reason) status += " (" + *info->user.ban_reason + ")";
        auto reply =
            text_reply(call.t(Msg::admin_user_info,
                              {{"user", mention(discord_id)},
                               {"status", status},
                               {"orders", info->orders},
                               {"accounts", info->accounts},
                               {"joined", ui::format_date(call.locale, info->user.created_at, ctx_.zone)}}));
        reply.embeds.push_back(co_await history_embed(call, info->user.id));
        co_return reply;
    }
    if (action == "ban") {
        const std::string reason = call.string("reason").value_or("");
        if (reason.empty()) co_return failure(call, "give a reason");
        auto banned = co_await ctx_.db.run([&](db::Connection& c) {
            // A member who never used the bot can be banned before their first order.
            const auto user = users.ensure(c, discord_id, username);
            return users.ban(c, call.actor, user.id, reason);
        });
        if (!banned) co_return failure(call, banned.error().message);
        co_return text_reply(
            call.t(Msg::admin_user_banned, {{"user", mention(discord_id)}, {"reason", reason}}));
    }
    // unban
    auto unbanned = co_await ctx_.db.run([&](db::Connection& c) -> domain::Outcome<domain::User> {
        auto user = users.find(c, discord_id);
        if (!user) return domain::fail(domain::ErrorCode::not_found, "that member has never used the bot");
        return users.unban(c, call.actor, user->id);
    });
    if (!unbanned) co_return failure(call, unbanned.error().message);
    co_return text_reply(call.t(Msg::admin_user_unbanned, {{"user", mention(discord_id)}}));
}

asio::awaitable<discord::MessagePayload> AdminCommands::account(const Invocation& call, std::string action) {
    if (action == "create") co_return co_await account_create(call);
    if (action == "change-plan") co_return co_await account_change_plan(call);
    const std::string wanted = call.string("account").value_or("");
    auto found = co_await ctx_.db.run([&](db::Connection& c) { return admin::find_account(c, wanted); });
    if (!found) co_return failure(call, "no account matches \"" + wanted + "\"");
    const auto id = found->id;
    const std::string label = admin::account_label(*found);
    auto& ops = ctx_.accounts;

    if (action == "info") {
        struct Details {
            std::optional<domain::User> user;
            std::optional<domain::Server> server;
            std::optional<domain::Plan> plan;
        };
        auto details = co_await ctx_.db.run([&](db::Connection& c) {
            Details d;
            d.user = ctx_.users.get(c, found->user_id);
            d.server = ctx_.catalog.server(c, found->server_id);
            if (found->plan_id) d.plan = ctx_.catalog.plan(c, *found->plan_id);
            return d;
        });
        const auto now = domain::to_timestamp(ctx_.clock.now());
        const int days = ui::days_left(now, found->expires_at);
        discord::Embed embed;
        embed.title(call.t(Msg::label_account) + " " + label)
            .color(kAdminColor)
            .field(call.t(Msg::label_customer), details.user ? mention(details.user->discord_id) : "?", true)
            .field(
                call.t(Msg::label_server),
                details.server ? details.server->spec.name + " (" + details.server->spec.location + ")" : "?",
                true)
            .field(call.t(Msg::label_plan), details.plan ? details.plan->spec.name : "—", true)
            .field(call.t(Msg::label_status), call.t(ui::account_status_msg(found->status)), true)
            .field(call.t(Msg::label_expires),
                   ui::format_date_time(call.locale, found->expires_at, ctx_.zone) + "\n" +
                       (days > 0 ? call.t(Msg::account_days_left,
                                          {{"days", ui::format_count(call.locale, days, ui::Unit::day)}})
                                 : call.t(Msg::account_expired_short)),
                   true)
            .field(call.t(Msg::label_devices), ui::format_device_limit(call.locale, found->device_limit),
                   true)
            .field(call.t(Msg::label_traffic), traffic_text(call, *found), false);
        co_return admin::embed_reply(std::move(embed));
    }
    if (action == "config") {
        auto config = co_await ops.show_config(id);
        if (!config) co_return failure(call, config.error().message);
        auto server =
            co_await ctx_.db.run([&](db::Connection& c) { return ctx_.catalog.server(c, found->server_id); });
        discord::MessagePayload payload = text_reply(
            call.t(Msg::show_config_body, {{"server", server ? server->spec.name : std::string("?")},
                                           {"link", config->links.vless},
                                           {"subscription_url", config->links.subscription}}));
        auto qr = ui::qr_png(config->links.vless);
        if (qr)
            payload.files.push_back(
                {"config-qr.png", "image/png", std::move(*qr), "QR code of the VLESS link"});
        co_return payload;
    }

    if (action == "move") co_return co_await move_account(call, *found);

    domain::Outcome<domain::Account> changed =
        domain::fail(domain::ErrorCode::validation, "unknown action " + action);
    Msg done = Msg::admin_failed;
    if (action == "extend") {
        const auto days = call.integer("days").value_or(0);
        if (days <= 0) co_return failure(call, "days must be at least 1");
        if (days > 3650) co_return failure(call, "days must be at most 3650");
        changed = co_await ops.extend(id, static_cast<int>(days), call.actor);
        if (!changed) co_return failure(call, changed.error().message);
        co_return text_reply(
            call.t(Msg::admin_account_extended,
                   {{"account", label},
                    {"duration", ui::format_count(call.locale, days, ui::Unit::day)},
                    {"expiry", ui::format_date(call.locale, changed->expires_at, ctx_.zone)}}));
    }
    if (action == "enable" || action == "disable") {
        changed = co_await ops.set_enabled(id, action == "enable", call.actor);
        done = action == "enable" ? Msg::admin_account_enabled : Msg::admin_account_disabled;
    } else if (action == "delete") {
        changed = co_await ops.remove(id, call.actor);
        done = Msg::admin_account_deleted;
    } else if (action == "reset-traffic") {
        changed = co_await ops.reset_traffic(id, call.actor);
        done = Msg::admin_account_traffic_reset;
    }
    if (!changed) co_return failure(call, changed.error().message);
    co_return text_reply(call.t(done, {{"account", label}}));
}

asio::awaitable<discord::MessagePayload> AdminCommands::move_account(const Invocation& call,
                                                                     const domain::Account& account) {
    const std::string wanted = call.string("server").value_or("");
    auto target =
        co_await ctx_.db.run([&](db::Connection& c) { return admin::find_server(c, ctx_.catalog, wanted); });
    if (!target) co_return failure(call, "no server matches \"" + wanted + "\"");
    domain::AccountMover mover(ctx_.db, ctx_.gateways, ctx_.catalog, ctx_.clock);
    auto started = co_await mover.start(account.id, target->id, call.actor);
    if (!started) co_return failure(call, started.error().message);
    // New client, the customer told, the old client removed; what fails here the reconciler resumes.
    const auto run = co_await notify::run_account_move(ctx_, started->id);
    const std::string label = admin::account_label(account);
    if (run.move && run.move->state == domain::MoveState::done) {
        co_return text_reply(
            call.t(Msg::admin_account_moved, {{"account", label}, {"server", target->spec.name}}));
    }
    co_return text_reply(call.t(Msg::admin_account_move_pending, {{"account", label},
                                                                  {"server", target->spec.name},
                                                                  {"move", std::to_string(started->id)},
                                                                  {"error", run.error.value_or("?")}}));
}

asio::awaitable<discord::MessagePayload> AdminCommands::order(const Invocation& call, std::string action) {
    if (action == "refund") co_return co_await order_refund(call);
    const std::string wanted = call.string("order").value_or("");
    auto& orders = ctx_.orders;
    auto found =
        co_await ctx_.db.run([&](db::Connection& c) { return admin::find_order(c, orders, wanted); });
    if (!found) co_return failure(call, "no order matches \"" + wanted + "\"");

    if (action == "info") {
        struct Details {
            std::optional<domain::User> user;
            std::optional<domain::Plan> plan;
            std::optional<domain::PaymentMethod> method;
            std::optional<domain::Server> server;
            std::optional<domain::Delivery> delivery;
        };
        auto details = co_await ctx_.db.run([&](db::Connection& c) {
            Details d;
            d.delivery = domain::deliveries::get(c, found->id);
            d.user = ctx_.users.get(c, found->user_id);
            d.plan = ctx_.catalog.plan(c, found->plan_id);
            if (found->payment_method_id)
                d.method = ctx_.catalog.payment_method(c, *found->payment_method_id);
            if (found->server_id) d.server = ctx_.catalog.server(c, *found->server_id);
            return d;
        });
        std::string status = call.t(ui::order_status_msg(found->status));
        if (found->decline_reason) status += "\n" + *found->decline_reason;
        if (found->last_error) status += "\n`" + *found->last_error + "`";
        if (found->refunded_at) {
            status += "\n" + call.t(Msg::order_status_refunded) + ": " + found->refund_reason.value_or("");
        }
        if (found->gift_reason) status += "\n" + call.t(Msg::order_gift, {{"reason", *found->gift_reason}});
        std::string method = "—";
        if (details.method) {
            const auto msg = ui::payment_method_msg(details.method->code);
            method = msg ? call.t(*msg) : details.method->name_en;
        }
        discord::Embed embed;
        embed.title(call.t(Msg::label_reference) + " " + found->reference)
            .color(kAdminColor)
            .field(call.t(Msg::label_customer), details.user ? mention(details.user->discord_id) : "?", true)
            .field(call.t(Msg::label_order_type), call.t(ui::order_kind_msg(found->kind)), true)
            .field(call.t(Msg::label_plan), details.plan ? details.plan->spec.name : "?", true)
            .field(call.t(Msg::label_amount), ui::format_money(call.locale, found->amount), true)
            .field(call.t(Msg::label_method), method, true)
            .field(call.t(Msg::label_status), status, true)
            .field(call.t(Msg::label_submitted),
                   found->submitted_at ? ui::format_date_time(call.locale, *found->submitted_at, ctx_.zone)
                                       : "—",
                   true);
        if (details.server) embed.field(call.t(Msg::label_server), details.server->spec.name, true);
        if (found->account_id) {
            embed.field(call.t(Msg::label_account), "#" + std::to_string(found->account_id->value), true);
        }
        // Whether the customer has everything of the fulfilled order, or what is still missing.
        auto delivery_state = [&](const std::optional<domain::Delivery>& d) -> std::string {
            if (!d) return call.t(Msg::delivery_state_untracked);
            if (d->complete()) {
                return call.t(Msg::delivery_state_complete,
                              {{"when", ui::format_date_time(call.locale, *d->completed_at, ctx_.zone)}});
            }
            using domain::DeliveryPart;
            const std::pair<DeliveryPart, Msg> parts[] = {
                {DeliveryPart::card, Msg::delivery_part_card},
                {DeliveryPart::channel, Msg::delivery_part_channel},
                {DeliveryPart::dm, Msg::delivery_part_dm},
                {DeliveryPart::role, Msg::delivery_part_role},
                {DeliveryPart::billing, Msg::delivery_part_billing},
                {DeliveryPart::closing, Msg::delivery_part_closing}};
            std::string missing;
            for (const auto& [part, name] : parts) {
                if (!d->done(part)) missing += (missing.empty() ? "" : ", ") + call.t(name);
            }
            std::string text =
                call.t(Msg::delivery_state_pending,
                       {{"parts", missing},
                        {"attempts", d->attempts},
                        {"when", ui::format_date_time(call.locale, d->next_attempt_at, ctx_.zone)}});
            if (d->last_error) text += "\n`" + *d->last_error + "`";
            return text;
        };
        if (found->status == domain::OrderStatus::fulfilled) {
            embed.field(call.t(Msg::label_delivery), delivery_state(details.delivery), false);
        }
        co_return admin::embed_reply(std::move(embed));
    }
    if (action == "approve") {
        auto fulfilled = co_await ctx_.provisioner.approve_and_fulfil(found->id, call.actor);
        if (fulfilled) {
            if (hooks_.order_fulfilled) co_await hooks_.order_fulfilled(call.source, *fulfilled);
            co_return text_reply(call.t(Msg::admin_order_approved, {{"reference", found->reference}}));
        }
        const auto error = fulfilled.error();
        if (domain::is_pending(error)) {
            // Approved, but the panel client is not made yet: the reconciler retries.
            auto approved = co_await ctx_.db.run([&](db::Connection& c) { return orders.get(c, found->id); });
            if (approved && hooks_.order_pending) co_await hooks_.order_pending(*approved, error);
            co_return text_reply(call.t(Msg::review_provisioning_failed, {{"error", error.message}}));
        }
        co_return failure(call, error.message);
    }
    // decline
    const std::string reason = ui::decline_reason(ui::Locale::en, call.string("preset").value_or(""),
                                                  call.string("reason").value_or(""));
    if (reason.empty()) co_return failure(call, "give a reason for the customer (preset, reason or both)");
    const bool allow_reupload = call.boolean("allow_reupload").value_or(true);
    auto declined = co_await ctx_.db.run(
        [&](db::Connection& c) { return orders.decline(c, found->id, call.actor, reason, allow_reupload); });
    if (!declined) co_return failure(call, declined.error().message);
    if (hooks_.order_declined) co_await hooks_.order_declined(*declined);
    co_return text_reply(
        call.t(Msg::admin_order_declined, {{"reference", found->reference}, {"reason", reason}}));
}

}  // namespace nebula::bot::handlers
