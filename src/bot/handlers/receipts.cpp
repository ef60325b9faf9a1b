// Payment receipts posted in an order channel (MESSAGE_CREATE): checked against the shop's receipt
// policy, stored on the order and put in front of the admins as a review card.
#include <spdlog/spdlog.h>

#include "bot/domain/order_channels.hpp"
#include "bot/domain/receipts.hpp"
#include "bot/handlers/customer_flows.hpp"
#include "bot/notify/customer.hpp"
#include "bot/notify/review_card.hpp"

namespace nebula::bot::handlers::customer {
namespace asio = boost::asio;
using discord::MessagePayload;
using discord::Snowflake;
using ui::Msg;

// ---- payment screenshots ----

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
    const discord::Snowflake channel_id = message->channel_id;
    const discord::Snowflake author_id = message->author.id;
    auto rc = co_await ctx.db.run([&](db::Connection& c) {
        ReceiptContext out;
        const auto order_id = domain::order_channels::order_for_channel(c, channel_id);
        if (!order_id) return out;
        out.order = ctx.orders.get(c, *order_id);
        out.customer = ctx.users.get(c, out.order->user_id);
        return out;
    });
    if (!rc.order) co_return;
    const auto locale = notify::customer_locale(ctx, *rc.customer);
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
        const auto hinted = rc.order->id;
        const auto now = domain::to_timestamp(ctx.clock.now());
        const bool first = co_await ctx.db.run(
            [&](db::Connection& c) { return domain::order_channels::mark_payment_hint(c, hinted, now); });
        if (first) co_await say(ctx, message->channel_id, ui::tr(locale, Msg::receipt_hint), message->id);
        co_return;
    }
    const auto& attachment = message->attachments.front();
    if (!domain::is_receipt_type(attachment.content_type)) {
        co_await say(ctx, message->channel_id, ui::tr(locale, Msg::receipt_wrong_type), message->id);
        co_return;
    }
    const auto max_bytes = ctx.orders.options().receipts.max_bytes;
    if (attachment.size > max_bytes) {
        auto text = ui::tr(locale, Msg::receipt_too_large,
                           {{"size", ui::format_bytes(static_cast<std::int64_t>(attachment.size))},
                            {"limit", ui::format_bytes(static_cast<std::int64_t>(max_bytes))}});
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
    auto download = co_await ctx.rest.download(attachment.url, max_bytes, domain::receipt_types());
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
                          {"limit", ui::format_bytes(static_cast<std::int64_t>(max_bytes))}})
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
    upload.attachment_id = attachment.id;
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
    co_await notify::post_review_card(ctx, *submitted, std::move(download->data), upload.content_type);
    MessagePayload thanks;
    thanks.content = ui::tr(locale, Msg::receipt_under_review, {{"reference", rc.order->reference}});
    thanks.reply_to = message->id;
    thanks.components.push_back(notify::cancel_row(locale, order_id));
    if (auto sent = co_await ctx.rest.create_message(message->channel_id, std::move(thanks)); !sent) {
        spdlog::warn("order {}: receipt not acknowledged: {}", rc.order->reference, sent.error().describe());
    }
}

void register_receipt_routes(Router& router, BotContext& ctx) {
    router.on_event("MESSAGE_CREATE", [&ctx](const discord::Event& event) { return on_message(ctx, event); });
}

}  // namespace nebula::bot::handlers::customer
