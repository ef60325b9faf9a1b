// Selling more: the main panel's Free trial button, and the Promo code button and modal in an
// order channel.
#include <spdlog/spdlog.h>

#include "bot/domain/promos.hpp"
#include "bot/domain/referrals.hpp"
#include "bot/domain/trials.hpp"
#include "bot/handlers/customer_flows.hpp"
#include "bot/notify/customer.hpp"
#include "bot/notify/delivery.hpp"
#include "discord/custom_id.hpp"

namespace nebula::bot::handlers::customer {
namespace asio = boost::asio;
using discord::ActionRow;
using discord::MessagePayload;
using domain::PromoRefusal;
using domain::TrialRefusal;
using ui::Msg;

namespace {

struct StartedTrial {
    domain::User user;
    common::Result<domain::Order, TrialRefusal> order;
    std::optional<domain::Order> open;
};

std::string refusal_text(const Call& call, TrialRefusal refusal, const std::optional<domain::Order>& open) {
    switch (refusal) {
        case TrialRefusal::not_offered:
            return call.tr(Msg::trial_not_offered);
        case TrialRefusal::banned:
            return call.tr(Msg::error_banned);
        case TrialRefusal::already_used:
            return call.tr(Msg::trial_already_used);
        case TrialRefusal::account_too_new:
            return call.tr(
                Msg::trial_account_too_new,
                {{"duration", ui::format_duration(call.locale, call.ctx.shop.trial_min_account_age)}});
        case TrialRefusal::open_order:
            return call.tr(Msg::trial_open_order, {{"reference", open ? open->reference : std::string("?")}});
        case TrialRefusal::no_capacity:
            return call.tr(Msg::trial_no_capacity);
    }
    return call.tr(Msg::error_internal);
}

std::string promo_refusal_text(const Call& call, PromoRefusal refusal, const std::string& code) {
    switch (refusal) {
        case PromoRefusal::unknown_code:
            return call.tr(Msg::promo_unknown, {{"code", code}});
        case PromoRefusal::expired:
            return call.tr(Msg::promo_expired, {{"code", code}});
        case PromoRefusal::used_up:
            return call.tr(Msg::promo_used_up, {{"code", code}});
        case PromoRefusal::not_for_plan:
            return call.tr(Msg::promo_not_for_plan, {{"code", code}});
        case PromoRefusal::per_customer:
            return call.tr(Msg::promo_per_customer, {{"code", code}});
        case PromoRefusal::not_your_order:
        case PromoRefusal::too_late:
            return call.tr(Msg::promo_too_late);
    }
    return call.tr(Msg::error_internal);
}

/// The Promo code button: a modal asking for the code.
asio::awaitable<void> ask_promo_code(Call& call, std::int64_t order) {
    discord::TextInput input;
    input.custom_id = "code";
    input.min_length = 1;
    input.max_length = 32;
    discord::Modal modal;
    modal.custom_id = discord::custom_id::make("promo", order);
    modal.title = call.tr(Msg::promo_modal_title);
    modal.fields.push_back(discord::Label{call.tr(Msg::promo_modal_label), "", input});
    co_await call.responder.show_modal(std::move(modal));
}

/// The code entered: applied to the order (before paying), or the reason it does not apply.
asio::awaitable<void> apply_promo_code(Call& call, std::int64_t order_value) {
    auto& ctx = call.ctx;
    const auto* field = call.interaction.modal() ? call.interaction.modal()->field("code") : nullptr;
    const std::string typed = field ? field->value : std::string();
    const std::string shown = domain::promos::normalise(typed).value_or(typed.substr(0, 32));
    const domain::DiscordId id = call.user().id;
    const auto now = domain::to_timestamp(ctx.clock.now());
    auto applied = co_await ctx.db.run([&](db::Connection& c) -> common::Result<domain::Order, PromoRefusal> {
        auto user = ctx.users.find(c, id);
        if (!user) return common::unexpected(PromoRefusal::not_your_order);
        return domain::promos::apply(c, ctx.orders, domain::OrderId{order_value}, user->id, typed, now);
    });
    if (!applied) {
        co_await reply_ephemeral(call, promo_refusal_text(call, applied.error(), shown));
        co_return;
    }
    // In the order channel for all to see: the admins reviewing the receipt read the same.
    MessagePayload payload;
    payload.content =
        call.tr(Msg::promo_applied,
                {{"code", shown},
                 {"reference", applied->reference},
                 {"price", ui::format_money(call.locale, applied->list_price.value_or(applied->amount))},
                 {"discount", ui::format_money(call.locale, applied->discount)},
                 {"amount", ui::format_money(call.locale, applied->amount)}});
    co_await call.responder.reply(std::move(payload));
}

std::string referral_refusal_text(const Call& call, domain::ReferralRefusal refusal,
                                  const std::string& code) {
    switch (refusal) {
        case domain::ReferralRefusal::unknown_code:
            return call.tr(Msg::referral_unknown, {{"code", code}});
        case domain::ReferralRefusal::self:
            return call.tr(Msg::referral_self);
        case domain::ReferralRefusal::already_referred:
            return call.tr(Msg::referral_already);
        case domain::ReferralRefusal::not_new:
            return call.tr(Msg::referral_not_new);
        case domain::ReferralRefusal::loop:
            return call.tr(Msg::referral_loop);
    }
    return call.tr(Msg::error_internal);
}

asio::awaitable<void> ask_referral_code(Call& call) {
    discord::TextInput input;
    input.custom_id = "code";
    input.min_length = 2;
    input.max_length = 20;
    discord::Modal modal;
    modal.custom_id = "referral";
    modal.title = call.tr(Msg::referral_modal_title);
    modal.fields.push_back(discord::Label{call.tr(Msg::referral_modal_label), "", input});
    co_await call.responder.show_modal(std::move(modal));
}

asio::awaitable<void> enter_referral_code(Call& call) {
    auto& ctx = call.ctx;
    const auto* field = call.interaction.modal() ? call.interaction.modal()->field("code") : nullptr;
    std::string typed = field ? field->value : std::string();
    if (typed.size() > 20) typed.resize(20);
    const domain::DiscordId id = call.user().id;
    const std::string name = call.user().username;
    const auto now = domain::to_timestamp(ctx.clock.now());
    auto attached = co_await ctx.db.run([&](db::Connection& c) {
        const auto user = ctx.users.ensure(c, id, name);
        return domain::referrals::attach(c, user.id, typed, now);
    });
    const auto parsed = domain::referrals::parse_code(typed);
    const std::string shown = parsed ? domain::referrals::code_for(*parsed) : typed;
    if (!attached) {
        co_await reply_ephemeral(call, referral_refusal_text(call, attached.error(), shown));
        co_return;
    }
    std::string saved = call.tr(Msg::referral_attached, {{"code", shown}});
    co_await reply_ephemeral(call, std::move(saved));
}

}  // namespace

asio::awaitable<void> add_referral(Call& call, discord::MessagePayload& payload) {
    auto& ctx = call.ctx;
    if (ctx.shop.referral_bonus_days <= 0) co_return;
    const domain::DiscordId id = call.user().id;
    const std::string name = call.user().username;
    // The row the click read already, when the handler handed it over; else made (or renamed) here.
    std::optional<domain::User> user;
    if (call.clicker && *call.clicker && (*call.clicker)->username == name) user = **call.clicker;
    if (!user) {
        user = co_await ctx.db.run([&](db::Connection& c) { return ctx.users.ensure(c, id, name); });
        if (call.clicker) call.know_clicker(user, ctx.shop.default_locale);
    }
    std::string line =
        call.tr(Msg::referral_your_code,
                {{"code", domain::referrals::code_for(user->id)},
                 {"days", ui::format_count(call.locale, ctx.shop.referral_bonus_days, ui::Unit::day)}});
    payload.content = payload.content.empty() ? line : payload.content + "\n\n" + line;
    // A message holds five rows.
    if (payload.components.size() < discord::limits::kActionRows) {
        payload.components.push_back(ActionRow{std::vector<discord::Button>{discord::Button::action(
            discord::ButtonStyle::secondary, call.tr(Msg::button_referral), "referral")}});
    }
}

asio::awaitable<void> press_trial(Call& call) {
    auto& ctx = call.ctx;
    const domain::DiscordId id = call.user().id;
    const std::string name = call.user().username;
    const auto now = domain::to_timestamp(ctx.clock.now());
    const auto discord_created_at = domain::to_timestamp(call.user().id.created_at());
    auto started = co_await ctx.db.run([&](db::Connection& c) {
        auto user = ctx.users.ensure(c, id, name);
        const domain::trials::TrialRequest request{user.id, discord_created_at,
                                                   ctx.shop.trial_min_account_age};
        auto order = domain::trials::start(c, ctx.orders, request, now);
        std::optional<domain::Order> open;
        if (!order && order.error() == TrialRefusal::open_order) open = ctx.orders.open_order(c, user.id);
        return StartedTrial{std::move(user), std::move(order), std::move(open)};
    });
    if (!started.order) {
        co_await reply_ephemeral(call, refusal_text(call, started.order.error(), started.open));
        co_return;
    }
    // The paid orders' path from here: the panel client, the account and the recorded delivery.
    auto done = co_await ctx.provisioner.fulfil(started.order->id);
    if (!done) {
        // Approved and recorded: the reconciler makes the account and it is delivered then.
        spdlog::warn("trial {}: not provisioned yet: {}", started.order->reference, done.error().message);
        co_await reply_ephemeral(call, call.tr(Msg::trial_preparing));
        co_return;
    }
    co_await notify::deliver_order(ctx, done->order.id, ui::tr(ctx.shop.default_locale, Msg::label_trial),
                                   done->links, true);
    if (!done->links) {
        co_await reply_ephemeral(call, call.tr(Msg::trial_preparing));
        co_return;
    }
    std::string ready =
        call.tr(Msg::trial_ready,
                {{"expiry", ui::format_date_time(call.locale, done->account.expires_at, ctx.zone)},
                 {"traffic", ui::format_traffic_limit(call.locale, done->account.traffic_limit_bytes)},
                 {"link", done->links->vless},
                 {"subscription_url", done->links->subscription}});
    co_await reply_ephemeral(call, std::move(ready));
}

void register_growth_routes(Router& router) {
    router.on_component("referral", [](Call& call) { return ask_referral_code(call); });
    router.on_modal("referral", [](Call& call) { return enter_referral_code(call); });
    router.on_component<std::int64_t>(
        "promo", [](Call& call, std::int64_t order) { return ask_promo_code(call, order); });
    router.on_modal<std::int64_t>(
        "promo", [](Call& call, std::int64_t order) { return apply_promo_code(call, order); });
}

}  // namespace nebula::bot::handlers::customer
