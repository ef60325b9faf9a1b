// /admin user list|search|note, the customer history in /admin user info, /admin account
// create|change-plan and /admin order refund.
#include <map>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "bot/domain/customers.hpp"
#include "bot/domain/manual_orders.hpp"
#include "bot/handlers/admin_commands.hpp"
#include "bot/handlers/admin_internal.hpp"
#include "bot/notify/customer.hpp"
#include "discord/custom_id.hpp"
#include "discord/text.hpp"

namespace nebula::bot::handlers {
namespace {

namespace asio = boost::asio;
using admin::failure;
using admin::text_reply;
using ui::Msg;

constexpr int kPageSize = 10;
constexpr std::size_t kHistoryLines = 10;
constexpr std::string_view kPagePrefix = "admin_users";

std::string mention(const domain::DiscordId& discord_id) { return "<@" + discord_id.str() + ">"; }

// The list's filter in a button: one letter.
char filter_code(domain::CustomerFilter filter) {
    switch (filter) {
        case domain::CustomerFilter::all:
            return 'a';
        case domain::CustomerFilter::active:
            return 'c';
        case domain::CustomerFilter::banned:
            return 'b';
        case domain::CustomerFilter::subscribed:
            return 's';
    }
    return 'a';
}

std::optional<domain::CustomerFilter> filter_from_code(std::string_view code) {
    if (code == "a") return domain::CustomerFilter::all;
    if (code == "c") return domain::CustomerFilter::active;
    if (code == "b") return domain::CustomerFilter::banned;
    if (code == "s") return domain::CustomerFilter::subscribed;
    return std::nullopt;
}

// The query travels in the button's custom_id: "q" then the text with '%' and ':' escaped.
std::string encode_query(std::string_view query) {
    std::string out = "q";
    for (char c : query) {
        if (c == '%') {
            out += "%25";
        } else if (c == ':') {
            out += "%3A";
        } else {
            out += c;
        }
    }
    return out;
}

std::optional<std::string> decode_query(std::string_view encoded) {
    if (!encoded.starts_with('q')) return std::nullopt;
    encoded.remove_prefix(1);
    std::string out;
    for (std::size_t i = 0; i < encoded.size(); ++i) {
        if (encoded[i] != '%') {
            out += encoded[i];
            continue;
        }
        const auto escape = encoded.substr(i, 3);
        if (escape == "%25") {
            out += '%';
        } else if (escape == "%3A") {
            out += ':';
        } else {
            return std::nullopt;
        }
        i += 2;
    }
    return out;
}

// A page button, or nothing when the query is too long to travel in a custom_id.
std::optional<std::string> page_id(const std::string& owner, std::int64_t offset,
                                   domain::CustomerFilter filter, std::string_view query) {
    try {
        return discord::custom_id::make(kPagePrefix, owner, offset, std::string(1, filter_code(filter)),
                                        encode_query(query));
    } catch (const std::length_error&) {
        return std::nullopt;
    }
}

// One page of the customer list, with Previous / Next for the admin who asked.
asio::awaitable<discord::MessagePayload> customer_page(BotContext& ctx, ui::Locale locale, std::string owner,
                                                       domain::CustomerFilter filter, std::string query,
                                                       std::int64_t offset) {
    auto page = co_await ctx.db.run(
        [&](db::Connection& c) { return domain::customers::list(c, filter, query, offset, kPageSize); });
    if (page.total > 0 && offset >= page.total) {
        // The list shrank since the button was drawn: show its last page.
        offset = (page.total - 1) / kPageSize * kPageSize;
        page = co_await ctx.db.run(
            [&](db::Connection& c) { return domain::customers::list(c, filter, query, offset, kPageSize); });
    }
    const auto t = [&](Msg msg, std::initializer_list<ui::Arg> args = {}) {
        return ui::tr(locale, msg, args);
    };
    discord::MessagePayload payload;
    if (page.rows.empty()) {
        payload.content = t(Msg::admin_users_none);
        co_return payload;
    }
    std::string lines;
    for (const auto& row : page.rows) {
        const std::string status = row.status == domain::UserStatus::banned ? t(Msg::user_status_banned)
                                                                            : t(Msg::account_status_active);
        if (!lines.empty()) lines += "\n";
        lines += t(Msg::admin_users_row, {{"user", mention(row.discord_id)},
                                          {"name", row.username},
                                          {"status", status},
                                          {"orders", row.orders},
                                          {"accounts", row.active_accounts},
                                          {"joined", ui::format_date(locale, row.created_at, ctx.zone)}});
    }
    const std::int64_t pages = (page.total + kPageSize - 1) / kPageSize;
    const std::int64_t number = offset / kPageSize + 1;
    discord::Embed embed;
    embed.title(t(Msg::admin_users_title, {{"total", page.total}}))
        .color(kAdminColor)
        .description(lines)
        .footer(t(Msg::admin_users_page, {{"page", number}, {"pages", pages}}));
    payload.embeds.push_back(std::move(embed));
    if (pages > 1) {
        const auto previous = page_id(owner, std::max<std::int64_t>(offset - kPageSize, 0), filter, query);
        const auto next = page_id(owner, offset + kPageSize, filter, query);
        if (previous && next) {
            auto back = discord::Button::action(discord::ButtonStyle::secondary, t(Msg::button_previous_page),
                                                *previous);
            back.disabled = offset == 0;
            auto forward =
                discord::Button::action(discord::ButtonStyle::secondary, t(Msg::button_next_page), *next);
            forward.disabled = number >= pages;
            payload.components.push_back(
                discord::ActionRow{std::vector<discord::Button>{std::move(back), std::move(forward)}});
        }
    }
    co_return payload;
}

std::string lines_or_none(const std::vector<std::string>& lines, std::size_t total, ui::Locale locale) {
    if (lines.empty()) return ui::tr(locale, Msg::admin_user_nothing);
    std::string text;
    for (const auto& line : lines) text += (text.empty() ? "" : "\n") + line;
    if (total > lines.size())
        text += "\n" + ui::tr(locale, Msg::admin_user_more,
                              {{"count", static_cast<std::int64_t>(total - lines.size())}});
    return discord::truncate_text(text, 1024);
}

// Tells the customer of a refund, in their language, in the order channel or by DM.
asio::awaitable<void> tell_refund(BotContext& ctx, domain::Order order, bool disabled) {
    auto user = co_await ctx.db.run([&](db::Connection& c) { return ctx.users.get(c, order.user_id); });
    if (!user) co_return;
    const auto locale = notify::customer_locale(ctx, *user);
    discord::MessagePayload payload;
    payload.content = ui::tr(locale, Msg::order_refunded,
                             {{"amount", ui::format_money(locale, order.amount)},
                              {"reference", order.reference},
                              {"reason", order.refund_reason.value_or("")}});
    if (disabled) payload.content += "\n" + ui::tr(locale, Msg::order_refunded_account_disabled);
    co_await notify::tell_customer(ctx, order, *user, std::move(payload));
}

}  // namespace

asio::awaitable<void> admin::page_customers(Call& call, std::string owner, std::int64_t offset,
                                            std::string filter_text, std::string encoded_query) {
    if (!co_await require_admin(call)) co_return;
    if (call.user().id.str() != owner) {
        co_await reply_ephemeral(call, call.tr(Msg::admin_users_not_yours));
        co_return;
    }
    const auto filter = filter_from_code(filter_text);
    const auto query = decode_query(encoded_query);
    if (!filter || !query || offset < 0) {
        co_await reply_ephemeral(call, call.tr(Msg::error_stale_button));
        co_return;
    }
    auto payload = co_await customer_page(call.ctx, call.locale, owner, *filter, *query, offset);
    co_await call.responder.update_message(std::move(payload));
}

void admin::register_customer_paging(Router& router) {
    router.on_component<std::string, std::int64_t, std::string, std::string>(
        std::string(kPagePrefix),
        [](Call& call, std::string owner, std::int64_t offset, std::string filter, std::string query) {
            return page_customers(call, std::move(owner), offset, std::move(filter), std::move(query));
        });
}

asio::awaitable<discord::MessagePayload> AdminCommands::user_list(const Invocation& call,
                                                                  std::string action) {
    const std::string query = call.string("query").value_or("");
    const auto filter = domain::parse_customer_filter(call.string("status").value_or(""));
    if (!filter) co_return failure(call, "status must be all, active, banned or subscribed");
    if (action == "search" && query.empty()) co_return failure(call, "type what to search for");
    co_return co_await customer_page(ctx_, call.locale, call.actor.str(), *filter, query, 0);
}

asio::awaitable<discord::MessagePayload> AdminCommands::user_note(const Invocation& call) {
    const auto member = call.member("user");
    if (!member) co_return failure(call, "choose a member");
    const domain::DiscordId discord_id = *member;
    const std::string text = call.string("text").value_or("");
    const auto now = domain::to_timestamp(ctx_.clock.now());
    auto noted = co_await ctx_.db.run([&](db::Connection& c) -> domain::Outcome<domain::UserNote> {
        auto user = ctx_.users.find(c, discord_id);
        if (!user) return domain::fail(domain::ErrorCode::not_found, "that member has never used the bot");
        return domain::customers::add_note(c, call.actor, user->id, text, now);
    });
    if (!noted) co_return failure(call, noted.error().message);
    co_return text_reply(call.t(Msg::admin_user_note_added, {{"user", mention(discord_id)}}));
}

asio::awaitable<discord::Embed> AdminCommands::history_embed(const Invocation& call, domain::UserId user) {
    auto history = co_await ctx_.db.run(
        [&](db::Connection& c) { return domain::customers::history(c, ctx_.orders, user); });
    struct Names {
        std::map<std::int64_t, std::string> servers;
        std::map<std::int64_t, std::string> plans;
    };
    auto names = co_await ctx_.db.run([&](db::Connection& c) {
        Names n;
        for (const auto& server : ctx_.catalog.servers(c)) n.servers[server.id.value] = server.spec.name;
        for (const auto& plan : ctx_.catalog.plans(c, false)) n.plans[plan.id.value] = plan.spec.name;
        return n;
    });
    const auto locale = call.locale;
    std::vector<std::string> orders;
    for (const auto& line : history.orders) {
        if (orders.size() == kHistoryLines) break;
        const auto& o = line.order;
        std::string method = "—";
        if (line.payment_method) {
            const auto msg = ui::payment_method_msg(*line.payment_method);
            method = msg ? call.t(*msg) : *line.payment_method;
        }
        std::string status =
            o.refunded_at ? call.t(Msg::order_status_refunded) : call.t(ui::order_status_msg(o.status));
        if (o.gift_reason) status += " · " + call.t(Msg::order_gift, {{"reason", *o.gift_reason}});
        if (o.trial) status += " · " + call.t(Msg::label_trial);
        orders.push_back(
            call.t(Msg::admin_user_order_line, {{"reference", o.reference},
                                                {"plan", line.plan_name},
                                                {"amount", ui::format_money(locale, o.amount)},
                                                {"method", method},
                                                {"status", status},
                                                {"date", ui::format_date(locale, o.created_at, ctx_.zone)}}));
    }
    std::vector<std::string> accounts;
    for (const auto& a : history.accounts) {
        if (accounts.size() == kHistoryLines) break;
        const auto plan = a.plan_id ? names.plans.find(a.plan_id->value) : names.plans.end();
        const auto server = names.servers.find(a.server_id.value);
        accounts.push_back(
            call.t(Msg::admin_user_account_line,
                   {{"account", admin::account_label(a) +
                                    (server != names.servers.end() ? " " + server->second : std::string())},
                    {"plan", plan != names.plans.end() ? plan->second : std::string("—")},
                    {"status", call.t(ui::account_status_msg(a.status))},
                    {"expiry", ui::format_date(locale, a.expires_at, ctx_.zone)}}));
    }
    std::vector<std::string> notes;
    // The newest notes when there are many.
    const std::size_t first = history.notes.size() > kHistoryLines ? history.notes.size() - kHistoryLines : 0;
    for (std::size_t i = first; i < history.notes.size(); ++i) {
        const auto& note = history.notes[i];
        notes.push_back(
            call.t(Msg::admin_user_note_line, {{"date", ui::format_date(locale, note.created_at, ctx_.zone)},
                                               {"author", admin::actor_label(note.author.str())},
                                               {"note", note.body}}));
    }
    discord::Embed embed;
    embed.color(kAdminColor)
        .field(call.t(Msg::admin_user_orders), lines_or_none(orders, history.orders.size(), locale), false)
        .field(call.t(Msg::admin_user_accounts), lines_or_none(accounts, history.accounts.size(), locale),
               false)
        .field(call.t(Msg::admin_user_notes), lines_or_none(notes, notes.size(), locale), false);
    co_return embed;
}

asio::awaitable<discord::MessagePayload> AdminCommands::account_create(const Invocation& call) {
    const auto member = call.member("user");
    if (!member) co_return failure(call, "choose a member");
    const domain::DiscordId discord_id = *member;
    const auto resolved = call.data.resolved.users.find(*member);
    const std::string username =
        resolved != call.data.resolved.users.end() ? resolved->second.username : discord_id.str();
    const std::string reason = call.string("reason").value_or("");
    const auto days = call.integer("days");
    const std::string plan_text = call.string("plan").value_or("");
    const std::string server_text = call.string("server").value_or("");
    const auto now = domain::to_timestamp(ctx_.clock.now());
    struct Created {
        domain::Outcome<domain::Order> order;
        std::string plan_name;
    };
    auto created = co_await ctx_.db.run([&](db::Connection& c) -> Created {
        const auto plan = admin::find_plan(c, ctx_.catalog, plan_text);
        if (!plan)
            return {domain::fail(domain::ErrorCode::not_found, "no plan matches \"" + plan_text + "\""), ""};
        std::optional<domain::ServerId> server;
        if (!server_text.empty()) {
            const auto found = admin::find_server(c, ctx_.catalog, server_text);
            if (!found)
                return {
                    domain::fail(domain::ErrorCode::not_found, "no server matches \"" + server_text + "\""),
                    ""};
            server = found->id;
        }
        // A member who never used the bot can be given an account all the same.
        const auto user = ctx_.users.ensure(c, discord_id, username);
        domain::GiftRequest request{user.id, plan->id, server,
                                    days ? std::optional<int>(static_cast<int>(*days)) : std::nullopt,
                                    reason};
        return {domain::gifts::create(c, ctx_.orders, call.actor, request, now), plan->spec.name};
    });
    if (!created.order) co_return failure(call, created.order.error().message);
    const auto& order = *created.order;
    // The paid orders' path from here: the panel client (exactly once), the account, the delivery.
    auto fulfilled = co_await ctx_.provisioner.fulfil(order.id, call.actor);
    if (!fulfilled) {
        spdlog::warn("gift {}: not provisioned yet: {}", order.reference, fulfilled.error().message);
        co_return text_reply(call.t(Msg::admin_account_gift_pending, {{"reference", order.reference},
                                                                      {"user", mention(discord_id)},
                                                                      {"error", fulfilled.error().message}}));
    }
    if (hooks_.order_fulfilled) co_await hooks_.order_fulfilled(call.source, *fulfilled);
    co_return text_reply(
        call.t(Msg::admin_account_gifted,
               {{"user", mention(discord_id)},
                {"plan", created.plan_name},
                {"expiry", ui::format_date(call.locale, fulfilled->account.expires_at, ctx_.zone)},
                {"reference", order.reference},
                {"reason", order.gift_reason.value_or(reason)}}));
}

asio::awaitable<discord::MessagePayload> AdminCommands::account_change_plan(const Invocation& call) {
    const std::string wanted = call.string("account").value_or("");
    const std::string plan_text = call.string("plan").value_or("");
    const std::string from = call.string("from").value_or("now");
    if (from != "now" && from != "expiry") co_return failure(call, "from must be now or expiry");
    struct Found {
        std::optional<domain::Account> account;
        std::optional<domain::Plan> plan;
    };
    auto found = co_await ctx_.db.run([&](db::Connection& c) {
        return Found{admin::find_account(c, wanted), admin::find_plan(c, ctx_.catalog, plan_text)};
    });
    if (!found.account) co_return failure(call, "no account matches \"" + wanted + "\"");
    if (!found.plan) co_return failure(call, "no plan matches \"" + plan_text + "\"");
    auto changed =
        co_await ctx_.accounts.change_plan(found.account->id, found.plan->id, from == "expiry", call.actor);
    if (!changed) co_return failure(call, changed.error().message);
    co_return text_reply(
        call.t(Msg::admin_account_plan_changed,
               {{"account", admin::account_label(*changed)},
                {"plan", found.plan->spec.name},
                {"traffic", ui::format_traffic_limit(call.locale, changed->traffic_limit_bytes)},
                {"devices", ui::format_device_limit(call.locale, changed->device_limit)},
                {"expiry", ui::format_date(call.locale, changed->expires_at, ctx_.zone)}}));
}

asio::awaitable<discord::MessagePayload> AdminCommands::order_refund(const Invocation& call) {
    const std::string wanted = call.string("order").value_or("");
    const std::string reason = call.string("reason").value_or("");
    const bool disable = call.boolean("disable_account").value_or(false);
    const auto now = domain::to_timestamp(ctx_.clock.now());
    auto refunded = co_await ctx_.db.run([&](db::Connection& c) -> domain::Outcome<domain::Order> {
        const auto order = admin::find_order(c, ctx_.orders, wanted);
        if (!order) return domain::fail(domain::ErrorCode::not_found, "no order matches \"" + wanted + "\"");
        return domain::refunds::refund(c, ctx_.orders, call.actor, order->id, reason, now);
    });
    if (!refunded) co_return failure(call, refunded.error().message);
    std::string text =
        call.t(Msg::admin_order_refunded, {{"reference", refunded->reference},
                                           {"amount", ui::format_money(call.locale, refunded->amount)},
                                           {"reason", refunded->refund_reason.value_or(reason)}});
    bool disabled = false;
    if (disable && refunded->account_id) {
        auto off = co_await ctx_.accounts.set_enabled(*refunded->account_id, false, call.actor);
        if (off) {
            disabled = true;
            text += "\n" + call.t(Msg::admin_account_disabled, {{"account", admin::account_label(*off)}});
        } else {
            text += "\n" + call.t(Msg::admin_order_refund_not_disabled, {{"error", off.error().message}});
        }
    }
    co_await tell_refund(ctx_, *refunded, disabled);
    co_return text_reply(std::move(text));
}

}  // namespace nebula::bot::handlers
