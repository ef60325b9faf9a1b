// The review card's buttons: Claim, Approve (then the delivery, bot/notify/delivery.hpp) and
// Decline with its reason modal.
#include <spdlog/spdlog.h>

#include "bot/domain/deliveries.hpp"
#include "bot/handlers/customer.hpp"
#include "bot/notify/customer.hpp"
#include "bot/notify/delivery.hpp"
#include "bot/notify/review_card.hpp"

namespace nebula::bot::handlers {
namespace asio = boost::asio;
using discord::MessagePayload;
using domain::ErrorCode;
using ui::Msg;

namespace {

/// True once Discord shows the card as it stands.
asio::awaitable<bool> refresh_card(Call& call, domain::OrderId id, std::string status_line) {
    auto& ctx = call.ctx;
    auto card = co_await ctx.db.run([&](db::Connection& c) -> std::optional<MessagePayload> {
        auto order = ctx.orders.get(c, id);
        if (!order) return std::nullopt;
        return notify::review_card_for(ctx, c, *order, status_line);
    });
    if (!card) co_return false;
    co_return (co_await call.responder.update_message(std::move(*card))).has_value();
}

// ---- the review buttons ----

asio::awaitable<void> explain_refusal(Call& call, domain::OrderId id, const domain::Error& error) {
    auto& ctx = call.ctx;
    auto order = co_await ctx.db.run([&](db::Connection& c) { return ctx.orders.get(c, id); });
    if (!order || error.code == ErrorCode::not_found) {
        co_await reply_ephemeral(call, call.tr(Msg::error_order_not_found));
    } else if (error.code == ErrorCode::claimed && order->claimed_by) {
        auto text = call.tr(Msg::review_already_claimed, {{"admin", notify::mention(*order->claimed_by)}});
        co_await reply_ephemeral(call, std::move(text));
    } else if (error.code == ErrorCode::conflict && order->status == domain::OrderStatus::under_review) {
        // Still waiting for review: the refusal says why (a promo code with no uses left).
        auto text = call.tr(Msg::admin_failed, {{"error", error.message}});
        co_await reply_ephemeral(call, std::move(text));
    } else if (error.code == ErrorCode::invalid_transition || error.code == ErrorCode::conflict ||
               error.code == ErrorCode::claimed) {
        auto text =
            call.tr(Msg::review_already_handled, {{"status", call.tr(ui::order_status_msg(order->status))}});
        co_await reply_ephemeral(call, std::move(text));
    } else {
        auto text = call.tr(Msg::admin_failed, {{"error", error.message}});
        co_await reply_ephemeral(call, std::move(text));
    }
}

asio::awaitable<void> claim(Call& call, domain::OrderId id) {
    auto& ctx = call.ctx;
    const discord::Snowflake admin = call.user().id;
    auto claimed = co_await ctx.db.run([&](db::Connection& c) { return ctx.orders.claim(c, id, admin); });
    if (!claimed) {
        co_await explain_refusal(call, id, claimed.error());
        co_return;
    }
    auto text = ui::tr(ctx.shop.default_locale, Msg::review_claimed_by, {{"admin", notify::mention(admin)}});
    co_await refresh_card(call, id, std::move(text));
}

asio::awaitable<void> approve(Call& call, domain::OrderId id) {
    auto& ctx = call.ctx;
    const discord::Snowflake admin = call.user().id;
    const auto shop_locale = ctx.shop.default_locale;
    auto result = co_await ctx.provisioner.approve_and_fulfil(id, admin);
    if (result) {
        // The order is fulfilled and its delivery recorded: from here on a crash or a Discord
        // outage delays what the customer receives, and the first part is the card.
        auto text = ui::tr(shop_locale, Msg::review_approved_by, {{"admin", notify::mention(admin)}});
        if (co_await refresh_card(call, id, std::move(text))) {
            const auto now = domain::to_timestamp(ctx.clock.now());
            co_await ctx.db.run([&](db::Connection& c) {
                domain::deliveries::mark_done(c, id, domain::DeliveryPart::card, now);
            });
        }
        co_await deliver_approved(call, *result);
        co_return;
    }
    const auto& error = result.error();
    if (!domain::is_pending(error)) {
        co_await explain_refusal(call, id, error);
        co_return;
    }
    // Approved, but the panel client is not made yet: the reconciler finishes it.
    auto text = ui::tr(shop_locale, Msg::review_approved_by, {{"admin", notify::mention(admin)}});
    text += "\n" + ui::tr(shop_locale, Msg::review_provisioning_failed, {{"error", error.message}});
    co_await refresh_card(call, id, std::move(text));
    auto who =
        co_await ctx.db.run([&](db::Connection& c) -> std::optional<std::pair<domain::Order, domain::User>> {
            auto order = ctx.orders.get(c, id);
            if (!order) return std::nullopt;
            return std::make_pair(*order, *ctx.users.get(c, order->user_id));
        });
    if (who) {
        MessagePayload payload;
        payload.content = ui::tr(notify::customer_locale(ctx, who->second), Msg::order_being_prepared);
        co_await notify::tell_customer(ctx, who->first, who->second, std::move(payload));
    }
}

asio::awaitable<void> ask_decline_reason(Call& call, domain::OrderId id) {
    if (!co_await require_admin(call)) co_return;
    // A ready-made reason (the customer reads it in their language), the admin's own words, or both.
    discord::StringSelect preset;
    preset.custom_id = "preset";
    preset.required = false;
    preset.min_values = 0;
    for (std::string_view code : ui::decline_presets()) {
        preset.options.push_back({call.tr(*ui::decline_preset_msg(code)), std::string(code), {}, {}, false});
    }
    discord::TextInput input;
    input.custom_id = "reason";
    input.style = discord::TextInputStyle::paragraph;
    input.required = false;
    input.max_length = 500;
    input.placeholder = call.tr(Msg::decline_reason_placeholder);
    discord::Modal modal;
    modal.custom_id = discord::custom_id::make("decline", id.value);
    modal.title = call.tr(Msg::decline_modal_title, {{"reference", domain::order_reference(id)}});
    modal.fields.push_back(discord::Label{call.tr(Msg::decline_reason_label), "", preset});
    modal.fields.push_back(discord::Label{call.tr(Msg::decline_reason_label), "", input});
    co_await call.responder.show_modal(std::move(modal));
}

asio::awaitable<void> decline(Call& call, std::int64_t order_value) {
    if (!co_await require_admin(call)) co_return;
    auto& ctx = call.ctx;
    const domain::OrderId id{order_value};
    const auto* field = call.interaction.modal()->field("reason");
    const auto* preset = call.interaction.modal()->field("preset");
    const std::string reason =
        ui::decline_reason(ui::Locale::en, preset && !preset->values.empty() ? preset->values.front() : "",
                           field ? field->value : std::string());
    const discord::Snowflake admin = call.user().id;
    auto declined = co_await ctx.db.run(
        [&](db::Connection& c) -> domain::Outcome<std::pair<domain::Order, domain::User>> {
            auto order = ctx.orders.decline(c, id, admin, reason, true);
            if (!order) return domain::fail(order.error().code, order.error().message);
            return std::make_pair(*order, *ctx.users.get(c, order->user_id));
        });
    if (!declined) {
        co_await explain_refusal(call, id, declined.error());
        co_return;
    }
    auto text = ui::tr(ctx.shop.default_locale, Msg::review_declined_by,
                       {{"admin", notify::mention(admin)}, {"reason", reason}});
    co_await refresh_card(call, id, std::move(text));
    const auto& [order, user] = *declined;
    MessagePayload payload;
    const auto locale = notify::customer_locale(ctx, user);
    payload.content =
        ui::tr(locale, Msg::order_declined,
               {{"reference", order.reference}, {"reason", ui::translate_decline_reason(locale, reason)}});
    payload.components.push_back(notify::cancel_row(locale, order.id));
    co_await notify::tell_customer(ctx, order, user, std::move(payload));
}

asio::awaitable<void> review_action(Call& call, std::int64_t order_value, std::string action) {
    const domain::OrderId id{order_value};
    if (action == "decline") co_return co_await ask_decline_reason(call, id);
    if (!co_await require_admin(call)) co_return;
    if (action == "claim") co_return co_await claim(call, id);
    if (action == "approve") co_return co_await approve(call, id);
    co_await reply_ephemeral(call, call.tr(Msg::error_stale_button));
}

}  // namespace

asio::awaitable<void> deliver_approved(Call& call, const domain::Fulfilment& fulfilment) {
    std::string approver =
        call.user().username.empty() ? notify::mention(call.user().id) : call.user().username;
    const auto outcome = co_await notify::deliver_order(call.ctx, fulfilment.order.id, std::move(approver),
                                                        fulfilment.links, true);
    if (outcome.customer_left) co_await reply_ephemeral(call, call.tr(Msg::review_customer_left));
}

void register_review_handlers(Router& router, BotContext&) {
    router.on_component<std::int64_t, std::string>("review",
                                                   [](Call& call, std::int64_t order, std::string action) {
                                                       return review_action(call, order, action);
                                                   });
    router.on_modal<std::int64_t>("decline",
                                  [](Call& call, std::int64_t order) { return decline(call, order); });
}

}  // namespace nebula::bot::handlers
