#include "bot/notify/review_card.hpp"

#include <spdlog/spdlog.h>

#include "bot/domain/promos.hpp"
#include "bot/domain/receipts.hpp"
#include "bot/notify/customer.hpp"
#include "discord/custom_id.hpp"

namespace nebula::bot::notify {
namespace asio = boost::asio;
using core::BotContext;
using discord::ActionRow;
using discord::Button;
using discord::ButtonStyle;
using discord::Embed;
using discord::MessagePayload;
using ui::Msg;

namespace {

constexpr std::uint32_t kReviewColour = 0xFEE75C;
constexpr std::uint32_t kApprovedColour = 0x57F287;
constexpr std::uint32_t kDeclinedColour = 0xED4245;

struct ReviewView {
    domain::Order order;
    std::optional<domain::User> customer;
    std::optional<domain::Plan> plan;
    std::optional<domain::PaymentMethod> method;
    std::optional<domain::Order> reused_from;
    std::optional<std::string> promo_code;
};

ReviewView load_review(BotContext& ctx, db::Connection& c, const domain::Order& order) {
    ReviewView view{order,
                    ctx.users.get(c, order.user_id),
                    ctx.catalog.plan(c, order.plan_id),
                    std::nullopt,
                    std::nullopt,
                    std::nullopt};
    if (order.payment_method_id) view.method = ctx.catalog.payment_method(c, *order.payment_method_id);
    if (order.promo_code_id) {
        if (auto promo = domain::promos::get(c, *order.promo_code_id)) view.promo_code = promo->code;
    }
    const auto receipts = ctx.orders.receipts(c, order.id);
    if (!receipts.empty() && receipts.back().reused_from_order_id) {
        view.reused_from = ctx.orders.get(c, *receipts.back().reused_from_order_id);
    }
    return view;
}

MessagePayload review_card(const BotContext& ctx, const ReviewView& view, const std::string& status_line) {
    const auto locale = ctx.shop.default_locale;
    const auto& order = view.order;
    std::string description;
    if (view.reused_from) {
        description +=
            ui::tr(locale, Msg::review_reused_warning, {{"other_reference", view.reused_from->reference}});
        description += "\n";
    }
    description += status_line;
    Embed embed;
    const bool open = order.status == domain::OrderStatus::under_review;
    embed.title(ui::tr(locale, Msg::review_title, {{"reference", order.reference}}))
        .color(open ? kReviewColour
                    : (order.status == domain::OrderStatus::declined ? kDeclinedColour : kApprovedColour))
        .field(
            ui::tr(locale, Msg::label_customer),
            view.customer ? mention(view.customer->discord_id) + " (" + view.customer->username + ")" : "?",
            true)
        .field(ui::tr(locale, Msg::label_plan), view.plan ? view.plan->spec.name : "?", true)
        .field(ui::tr(locale, Msg::label_amount), ui::format_money(locale, order.amount), true)
        .field(ui::tr(locale, Msg::label_method), payment_method_label(locale, view.method), true)
        .field(ui::tr(locale, Msg::label_reference), "`" + order.reference + "`", true)
        .field(ui::tr(locale, Msg::label_order_type), ui::tr(locale, ui::order_kind_msg(order.kind)), true)
        .field(ui::tr(locale, Msg::label_status), ui::tr(locale, ui::order_status_msg(order.status)), true);
    if (order.discount.value > 0) {
        // What the customer was asked to pay, and why it is less than the plan's price.
        embed
            .field(ui::tr(locale, Msg::label_price),
                   ui::format_money(locale, order.list_price.value_or(order.amount)), true)
            .field(ui::tr(locale, Msg::label_discount), ui::format_money(locale, order.discount), true)
            .field(ui::tr(locale, Msg::label_promo_code), "`" + view.promo_code.value_or("?") + "`", true);
    }
    // The location the customer picked: approval places the account there while it has room.
    if (order.location) embed.field(ui::tr(locale, Msg::label_location), *order.location, true);
    if (!description.empty()) embed.description(description);
    MessagePayload payload;
    payload.embeds.push_back(std::move(embed));
    if (open) {
        const auto id = order.id.value;
        payload.components.push_back(ActionRow{
            std::vector<Button>{Button::action(ButtonStyle::secondary, ui::tr(locale, Msg::button_claim),
                                               discord::custom_id::make("review", id, "claim")),
                                Button::action(ButtonStyle::success, ui::tr(locale, Msg::button_approve),
                                               discord::custom_id::make("review", id, "approve")),
                                Button::action(ButtonStyle::danger, ui::tr(locale, Msg::button_decline),
                                               discord::custom_id::make("review", id, "decline"))}});
    } else {
        payload.clear_components = true;
    }
    return payload;
}

}  // namespace

std::string payment_method_label(ui::Locale locale, const std::optional<domain::PaymentMethod>& method) {
    if (!method) return "-";
    if (auto msg = ui::payment_method_msg(method->code)) return ui::tr(locale, *msg);
    return method->name_en;
}

MessagePayload review_card_for(BotContext& ctx, db::Connection& connection, const domain::Order& order,
                               const std::string& status_line) {
    return review_card(ctx, load_review(ctx, connection, order), status_line);
}

asio::awaitable<void> update_review_card(BotContext& ctx, domain::OrderId id, std::string status_line) {
    auto view = co_await ctx.db.run([&](db::Connection& c) -> std::optional<ReviewView> {
        auto order = ctx.orders.get(c, id);
        if (!order || !order->review_message_id) return std::nullopt;
        return load_review(ctx, c, *order);
    });
    if (!view) co_return;
    const auto message = view->order.review_message_id;
    if (!message) co_return;
    auto edited = co_await ctx.rest.edit_message(ctx.shop.review_channel_id, *message,
                                                 review_card(ctx, *view, status_line));
    if (!edited) {
        spdlog::warn("order {}: review card not updated: {}", view->order.reference,
                     edited.error().describe());
    }
}

asio::awaitable<void> post_review_card(BotContext& ctx, const domain::SubmittedReceipt& submitted,
                                       std::string image, std::string content_type) {
    auto view = co_await ctx.db.run([&](db::Connection& c) { return load_review(ctx, c, submitted.order); });
    MessagePayload card = review_card(ctx, view, "");
    card.clear_components = false;
    const bool pdf = content_type == "application/pdf";
    card.files.push_back(
        {"receipt-" + submitted.order.reference + "." + std::string(domain::receipt_extension(content_type)),
         content_type, std::move(image), pdf ? "payment receipt (PDF)" : "payment screenshot"});
    // The reconciler posts a card that a stopped bot never stored; within Discord's nonce window
    // a card already posted is returned instead of a second one.
    card.nonce = "card-" + std::to_string(submitted.receipt.id.value);
    auto posted = co_await ctx.rest.create_message(ctx.shop.review_channel_id, std::move(card));
    if (!posted) {
        spdlog::error("order {}: review card not posted: {}", submitted.order.reference,
                      posted.error().describe());
        co_return;
    }
    const auto id = submitted.order.id;
    const discord::Snowflake message_id = posted->id;
    co_await ctx.db.run([&](db::Connection& c) { return ctx.orders.set_review_message(c, id, message_id); });
}

}  // namespace nebula::bot::notify
