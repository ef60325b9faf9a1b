#include "bot/handlers/customer.hpp"

#include <algorithm>
#include <charconv>
#include <memory>
#include <stdexcept>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bot/domain/accounts.hpp"
#include "bot/handlers/flow.hpp"
#include "bot/handlers/store.hpp"
#include "bot/ui/qr.hpp"

namespace nebula::bot::handlers {
namespace asio = boost::asio;
using discord::ActionRow;
using discord::Button;
using discord::ButtonStyle;
using discord::Embed;
using discord::MessagePayload;
using discord::Snowflake;
using domain::ErrorCode;
using ui::Msg;

namespace {

constexpr std::uint32_t kBrandColour = 0x5865F2;
constexpr std::string_view kPanelMessageKey = "main_panel_message_id";
constexpr std::string_view kHintPrefix = "hint:";  ///< + order id: the payment hint was given
constexpr std::size_t kMaxAccountsShown = 5;

// ---- rendering ----

discord::SelectOption plan_option(ui::Locale locale, const domain::Plan& plan) {
    discord::SelectOption option;
    option.label = ui::tr(
        locale, Msg::plan_option_label,
        {{"name", flow::plan_name(locale, plan)}, {"price", ui::format_money(locale, plan.spec.price)}});
    option.value = std::to_string(plan.id.value);
    option.description = ui::tr(locale, Msg::plan_option_description,
                                {{"duration", flow::plan_duration(locale, plan)},
                                 {"traffic", ui::format_traffic_limit(locale, plan.spec.traffic_bytes)},
                                 {"devices", ui::format_device_limit(locale, plan.spec.device_limit)}});
    return option;
}

MessagePayload plan_select(const Call& call, const std::vector<domain::Plan>& plans, std::string custom_id,
                           std::string prompt) {
    discord::StringSelect select;
    select.custom_id = std::move(custom_id);
    select.placeholder = call.tr(Msg::plan_select_placeholder);
    for (const auto& plan : plans) {
        if (select.options.size() == discord::limits::kSelectOptions) break;
        select.options.push_back(plan_option(call.locale, plan));
    }
    MessagePayload payload;
    payload.content = std::move(prompt);
    payload.components.push_back(ActionRow{select});
    return payload;
}

Embed order_embed(ui::Locale locale, const domain::Order& order, const domain::Plan& plan,
                  const domain::User& user, std::chrono::seconds unpaid_timeout) {
    Embed embed;
    embed.title(ui::tr(locale, Msg::order_title, {{"reference", order.reference}}));
    std::string description =
        ui::tr(locale, Msg::order_welcome, {{"customer", flow::mention(user.discord_id)}});
    description += "\n\n";
    description +=
        ui::tr(locale, Msg::order_expiry_note, {{"duration", ui::format_duration(locale, unpaid_timeout)}});
    const auto value = [&](const std::string& text) { return ui::mark_direction(locale, text); };
    embed.description(description)
        .color(kBrandColour)
        .field(ui::tr(locale, Msg::label_plan), value(flow::plan_name(locale, plan)), true)
        .field(ui::tr(locale, Msg::label_amount), value(ui::format_money(locale, order.amount)), true)
        .field(ui::tr(locale, Msg::label_duration), value(flow::plan_duration(locale, plan)), true)
        .field(ui::tr(locale, Msg::label_traffic),
               value(ui::format_traffic_limit(locale, plan.spec.traffic_bytes)), true)
        .field(ui::tr(locale, Msg::label_devices),
               value(ui::format_device_limit(locale, plan.spec.device_limit)), true)
        .field(ui::tr(locale, Msg::label_reference), "`" + order.reference + "`", true)
        .field(ui::tr(locale, Msg::label_order_type), ui::tr(locale, ui::order_kind_msg(order.kind)), true);
    return embed;
}

std::string method_name(ui::Locale locale, const domain::PaymentMethod& method) {
    if (auto msg = ui::payment_method_msg(method.code)) return ui::tr(locale, *msg);
    return locale == ui::Locale::ar && !method.name_ar.empty() ? method.name_ar : method.name_en;
}

std::string payment_instructions(ui::Locale locale, const domain::Order& order,
                                 const domain::PaymentMethod& method) {
    const std::string amount = ui::format_money(locale, order.amount);
    std::string text = method.code == "instapay"
                           ? ui::tr(locale, Msg::payment_instapay_instructions,
                                    {{"amount", amount}, {"reference", order.reference}})
                           : ui::tr(locale, Msg::payment_wallet_instructions,
                                    {{"amount", amount},
                                     {"method", method_name(locale, method)},
                                     {"reference", order.reference}});
    const std::string& extra = locale == ui::Locale::ar ? method.instructions_ar : method.instructions_en;
    if (!extra.empty()) text += "\n" + ui::mark_direction(locale, extra);
    return text;
}

std::string account_label(const std::optional<domain::Server>& server) {
    return server ? server->spec.name : std::string("?");
}

// ---- the main panel ----

asio::awaitable<void> show_help(Call& call) {
    MessagePayload payload;
    payload.embeds.push_back(
        Embed()
            .title(call.tr(Msg::help_title))
            .description(call.tr(
                Msg::help_body,
                {{"duration", ui::format_duration(call.locale, call.ctx.orders.options().unpaid_timeout)}}))
            .color(kBrandColour));
    co_await reply_ephemeral_payload(call, std::move(payload));
}

/// The Language button: a choice of Arabic, English, or following the Discord language again.
asio::awaitable<void> offer_languages(Call& call) {
    MessagePayload payload;
    // In both languages: whoever pressed it may not read the one they are answered in.
    payload.content =
        ui::tr(ui::Locale::ar, Msg::language_prompt) + "\n" + ui::tr(ui::Locale::en, Msg::language_prompt);
    payload.components.push_back(ActionRow{std::vector<Button>{
        Button::action(ButtonStyle::primary, ui::tr(ui::Locale::ar, Msg::button_language_arabic),
                       "language:ar"),
        Button::action(ButtonStyle::primary, ui::tr(ui::Locale::en, Msg::button_language_english),
                       "language:en"),
        Button::action(ButtonStyle::secondary, call.tr(Msg::button_language_follow), "language:discord")}});
    co_await reply_ephemeral_payload(call, std::move(payload));
}

asio::awaitable<void> choose_language(Call& call, std::string choice) {
    auto& ctx = call.ctx;
    std::optional<std::string> chosen;
    if (choice == "ar" || choice == "en") {
        chosen = choice;
    } else if (choice != "discord") {
        co_await reply_ephemeral(call, call.tr(Msg::error_stale_button));
        co_return;
    }
    const std::string id = call.user().id.str();
    const std::string name = call.user().username;
    co_await ctx.db.run([&](db::Connection& c) {
        const auto user = ctx.users.ensure(c, id, name);
        return ctx.users.choose_locale(c, user.id, chosen).has_value();
    });
    const ui::Locale now =
        ui::choose_locale(chosen.value_or(""), call.interaction.locale, ctx.shop.default_locale);
    MessagePayload done;
    done.content = ui::tr(now, chosen ? Msg::language_set : Msg::language_follow_set);
    done.flags = discord::kEphemeralFlag;
    done.clear_components = true;
    co_await call.responder.update_message(std::move(done));
}

asio::awaitable<void> admin_setup(Call& call) {
    if (!co_await require_admin(call)) co_return;
    const bool refreshed = co_await post_or_refresh_main_panel(call.ctx);
    const std::string channel = "<#" + call.ctx.shop.main_panel_channel_id.str() + ">";
    auto text =
        call.tr(refreshed ? Msg::admin_panel_refreshed : Msg::admin_panel_posted, {{"channel", channel}});
    // /admin is registered for Manage Server; the admin role needs the Integrations override.
    text += "\n\n" + call.tr(Msg::admin_setup_staff_access,
                             {{"role", "<@&" + call.ctx.shop.admin_role_id.str() + ">"}});
    co_await reply_ephemeral(call, std::move(text));
}

// ---- the order channel ----

/// A channel step younger than this is left to whoever is doing it.
constexpr std::chrono::seconds kChannelSettle = std::chrono::minutes(2);

std::string order_channel_name(domain::OrderId id) {
    char name[32];
    std::snprintf(name, sizeof name, "order-%06lld", static_cast<long long>(id.value));
    return name;
}

discord::ChannelCreate order_channel_spec(const ShopSettings& shop, const domain::Order& order,
                                          Snowflake customer) {
    namespace p = discord::permissions;
    discord::ChannelCreate create;
    create.name = order_channel_name(order.id);
    create.parent_id = shop.orders_category_id;
    // The reference in the topic finds a channel that was created but never stored.
    create.topic = order.reference;
    const std::uint64_t member_bits =
        p::kViewChannel | p::kSendMessages | p::kAttachFiles | p::kReadMessageHistory | p::kEmbedLinks;
    create.permission_overwrites = {
        {shop.guild_id, discord::OverwriteType::role, 0, p::kViewChannel},
        {customer, discord::OverwriteType::member, member_bits, 0},
        {shop.admin_role_id, discord::OverwriteType::role, member_bits, 0},
    };
    if (!shop.bot_user_id.empty()) {
        create.permission_overwrites.push_back(
            {shop.bot_user_id, discord::OverwriteType::member, member_bits | p::kManageChannels, 0});
    }
    return create;
}

struct ChannelOrder {
    domain::Order order;
    domain::User user;
    std::optional<domain::Plan> plan;
    std::vector<domain::PaymentMethod> methods;
};

MessagePayload order_summary(const BotContext& ctx, ui::Locale locale, const ChannelOrder& o,
                             Snowflake customer) {
    MessagePayload summary;
    summary.content = flow::with_mention(locale, o.user.discord_id, "");
    summary.allowed_mentions.users.push_back(customer);
    // One summary per order even when a restarted bot posts it again within Discord's nonce window.
    summary.nonce = "summary-" + std::to_string(o.order.id.value);
    summary.embeds.push_back(
        order_embed(locale, o.order, *o.plan, o.user, ctx.orders.options().unpaid_timeout));
    if (o.order.kind == domain::OrderKind::renewal && o.order.account_id) {
        summary.embeds.front().field(ui::tr(locale, Msg::label_account),
                                     "#" + std::to_string(o.order.account_id->value), true);
    }
    if (o.methods.empty()) {
        summary.embeds.push_back(Embed().description(ui::tr(locale, Msg::payment_methods_none)));
    } else {
        discord::StringSelect select;
        select.custom_id = discord::custom_id::make("pay_method", o.order.id.value);
        select.placeholder = ui::tr(locale, Msg::payment_method_placeholder);
        for (const auto& method : o.methods) {
            if (select.options.size() == discord::limits::kSelectOptions) break;
            select.options.push_back(
                {method_name(locale, method), std::to_string(method.id.value), {}, {}, false});
        }
        summary.components.push_back(ActionRow{select});
    }
    summary.components.push_back(flow::cancel_row(locale, o.order.id));
    return summary;
}

/// The shop's channels whose topic is `reference` (order channels carry their reference there).
std::vector<Snowflake> channels_with_topic(const nlohmann::json& channels, std::string_view reference) {
    std::vector<Snowflake> out;
    if (!channels.is_array()) return out;
    for (const auto& channel : channels) {
        if (!channel.is_object() || !channel.contains("topic") || !channel["topic"].is_string()) continue;
        if (channel["topic"].get<std::string>() != reference) continue;
        if (auto id = Snowflake::parse(channel.value("id", std::string()))) out.push_back(*id);
    }
    return out;
}

asio::awaitable<discord::RestResult<nlohmann::json>> list_shop_channels(BotContext& ctx) {
    co_return co_await ctx.rest.request("GET", "/guilds/" + ctx.shop.guild_id.str() + "/channels");
}

}  // namespace

asio::awaitable<ChannelStep> complete_order_channel(BotContext& ctx, domain::OrderId id,
                                                    std::optional<ui::Locale> locale,
                                                    std::optional<std::chrono::seconds> lease) {
    ChannelStep step;
    auto loaded = co_await ctx.db.run([&](db::Connection& c) -> std::optional<ChannelOrder> {
        // Another attempt younger than the lease is left alone (the first one holds it from the
        // order's creation).
        if (lease && !ctx.orders.claim_channel_attempt(c, id, *lease)) return std::nullopt;
        auto order = ctx.orders.get(c, id);
        if (!order || order->status != domain::OrderStatus::awaiting_payment) return std::nullopt;
        ChannelOrder o{*order, *ctx.users.get(c, order->user_id), ctx.catalog.plan(c, order->plan_id), {}};
        o.methods = ctx.catalog.available_payment_methods(c);
        return o;
    });
    if (!loaded || !loaded->plan) {
        if (loaded) step.channel = flow::snowflake(loaded->order.channel_id);
        co_return step;
    }
    auto& o = *loaded;
    const auto customer = Snowflake::parse(o.user.discord_id).value_or(Snowflake{});
    const auto write_in = locale.value_or(flow::customer_locale(ctx, o.user));
    step.channel = flow::snowflake(o.order.channel_id);
    if (!step.channel && lease) {
        // A bot that stopped between creating the channel and storing it left it behind.
        auto listed = co_await list_shop_channels(ctx);
        if (!listed) {
            spdlog::warn("order {}: channels not listed: {}", o.order.reference, listed.error().describe());
            co_return step;
        }
        const auto found = channels_with_topic(*listed, o.order.reference);
        if (!found.empty()) step.channel = found.front();
    }
    if (!step.channel) {
        auto channel = co_await ctx.rest.create_guild_channel(
            ctx.shop.guild_id, order_channel_spec(ctx.shop, o.order, customer), "order " + o.order.reference);
        if (!channel) {
            spdlog::error("order {}: could not create its channel: {}", o.order.reference,
                          channel.error().describe());
            co_return step;
        }
        step.channel = channel->id;
    }
    if (!o.order.channel_id) {
        const std::string channel_id = step.channel->str();
        co_await ctx.db.run([&](db::Connection& c) { return ctx.orders.set_channel(c, id, channel_id); });
    }
    auto posted = co_await ctx.rest.create_message(*step.channel, order_summary(ctx, write_in, o, customer));
    if (!posted) {
        spdlog::error("order {}: summary not posted: {}", o.order.reference, posted.error().describe());
        co_return step;
    }
    co_await ctx.db.run([&](db::Connection& c) { return ctx.orders.mark_channel_ready(c, id); });
    step.complete = true;
    co_return step;
}

asio::awaitable<ChannelRepairReport> repair_order_channels(BotContext& ctx) {
    ChannelRepairReport report;
    auto pending = co_await ctx.db.run(
        [&](db::Connection& c) { return ctx.orders.unfinished_channels(c, kChannelSettle); });
    std::optional<nlohmann::json> listed;
    for (const auto& order : pending) {
        if (order.status == domain::OrderStatus::awaiting_payment) {
            const auto step = co_await complete_order_channel(ctx, order.id, std::nullopt, kChannelSettle);
            step.complete ? ++report.finished : ++report.failed;
            continue;
        }
        // The order ended before its channel was complete: a channel left behind is deleted.
        if (!listed) {
            auto channels = co_await list_shop_channels(ctx);
            if (!channels) {
                spdlog::warn("reconciler: channels not listed: {}", channels.error().describe());
                ++report.failed;
                break;
            }
            listed = std::move(*channels);
        }
        bool all_gone = true;
        for (const auto channel : channels_with_topic(*listed, order.reference)) {
            const std::string key = "close:" + channel.str();
            const bool closing = co_await ctx.db.run(
                [&](db::Connection& c) { return store::get_setting(c, key).has_value(); });
            if (closing) continue;  // its closer deletes it
            auto deleted = co_await ctx.rest.delete_channel(channel, "order " + order.reference + " ended");
            if (!deleted && deleted.error().code != discord::RestErrorCode::not_found) {
                spdlog::warn("order {}: channel {} not deleted: {}", order.reference, channel.str(),
                             deleted.error().describe());
                all_gone = false;
                continue;
            }
            ++report.orphans_deleted;
        }
        if (!all_gone) {
            ++report.failed;
            continue;
        }
        const auto id = order.id;
        co_await ctx.db.run([&](db::Connection& c) { return ctx.orders.mark_channel_ready(c, id); });
    }
    co_return report;
}

namespace {

// ---- buying ----

struct BuyState {
    std::optional<domain::User> user;
    std::optional<domain::Order> open;
    std::vector<domain::Plan> plans;
};

/// The customer's open order instead of a second one: a link to its channel and, before
/// approval, its Cancel button. A channel a stopped bot never finished is finished first.
asio::awaitable<void> refuse_open_order(Call& call, domain::Order open) {
    if (open.status == domain::OrderStatus::awaiting_payment && !open.channel_ready_at) {
        const auto step = co_await complete_order_channel(call.ctx, open.id, call.locale, kChannelSettle);
        if (step.channel) open.channel_id = step.channel->str();
    }
    MessagePayload payload;
    payload.content =
        open.channel_id ? call.tr(Msg::error_open_order,
                                  {{"reference", open.reference}, {"channel", "<#" + *open.channel_id + ">"}})
                        : call.tr(Msg::error_open_order_no_channel, {{"reference", open.reference}});
    if (open.status != domain::OrderStatus::approved)
        payload.components.push_back(flow::cancel_row(call.locale, open.id));
    co_await reply_ephemeral_payload(call, std::move(payload));
}

asio::awaitable<void> press_buy(Call& call) {
    auto& ctx = call.ctx;
    const std::string id = call.user().id.str();
    const std::string name = call.user().username;
    auto state = co_await ctx.db.run([&](db::Connection& c) {
        BuyState s;
        s.user = ctx.users.ensure(c, id, name);
        if (s.user->status == domain::UserStatus::active) {
            s.open = ctx.orders.open_order(c, s.user->id);
            if (!s.open) s.plans = ctx.catalog.plans(c, true);
        }
        return s;
    });
    if (state.user->status == domain::UserStatus::banned) {
        co_await reply_ephemeral(call, call.tr(Msg::error_banned));
    } else if (state.open) {
        co_await refuse_open_order(call, *state.open);
    } else if (state.plans.empty()) {
        co_await reply_ephemeral(call, call.tr(Msg::plans_none));
    } else {
        co_await reply_ephemeral_payload(
            call, plan_select(call, state.plans, "buy_plan", call.tr(Msg::plan_select_prompt)));
    }
}

struct OpenedOrder {
    domain::User user;
    domain::Order order;
};

/// The channel is created, then stored, then its summary posted: the reply says where it is. When
/// Discord refuses the channel the order is given up, so the customer can try again.
asio::awaitable<void> open_order_channel(Call& call, OpenedOrder opened) {
    auto& ctx = call.ctx;
    const auto step = co_await complete_order_channel(ctx, opened.order.id, call.locale, std::nullopt);
    if (!step.channel) {
        const auto order_id = opened.order.id;
        const auto user_id = opened.user.id;
        co_await ctx.db.run([&](db::Connection& c) { return ctx.orders.cancel(c, order_id, user_id); });
        co_await reply_ephemeral(call, call.tr(Msg::error_internal));
        co_return;
    }
    MessagePayload done;
    done.content = call.tr(Msg::order_channel_opened, {{"channel", "<#" + step.channel->str() + ">"}});
    done.flags = discord::kEphemeralFlag;
    done.clear_components = true;
    co_await call.responder.update_message(std::move(done));
}

asio::awaitable<void> place(Call& call, std::int64_t plan_value, std::optional<domain::AccountId> account) {
    auto& ctx = call.ctx;
    const std::string id = call.user().id.str();
    const std::string name = call.user().username;
    const domain::PlanId plan_id{plan_value};
    struct Placed {
        domain::User user;
        domain::Outcome<domain::PlacedOrder> placed;
    };
    auto result = co_await ctx.db.run([&](db::Connection& c) {
        auto user = ctx.users.ensure(c, id, name);
        auto placed = account ? ctx.orders.place_renewal(c, user.id, plan_id, *account)
                              : ctx.orders.place(c, user.id, plan_id);
        return Placed{user, std::move(placed)};
    });
    if (!result.placed) {
        const auto& error = result.placed.error();
        Msg msg = Msg::error_internal;
        if (error.code == ErrorCode::forbidden) msg = Msg::error_banned;
        if (error.code == ErrorCode::not_found)
            msg = account ? Msg::error_not_your_account : Msg::error_plan_unavailable;
        if (error.code == ErrorCode::validation) msg = Msg::error_plan_unavailable;
        co_await reply_ephemeral(call, call.tr(msg));
        co_return;
    }
    if (result.placed->existing) {
        co_await refuse_open_order(call, result.placed->order);
        co_return;
    }
    OpenedOrder opened{result.user, result.placed->order};
    co_await open_order_channel(call, std::move(opened));
}

/// The chosen select-menu value as an id: a plain positive decimal within int64, else none
/// (a forged or stale value is never read as a prefix or wrapped around).
std::optional<std::int64_t> selected_id(const Call& call) {
    const auto& values = call.interaction.component()->values;
    if (values.empty()) return std::nullopt;
    const std::string_view text = values.front();
    std::int64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size() || value <= 0) return std::nullopt;
    return value;
}

asio::awaitable<void> pick_plan(Call& call) {
    const auto plan = selected_id(call);
    if (!plan) {
        co_await reply_ephemeral(call, call.tr(Msg::error_stale_button));
        co_return;
    }
    co_await place(call, *plan, std::nullopt);
}

asio::awaitable<void> pick_renewal_plan(Call& call, std::int64_t account) {
    const auto plan = selected_id(call);
    if (!plan) {
        co_await reply_ephemeral(call, call.tr(Msg::error_stale_button));
        co_return;
    }
    co_await place(call, *plan, domain::AccountId{account});
}

// ---- paying ----

asio::awaitable<void> pick_method(Call& call, std::int64_t order_value) {
    auto& ctx = call.ctx;
    const std::int64_t method_value = selected_id(call).value_or(0);
    const std::string id = call.user().id.str();
    struct Picked {
        domain::Outcome<domain::Order> order;
        std::optional<domain::PaymentMethod> method;
    };
    auto picked = co_await ctx.db.run([&](db::Connection& c) {
        auto user = ctx.users.find(c, id);
        if (!user) return Picked{domain::fail(ErrorCode::forbidden, "unknown user"), std::nullopt};
        auto order = ctx.orders.choose_payment_method(c, domain::OrderId{order_value}, user->id,
                                                      domain::PaymentMethodId{method_value});
        return Picked{std::move(order), ctx.catalog.payment_method(c, domain::PaymentMethodId{method_value})};
    });
    if (!picked.order) {
        const auto code = picked.order.error().code;
        Msg msg = code == ErrorCode::forbidden            ? Msg::error_not_your_order_method
                  : code == ErrorCode::invalid_transition ? Msg::error_stale_button
                  : code == ErrorCode::not_found          ? Msg::error_order_not_found
                                                          : Msg::error_internal;
        co_await reply_ephemeral(call, call.tr(msg));
        co_return;
    }
    MessagePayload payload;
    payload.embeds.push_back(
        Embed()
            .title(call.tr(Msg::label_method) + ": " + method_name(call.locale, *picked.method))
            .description(payment_instructions(call.locale, *picked.order, *picked.method))
            // Alone in its field: copying it copies the number / IPA and nothing else.
            .field(call.tr(picked.method->code == "instapay" ? Msg::label_ipa : Msg::label_wallet_number),
                   picked.method->account, false)
            .color(kBrandColour));
    payload.components.push_back(ActionRow{
        std::vector<Button>{Button::action(ButtonStyle::danger, call.tr(Msg::button_cancel_order),
                                           discord::custom_id::make("order_cancel", order_value))}});
    co_await call.responder.reply(std::move(payload));
}

asio::awaitable<void> cancel_order(Call& call, std::int64_t order_value) {
    auto& ctx = call.ctx;
    const std::string id = call.user().id.str();
    const auto customer = call.user().id;
    auto cancelled = co_await ctx.db.run([&](db::Connection& c) -> domain::Outcome<domain::Order> {
        auto user = ctx.users.find(c, id);
        if (!user) return domain::fail(ErrorCode::forbidden, "unknown user");
        // The channel's closing is recorded with the cancellation: a crash right after still
        // closes it (the reconciler resumes stored schedules).
        db::Transaction transaction(c);
        auto order = ctx.orders.cancel(c, domain::OrderId{order_value}, user->id);
        if (!order) return order;
        if (auto channel = flow::snowflake(order->channel_id)) {
            flow::record_channel_close(ctx, c, *channel, customer, std::chrono::seconds(0));
        }
        transaction.commit();
        return order;
    });
    if (!cancelled) {
        const auto code = cancelled.error().code;
        if (code == ErrorCode::invalid_transition) {
            auto order = co_await ctx.db.run(
                [&](db::Connection& c) { return ctx.orders.get(c, domain::OrderId{order_value}); });
            const std::string status = order ? call.tr(ui::order_status_msg(order->status)) : "?";
            auto text = call.tr(Msg::order_cancel_too_late, {{"status", status}});
            co_await reply_ephemeral(call, std::move(text));
        } else {
            co_await reply_ephemeral(call,
                                     call.tr(code == ErrorCode::forbidden   ? Msg::error_not_your_order_cancel
                                             : code == ErrorCode::not_found ? Msg::error_order_not_found
                                                                            : Msg::error_internal));
        }
        co_return;
    }
    MessagePayload payload;
    payload.content = call.tr(Msg::order_cancelled, {{"reference", cancelled->reference}});
    co_await call.responder.reply(std::move(payload));
    if (auto channel = flow::snowflake(cancelled->channel_id)) {
        const std::chrono::seconds now_please(0);
        co_await flow::schedule_channel_close(ctx, *channel, customer, now_please);
    }
    // A receipt was sent: the admins' card says the customer cancelled, without its buttons.
    if (cancelled->review_message_id) {
        auto line = ui::tr(ctx.shop.default_locale, Msg::review_cancelled_by_customer,
                           {{"customer", flow::mention(id)}});
        co_await flow::update_review_card(ctx, cancelled->id, std::move(line));
    }
}

// ---- payment screenshots ----

/// What a receipt may be: a screenshot, or the PDF that bank and wallet apps export.
const std::vector<std::string> kReceiptTypes{"image/png", "image/jpeg", "image/webp", "application/pdf"};

bool is_receipt_type(std::string_view content_type) {
    return std::any_of(kReceiptTypes.begin(), kReceiptTypes.end(),
                       [&](const std::string& type) { return content_type.starts_with(type); });
}

asio::awaitable<void> say(BotContext& ctx, Snowflake channel, std::string text, Snowflake reply_to) {
    MessagePayload payload;
    payload.content = std::move(text);
    payload.reply_to = reply_to;
    if (auto sent = co_await ctx.rest.create_message(channel, std::move(payload)); !sent) {
        spdlog::warn("message to channel {} not sent: {}", channel.str(), sent.error().describe());
    }
}

struct ReceiptContext {
    std::optional<domain::Order> order;
    std::optional<domain::User> customer;
};

asio::awaitable<void> on_message(BotContext& ctx, const discord::Event& event) {
    const auto* message = event.message();
    if (message == nullptr || message->author.bot || message->webhook || !message->guild_id) co_return;
    if (*message->guild_id != ctx.shop.guild_id) co_return;
    const std::string channel_id = message->channel_id.str();
    const std::string author_id = message->author.id.str();
    auto rc = co_await ctx.db.run([&](db::Connection& c) {
        ReceiptContext out;
        const auto order_id = store::order_for_channel(c, channel_id);
        if (!order_id) return out;
        out.order = ctx.orders.get(c, *order_id);
        out.customer = ctx.users.get(c, out.order->user_id);
        return out;
    });
    if (!rc.order) co_return;
    const auto locale = flow::customer_locale(ctx, *rc.customer);
    const bool from_customer = rc.customer->discord_id == author_id;
    const bool from_admin = message->member && message->member->has_role(ctx.shop.admin_role_id);
    if (!from_customer) {
        if (!from_admin && !message->attachments.empty()) {
            co_await say(ctx, message->channel_id, ui::tr(locale, Msg::receipt_not_your_order), message->id);
        }
        co_return;
    }
    if (message->attachments.empty()) {
        if (rc.order->status != domain::OrderStatus::awaiting_payment) co_return;
        // Once per order: a customer chatting with an admin is not told the same thing each time.
        const std::string key = std::string(kHintPrefix) + std::to_string(rc.order->id.value);
        const auto now = domain::to_timestamp(ctx.clock.now());
        const bool first = co_await ctx.db.run([&](db::Connection& c) {
            if (store::get_setting(c, key)) return false;
            store::set_setting(c, key, "1", now);
            return true;
        });
        if (first) co_await say(ctx, message->channel_id, ui::tr(locale, Msg::receipt_hint), message->id);
        co_return;
    }
    const auto& attachment = message->attachments.front();
    if (!is_receipt_type(attachment.content_type)) {
        co_await say(ctx, message->channel_id, ui::tr(locale, Msg::receipt_wrong_type), message->id);
        co_return;
    }
    if (attachment.size > ctx.shop.max_receipt_bytes) {
        auto text =
            ui::tr(locale, Msg::receipt_too_large,
                   {{"size", ui::format_bytes(static_cast<std::int64_t>(attachment.size))},
                    {"limit", ui::format_bytes(static_cast<std::int64_t>(ctx.shop.max_receipt_bytes))}});
        co_await say(ctx, message->channel_id, std::move(text), message->id);
        co_return;
    }
    const auto status = rc.order->status;
    const bool reupload = status == domain::OrderStatus::declined && rc.order->allow_reupload;
    if (status == domain::OrderStatus::awaiting_payment && !rc.order->payment_method_id) {
        co_await say(ctx, message->channel_id, ui::tr(locale, Msg::receipt_choose_method_first), message->id);
        co_return;
    }
    if (status != domain::OrderStatus::awaiting_payment && !reupload) {
        auto text = ui::tr(locale, Msg::receipt_not_awaiting,
                           {{"status", ui::tr(locale, ui::order_status_msg(status))}});
        co_await say(ctx, message->channel_id, std::move(text), message->id);
        co_return;
    }
    auto download = co_await ctx.rest.download(attachment.url, ctx.shop.max_receipt_bytes, kReceiptTypes);
    if (!download) {
        const auto code = download.error().code;
        spdlog::warn("order {}: receipt download failed: {}", rc.order->reference,
                     download.error().describe());
        const Msg msg = code == discord::RestErrorCode::too_large          ? Msg::receipt_too_large
                        : code == discord::RestErrorCode::bad_content_type ? Msg::receipt_wrong_type
                                                                           : Msg::error_internal;
        const std::string text =
            msg == Msg::receipt_too_large
                ? ui::tr(locale, msg,
                         {{"size", ui::format_bytes(static_cast<std::int64_t>(attachment.size))},
                          {"limit", ui::format_bytes(static_cast<std::int64_t>(ctx.shop.max_receipt_bytes))}})
                : ui::tr(locale, msg);
        co_await say(ctx, message->channel_id, text, message->id);
        co_return;
    }
    domain::ReceiptUpload upload;
    upload.bytes = download->data;
    upload.content_type = download->content_type.substr(0, download->content_type.find(';'));
    if (!domain::receipt_bytes_match(upload.bytes, upload.content_type)) {
        spdlog::warn("order {}: receipt is not the {} it claims to be", rc.order->reference,
                     upload.content_type);
        co_await say(ctx, message->channel_id, ui::tr(locale, Msg::receipt_wrong_type), message->id);
        co_return;
    }
    upload.attachment_id = attachment.id.str();
    const auto order_id = rc.order->id;
    const auto user_id = rc.customer->id;
    auto submitted = co_await ctx.db.run(
        [&](db::Connection& c) { return ctx.orders.submit_receipt(c, order_id, user_id, upload); });
    if (!submitted) {
        spdlog::warn("order {}: receipt refused: {}", rc.order->reference, submitted.error().message);
        auto text = ui::tr(locale, Msg::receipt_not_awaiting,
                           {{"status", ui::tr(locale, ui::order_status_msg(rc.order->status))}});
        co_await say(ctx, message->channel_id, std::move(text), message->id);
        co_return;
    }
    co_await flow::post_review_card(ctx, *submitted, std::move(download->data), upload.content_type);
    MessagePayload thanks;
    thanks.content = ui::tr(locale, Msg::receipt_under_review, {{"reference", rc.order->reference}});
    thanks.reply_to = message->id;
    thanks.components.push_back(flow::cancel_row(locale, order_id));
    if (auto sent = co_await ctx.rest.create_message(message->channel_id, std::move(thanks)); !sent) {
        spdlog::warn("order {}: receipt not acknowledged: {}", rc.order->reference, sent.error().describe());
    }
}

// ---- My Account and renewal ----

struct AccountView {
    domain::Account account;
    std::optional<domain::Server> server;
};

asio::awaitable<std::vector<AccountView>> load_accounts(Call& call) {
    auto& ctx = call.ctx;
    const std::string id = call.user().id.str();
    co_return co_await ctx.db.run([&](db::Connection& c) {
        std::vector<AccountView> out;
        auto user = ctx.users.find(c, id);
        if (!user) return out;
        for (auto& account : domain::accounts::for_user(c, user->id)) {
            if (account.status == domain::AccountStatus::deleted) continue;
            auto server = ctx.catalog.server(c, account.server_id);
            out.push_back({std::move(account), std::move(server)});
        }
        return out;
    });
}

/// A usage figure younger than this is shown as it is; an older one is read again first.
constexpr auto kUsageFreshFor = std::chrono::minutes(5);

bool usage_stale(const domain::Account& account, domain::Timestamp now) {
    return !account.traffic_synced_at || *account.traffic_synced_at + kUsageFreshFor <= now;
}

/// Reads the usage of the shown accounts whose stored figure is stale from their gateways, waiting
/// at most ShopSettings::usage_refresh_wait. A refresh still running then finishes in the
/// background (the next look finds its figure); a failed one leaves the stored figure.
asio::awaitable<void> refresh_stale_usage(BotContext& ctx, const std::vector<AccountView>& views,
                                          domain::Timestamp now) {
    struct Waiting {
        explicit Waiting(const asio::any_io_executor& executor) : timer(executor) {}
        asio::steady_timer timer;
        int pending = 0;
    };
    auto waiting = std::make_shared<Waiting>(ctx.executor);
    for (std::size_t i = 0; i < views.size() && i < kMaxAccountsShown; ++i) {
        const auto& a = views[i].account;
        const bool on_panel =
            a.status == domain::AccountStatus::active || a.status == domain::AccountStatus::disabled;
        if (!on_panel || !views[i].server || !usage_stale(a, now)) continue;
        ++waiting->pending;
        auto refresh = [](BotContext& context, domain::AccountId id,
                          std::shared_ptr<Waiting> state) -> asio::awaitable<void> {
            // Counted as done however it ends (a database error throws), so the wait ends early.
            struct Done {
                std::shared_ptr<Waiting> state;
                ~Done() {
                    if (--state->pending == 0) state->timer.cancel();
                }
            } done{std::move(state)};
            auto refreshed = co_await context.accounts.refresh_usage(id);
            if (!refreshed)
                spdlog::warn("account {}: usage not refreshed: {}", id.value, refreshed.error().message);
        };
        ctx.background.spawn("refreshing the usage of account " + std::to_string(a.id.value),
                             refresh(ctx, a.id, waiting));
    }
    if (waiting->pending == 0) co_return;
    waiting->timer.expires_after(ctx.shop.usage_refresh_wait);
    co_await waiting->timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<void> my_account(Call& call) {
    auto views = co_await load_accounts(call);
    if (views.empty()) {
        co_await reply_ephemeral(call, call.tr(Msg::account_none));
        co_return;
    }
    const auto locale = call.locale;
    const auto now = domain::to_timestamp(call.ctx.clock.now());
    co_await refresh_stale_usage(call.ctx, views, now);
    views = co_await load_accounts(call);
    Embed embed;
    embed.title(call.tr(Msg::account_title)).color(kBrandColour);
    MessagePayload payload;
    for (std::size_t i = 0; i < views.size() && i < kMaxAccountsShown; ++i) {
        const auto& a = views[i].account;
        const std::int64_t used = a.used_up_bytes + a.used_down_bytes;
        const int days = ui::days_left(now, a.expires_at);
        std::string traffic =
            a.traffic_limit_bytes > 0
                ? call.tr(Msg::traffic_used_of, {{"used", ui::format_bytes(used)},
                                                 {"total", ui::format_bytes(a.traffic_limit_bytes)}})
                : call.tr(Msg::traffic_used_unlimited, {{"used", ui::format_bytes(used)}});
        const std::string bar =
            a.traffic_limit_bytes > 0 ? ui::progress_bar(used, a.traffic_limit_bytes) : "";
        if (usage_stale(a, now)) {
            const auto as_of = a.traffic_synced_at.value_or(a.created_at);
            traffic += " " + call.tr(Msg::account_usage_as_of,
                                     {{"time", ui::format_date_time(locale, as_of, call.ctx.zone)}});
        }
        const std::string days_text =
            days > 0
                ? call.tr(Msg::account_days_left, {{"days", ui::format_count(locale, days, ui::Unit::day)}})
                : call.tr(Msg::account_expired_short);
        embed.field(
            call.tr(Msg::account_heading,
                    {{"server", account_label(views[i].server)},
                     {"location", views[i].server ? views[i].server->spec.location : std::string("?")}}),
            call.tr(Msg::account_details, {{"status", call.tr(ui::account_status_msg(a.status))},
                                           {"expiry", ui::format_date(locale, a.expires_at, call.ctx.zone)},
                                           {"days_left", days_text},
                                           {"traffic", traffic},
                                           {"bar", bar},
                                           {"devices", ui::format_device_limit(locale, a.device_limit)}}));
        payload.components.push_back(ActionRow{std::vector<Button>{
            Button::action(ButtonStyle::primary,
                           call.tr(Msg::button_show_config) + " #" + std::to_string(a.id.value),
                           discord::custom_id::make("acct", a.id.value, "config")),
            Button::action(ButtonStyle::success,
                           call.tr(Msg::button_renew) + " #" + std::to_string(a.id.value),
                           discord::custom_id::make("acct", a.id.value, "renew"))}});
    }
    payload.embeds.push_back(std::move(embed));
    co_await reply_ephemeral_payload(call, std::move(payload));
}

asio::awaitable<void> offer_renewal_plans(Call& call, const AccountView& view) {
    auto& ctx = call.ctx;
    auto plans = co_await ctx.db.run([&](db::Connection& c) { return ctx.catalog.plans(c, true); });
    if (plans.empty()) {
        co_await reply_ephemeral(call, call.tr(Msg::plans_none));
        co_return;
    }
    const std::string label = account_label(view.server) + " #" + std::to_string(view.account.id.value);
    auto payload = plan_select(call, plans, discord::custom_id::make("renew_plan", view.account.id.value),
                               call.tr(Msg::renew_choose_plan, {{"account", label}}));
    co_await reply_ephemeral_payload(call, std::move(payload));
}

asio::awaitable<void> press_renew(Call& call) {
    auto views = co_await load_accounts(call);
    if (views.empty()) {
        co_await reply_ephemeral(call, call.tr(Msg::renew_none));
        co_return;
    }
    if (views.size() == 1) {
        co_await offer_renewal_plans(call, views.front());
        co_return;
    }
    discord::StringSelect select;
    select.custom_id = "renew_acct";
    select.placeholder = call.tr(Msg::account_select_placeholder);
    for (const auto& view : views) {
        if (select.options.size() == discord::limits::kSelectOptions) break;
        select.options.push_back(
            {call.tr(Msg::account_option_label,
                     {{"server", account_label(view.server) + " #" + std::to_string(view.account.id.value)},
                      {"expiry", ui::format_date(call.locale, view.account.expires_at, call.ctx.zone)}}),
             std::to_string(view.account.id.value),
             {},
             {},
             false});
    }
    MessagePayload payload;
    payload.content = call.tr(Msg::renew_choose_account);
    payload.components.push_back(ActionRow{select});
    co_await reply_ephemeral_payload(call, std::move(payload));
}

asio::awaitable<void> account_action(Call& call, std::int64_t account_value, std::string action) {
    auto views = co_await load_accounts(call);
    const auto it = std::find_if(views.begin(), views.end(),
                                 [&](const AccountView& v) { return v.account.id.value == account_value; });
    if (it == views.end()) {
        co_await reply_ephemeral(call, call.tr(Msg::error_not_your_account));
        co_return;
    }
    if (action == "renew") {
        co_await offer_renewal_plans(call, *it);
        co_return;
    }
    if (action != "config") {
        co_await reply_ephemeral(call, call.tr(Msg::error_stale_button));
        co_return;
    }
    auto config = co_await call.ctx.accounts.show_config(it->account.id);
    if (!config) {
        spdlog::warn("account {}: show config failed: {}", account_value, config.error().message);
        co_await reply_ephemeral(call, call.tr(Msg::error_internal));
        co_return;
    }
    MessagePayload payload;
    payload.content = call.tr(Msg::show_config_body, {{"server", account_label(it->server)},
                                                      {"link", config->links.vless},
                                                      {"subscription_url", config->links.subscription}});
    if (auto png = ui::qr_png(config->links.vless)) {
        payload.files.push_back({"qr.png", "image/png", std::move(*png), "QR"});
    }
    co_await reply_ephemeral_payload(call, std::move(payload));
}

asio::awaitable<void> pick_renewal_account(Call& call) {
    const std::int64_t account = selected_id(call).value_or(0);
    std::string renew = "renew";
    co_await account_action(call, account, std::move(renew));
}

// ---- a deleted order channel ----

asio::awaitable<void> on_channel_delete(BotContext& ctx, const discord::Event& event) {
    const auto* channel = event.channel();
    if (channel == nullptr) co_return;
    const std::string channel_id = channel->id.str();
    co_await ctx.db.run([&](db::Connection& c) {
        store::delete_setting(c, "close:" + channel_id);
        const auto order_id = store::order_for_channel(c, channel_id);
        if (!order_id) return;
        auto order = ctx.orders.get(c, *order_id);
        // Nobody can pay for an order whose channel is gone; anything further along carries on
        // and reaches the customer by DM.
        if (order && order->status == domain::OrderStatus::awaiting_payment) {
            auto cancelled = ctx.orders.cancel(c, order->id, order->user_id);
            if (cancelled) spdlog::info("order {}: channel deleted, order cancelled", order->reference);
        }
    });
}

}  // namespace

discord::MessagePayload main_panel(const BotContext& ctx) {
    // Everyone sees the same panel, so it speaks both languages, the shop's default first.
    const auto first = ctx.shop.default_locale;
    const auto second = first == ui::Locale::ar ? ui::Locale::en : ui::Locale::ar;
    const auto both = [&](Msg msg) { return ui::tr(first, msg) + " · " + ui::tr(second, msg); };
    const auto section = [&](ui::Locale locale) {
        return "**" + ui::tr(locale, Msg::panel_title, {{"shop", ctx.shop.shop_name}}) + "**\n" +
               ui::tr(locale, Msg::panel_description);
    };
    MessagePayload payload;
    payload.embeds.push_back(
        Embed()
            .title(ctx.shop.shop_name)
            .description(section(first) + "\n\n" + section(second))
            .footer(ui::tr(first, Msg::panel_footer) + "\n" + ui::tr(second, Msg::panel_footer))
            .color(kBrandColour));
    payload.components.push_back(ActionRow{std::vector<Button>{
        Button::action(ButtonStyle::success, both(Msg::button_buy), "panel:buy"),
        Button::action(ButtonStyle::primary, both(Msg::button_my_account), "panel:account"),
        Button::action(ButtonStyle::primary, both(Msg::button_renew), "panel:renew"),
        Button::action(ButtonStyle::secondary, both(Msg::button_help), "panel:help"),
        Button::action(ButtonStyle::secondary, "🌐 " + both(Msg::button_language), "panel:language")}});
    return payload;
}

asio::awaitable<bool> post_or_refresh_main_panel(BotContext& ctx) {
    const auto channel = ctx.shop.main_panel_channel_id;
    auto stored =
        co_await ctx.db.run([](db::Connection& c) { return store::get_setting(c, kPanelMessageKey); });
    if (stored) {
        if (auto message = Snowflake::parse(*stored)) {
            auto edited = co_await ctx.rest.edit_message(channel, *message, main_panel(ctx));
            if (edited) co_return true;
            if (edited.error().code != discord::RestErrorCode::not_found) {
                throw std::runtime_error("main panel not refreshed: " + edited.error().describe());
            }
        }
    }
    auto posted = co_await ctx.rest.create_message(channel, main_panel(ctx));
    if (!posted) throw std::runtime_error("main panel not posted: " + posted.error().describe());
    const std::string id = posted->id.str();
    const auto now = domain::to_timestamp(ctx.clock.now());
    co_await ctx.db.run([&](db::Connection& c) { store::set_setting(c, kPanelMessageKey, id, now); });
    co_return false;
}

void register_customer_handlers(Router& router, BotContext& ctx) {
    discord::Command admin;
    admin.name = "admin";
    admin.description = "Shop administration";
    admin.default_member_permissions = discord::permissions::kManageGuild;
    admin.options.push_back(
        discord::CommandOption::subcommand("setup", "Post or refresh the main panel", {}));
    router.define_command(std::move(admin));
    router.on_command("admin setup", [](Call& call) { return admin_setup(call); });

    router.on_component<std::string>("panel", [](Call& call, std::string action) -> asio::awaitable<void> {
        if (action == "buy") return press_buy(call);
        if (action == "account") return my_account(call);
        if (action == "renew") return press_renew(call);
        if (action == "help") return show_help(call);
        if (action == "language") return offer_languages(call);
        return reply_ephemeral(call, call.tr(Msg::error_stale_button));
    });
    router.on_component<std::string>(
        "language", [](Call& call, std::string choice) { return choose_language(call, std::move(choice)); });
    router.on_component("buy_plan", [](Call& call) { return pick_plan(call); });
    router.on_component<std::int64_t>(
        "renew_plan", [](Call& call, std::int64_t account) { return pick_renewal_plan(call, account); });
    router.on_component("renew_acct", [](Call& call) { return pick_renewal_account(call); });
    router.on_component<std::int64_t>(
        "pay_method", [](Call& call, std::int64_t order) { return pick_method(call, order); });
    router.on_component<std::int64_t>(
        "order_cancel", [](Call& call, std::int64_t order) { return cancel_order(call, order); });
    router.on_component<std::int64_t, std::string>("acct",
                                                   [](Call& call, std::int64_t account, std::string action) {
                                                       return account_action(call, account, action);
                                                   });

    router.on_event("MESSAGE_CREATE", [&ctx](const discord::Event& event) { return on_message(ctx, event); });
    router.on_event("CHANNEL_DELETE",
                    [&ctx](const discord::Event& event) { return on_channel_delete(ctx, event); });
}

}  // namespace nebula::bot::handlers
