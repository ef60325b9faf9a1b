#include "bot/notify/customer.hpp"

#include <spdlog/spdlog.h>

#include "bot/domain/notices.hpp"
#include "discord/custom_id.hpp"
#include "discord/permissions.hpp"

namespace nebula::bot::notify {
namespace asio = boost::asio;
using core::BotContext;
using discord::ActionRow;
using discord::Button;
using discord::ButtonStyle;
using discord::MessagePayload;
using discord::Snowflake;
using ui::Msg;

ui::Locale customer_locale(const BotContext& ctx, const domain::User& user) {
    return ui::choose_locale(user.locale_choice.value_or(""), user.last_locale.value_or(""),
                             ctx.shop.default_locale);
}

std::string mention(Snowflake user) { return "<@" + user.str() + ">"; }

std::string plan_duration(ui::Locale locale, const domain::Plan& plan) {
    return ui::format_count(locale, plan.spec.duration_days, ui::Unit::day);
}

ActionRow cancel_row(ui::Locale locale, domain::OrderId order) {
    return ActionRow{
        std::vector<Button>{Button::action(ButtonStyle::danger, ui::tr(locale, Msg::button_cancel_order),
                                           discord::custom_id::make("order_cancel", order.value))}};
}

std::string plan_name(ui::Locale locale, const domain::Plan& plan) {
    return locale == ui::Locale::ar && !plan.spec.name_ar.empty() ? plan.spec.name_ar : plan.spec.name;
}

std::string payment_method_name(ui::Locale locale, const domain::PaymentMethod& method) {
    if (auto msg = ui::payment_method_msg(method.code)) return ui::tr(locale, *msg);
    return locale == ui::Locale::ar && !method.name_ar.empty() ? method.name_ar : method.name_en;
}

std::string with_mention(ui::Locale locale, Snowflake discord_id, const std::string& text) {
    if (locale == ui::Locale::ar) return ui::isolate(mention(discord_id)) + (text.empty() ? "" : "\n" + text);
    return mention(discord_id) + (text.empty() ? "" : " " + text);
}

namespace {

asio::awaitable<bool> send_dm(BotContext& ctx, Snowflake user, MessagePayload payload) {
    auto dm = co_await ctx.rest.create_dm(user);
    if (!dm) co_return false;
    auto sent = co_await ctx.rest.create_message(dm->id, std::move(payload));
    co_return sent.has_value();
}

/// Posts `payload` in `channel` after a mention of the customer; nothing when it was posted, else
/// why not (also added to `error`).
asio::awaitable<std::optional<discord::RestErrorCode>> post_with_mention(BotContext& ctx, Snowflake channel,
                                                                         Snowflake customer,
                                                                         ui::Locale locale,
                                                                         MessagePayload payload,
                                                                         std::string& error) {
    payload.content = with_mention(locale, customer, payload.content);
    payload.allowed_mentions.users = {customer};
    auto posted = co_await ctx.rest.create_message(channel, std::move(payload));
    if (posted) co_return std::nullopt;
    error += "; channel " + channel.str() + ": " + posted.error().describe();
    co_return posted.error().code;
}

/// A text channel in the orders category that only the customer, the admin role and the bot can
/// see, for what the bot would otherwise have said by DM.
asio::awaitable<discord::RestResult<discord::Channel>> create_private_channel(BotContext& ctx,
                                                                              const domain::User& user,
                                                                              Snowflake customer) {
    namespace p = discord::permissions;
    const auto& shop = ctx.shop;
    const std::uint64_t read = p::kViewChannel | p::kReadMessageHistory;
    const std::uint64_t write = p::kSendMessages | p::kEmbedLinks | p::kAttachFiles;
    discord::ChannelCreate create;
    create.name = "notices-" + std::to_string(user.id.value);
    if (!shop.orders_category_id.empty()) create.parent_id = shop.orders_category_id;
    create.permission_overwrites = {
        {shop.guild_id, discord::OverwriteType::role, 0, p::kViewChannel},
        {customer, discord::OverwriteType::member, read, 0},
        {shop.admin_role_id, discord::OverwriteType::role, read | write, 0},
    };
    if (!shop.bot_user_id.empty()) {
        create.permission_overwrites.push_back(
            {shop.bot_user_id, discord::OverwriteType::member, read | write | p::kManageChannels, 0});
    }
    co_return co_await ctx.rest.create_guild_channel(shop.guild_id, std::move(create),
                                                     "notices for a customer whose DMs are closed");
}

}  // namespace

asio::awaitable<void> tell_customer(BotContext& ctx, const domain::Order& order, const domain::User& user,
                                    MessagePayload payload) {
    if (const auto channel = order.channel_id) {
        auto copy = payload;
        auto sent = co_await ctx.rest.create_message(*channel, std::move(copy));
        if (sent) co_return;
    }
    if (!user.discord_id.empty()) co_await send_dm(ctx, user.discord_id, std::move(payload));
}

asio::awaitable<std::optional<std::string>> tell_privately(BotContext& ctx,
                                                           std::optional<Snowflake> pointer_channel,
                                                           const domain::User& user, Snowflake customer,
                                                           MessagePayload payload) {
    std::string error;
    const auto locale = customer_locale(ctx, user);
    auto dm = co_await ctx.rest.create_dm(customer);
    if (dm) {
        auto sent = co_await ctx.rest.create_message(dm->id, payload);
        if (sent) co_return std::nullopt;
        error = "DM: " + sent.error().describe();
    } else {
        error = "DM: " + dm.error().describe();
    }
    const auto user_id = user.id;
    auto [order_channel, private_channel] = co_await ctx.db.run([&](db::Connection& c) {
        return std::make_pair(domain::latest_order_channel(c, user_id),
                              domain::notice_channel_of(c, user_id));
    });
    using discord::RestErrorCode;
    if (const auto channel = order_channel) {
        // Deleted, or closed to the bot: on to the private channel. Anything else: the next run.
        const auto failed = co_await post_with_mention(ctx, *channel, customer, locale, payload, error);
        if (!failed) co_return std::nullopt;
        if (*failed != RestErrorCode::not_found && *failed != RestErrorCode::forbidden) co_return error;
    }
    if (const auto channel = private_channel) {
        // A new one only when this one was deleted.
        const auto failed = co_await post_with_mention(ctx, *channel, customer, locale, payload, error);
        if (!failed) co_return std::nullopt;
        if (*failed != RestErrorCode::not_found) co_return error;
    }
    auto created = co_await create_private_channel(ctx, user, customer);
    if (!created) co_return error + "; private channel: " + created.error().describe();
    const Snowflake id = created->id;
    co_await ctx.db.run([&](db::Connection& c) { domain::set_notice_channel(c, user_id, id); });
    if (co_await post_with_mention(ctx, created->id, customer, locale, std::move(payload), error))
        co_return error;
    // Where they will look: a mention and the channel's name, nothing of the notice itself.
    const Snowflake pointer = pointer_channel.value_or(ctx.shop.main_panel_channel_id);
    if (!pointer.empty()) {
        MessagePayload message;
        message.content =
            with_mention(locale, customer,
                         ui::tr(locale, Msg::notice_private_pointer, {{"channel", "<#" + id.str() + ">"}}));
        message.allowed_mentions.users = {customer};
        if (auto posted = co_await ctx.rest.create_message(pointer, std::move(message)); !posted) {
            spdlog::warn("pointer to {}'s notices channel not posted: {}", customer.str(),
                         posted.error().describe());
        }
    }
    co_return std::nullopt;
}

}  // namespace nebula::bot::notify
