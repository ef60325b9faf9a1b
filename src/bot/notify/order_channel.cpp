#include "bot/notify/order_channel.hpp"

#include <cstdio>

#include <spdlog/spdlog.h>

#include "bot/domain/order_channels.hpp"
#include "bot/domain/promos.hpp"
#include "bot/notify/customer.hpp"
#include "discord/custom_id.hpp"
#include "discord/permissions.hpp"

namespace nebula::bot::notify {
namespace asio = boost::asio;
using core::BotContext;
using core::ShopSettings;
using discord::ActionRow;
using discord::Embed;
using discord::MessagePayload;
using discord::Snowflake;
using ui::Msg;

namespace {

constexpr std::uint32_t kBrandColour = 0x5865F2;

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
    bool promo_codes = false;  ///< the shop has a promo code customers can enter
};

MessagePayload order_summary(const BotContext& ctx, ui::Locale locale, const ChannelOrder& o,
                             Snowflake customer) {
    MessagePayload summary;
    summary.content = with_mention(locale, o.user.discord_id, "");
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
                {payment_method_name(locale, method), std::to_string(method.id.value), {}, {}, false});
        }
        summary.components.push_back(ActionRow{select});
    }
    if (o.promo_codes && !o.order.trial) {
        summary.components.push_back(ActionRow{std::vector<discord::Button>{
            discord::Button::action(discord::ButtonStyle::secondary, ui::tr(locale, Msg::button_promo_code),
                                    discord::custom_id::make("promo", o.order.id.value))}});
    }
    summary.components.push_back(cancel_row(locale, o.order.id));
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

Embed order_embed(ui::Locale locale, const domain::Order& order, const domain::Plan& plan,
                  const domain::User& user, std::chrono::seconds unpaid_timeout) {
    Embed embed;
    embed.title(ui::tr(locale, Msg::order_title, {{"reference", order.reference}}));
    std::string description = ui::tr(locale, Msg::order_welcome, {{"customer", mention(user.discord_id)}});
    description += "\n\n";
    description +=
        ui::tr(locale, Msg::order_expiry_note, {{"duration", ui::format_duration(locale, unpaid_timeout)}});
    const auto value = [&](const std::string& text) { return ui::mark_direction(locale, text); };
    embed.description(description)
        .color(kBrandColour)
        .field(ui::tr(locale, Msg::label_plan), value(plan_name(locale, plan)), true)
        .field(ui::tr(locale, Msg::label_amount), value(ui::format_money(locale, order.amount)), true)
        .field(ui::tr(locale, Msg::label_duration), value(plan_duration(locale, plan)), true)
        .field(ui::tr(locale, Msg::label_traffic),
               value(ui::format_traffic_limit(locale, plan.spec.traffic_bytes)), true)
        .field(ui::tr(locale, Msg::label_devices),
               value(ui::format_device_limit(locale, plan.spec.device_limit)), true)
        .field(ui::tr(locale, Msg::label_reference), "`" + order.reference + "`", true)
        .field(ui::tr(locale, Msg::label_order_type), ui::tr(locale, ui::order_kind_msg(order.kind)), true);
    return embed;
}

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
        o.methods = ctx.catalog.shop(c)->available_methods;
        o.promo_codes = domain::promos::any_enabled(c, domain::to_timestamp(ctx.clock.now()));
        return o;
    });
    if (!loaded || !loaded->plan) {
        if (loaded) step.channel = loaded->order.channel_id;
        co_return step;
    }
    auto& o = *loaded;
    const Snowflake customer = o.user.discord_id;
    const auto write_in = locale.value_or(customer_locale(ctx, o.user));
    step.channel = o.order.channel_id;
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
        const Snowflake channel_id = *step.channel;
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
            const bool closing = co_await ctx.db.run(
                [&](db::Connection& c) { return domain::order_channels::close_of(c, channel).has_value(); });
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

}  // namespace nebula::bot::notify
