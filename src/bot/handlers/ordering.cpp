// Ordering: a plan picked (Buy Access, or Renew for an account), the order channel opened, the
// payment method chosen (its instructions shown), the order cancelled, and an order channel
// deleted under it.
#include <algorithm>
#include <charconv>

#include <spdlog/spdlog.h>

#include "bot/domain/load_balancer.hpp"
#include "bot/domain/order_channels.hpp"
#include "bot/domain/promos.hpp"
#include "bot/handlers/customer_flows.hpp"
#include "bot/notify/channel_closer.hpp"
#include "bot/notify/customer.hpp"
#include "bot/notify/order_channel.hpp"
#include "bot/notify/review_card.hpp"

namespace nebula::bot::handlers::customer {
namespace asio = boost::asio;
using discord::ActionRow;
using discord::Button;
using discord::ButtonStyle;
using discord::Embed;
using discord::MessagePayload;
using domain::ErrorCode;
using ui::Msg;

// ---- rendering ----

discord::SelectOption plan_option(ui::Locale locale, const domain::Plan& plan) {
    discord::SelectOption option;
    option.label = ui::tr(
        locale, Msg::plan_option_label,
        {{"name", notify::plan_name(locale, plan)}, {"price", ui::format_money(locale, plan.spec.price)}});
    option.value = std::to_string(plan.id.value);
    option.description = ui::tr(locale, Msg::plan_option_description,
                                {{"duration", notify::plan_duration(locale, plan)},
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

std::string payment_instructions(ui::Locale locale, const domain::Order& order,
                                 const domain::PaymentMethod& method,
                                 const std::optional<std::string>& promo_code) {
    const std::string amount = ui::format_money(locale, order.amount);
    std::string text = method.code == "instapay"
                           ? ui::tr(locale, Msg::payment_instapay_instructions,
                                    {{"amount", amount}, {"reference", order.reference}})
                           : ui::tr(locale, Msg::payment_wallet_instructions,
                                    {{"amount", amount},
                                     {"method", notify::payment_method_name(locale, method)},
                                     {"reference", order.reference}});
    const std::string& extra = locale == ui::Locale::ar ? method.instructions_ar : method.instructions_en;
    if (!extra.empty()) text += "\n" + ui::mark_direction(locale, extra);
    if (order.discount.value > 0 && promo_code) {
        text += "\n\n" + ui::tr(locale, Msg::price_breakdown,
                                {{"price", ui::format_money(locale, order.list_price.value_or(order.amount))},
                                 {"discount", ui::format_money(locale, order.discount)},
                                 {"code", *promo_code},
                                 {"amount", amount}});
    }
    return text;
}

// ---- buying ----

struct BuyState {
    std::optional<domain::User> user;
    std::optional<domain::Order> open;
    std::shared_ptr<const domain::ShopSnapshot> shop;  ///< the plans, from memory
};

/// The customer's open order instead of a second one: a link to its channel and, before
/// approval, its Cancel button. A channel a stopped bot never finished is finished first.
asio::awaitable<void> refuse_open_order(Call& call, domain::Order open) {
    if (open.status == domain::OrderStatus::awaiting_payment && !open.channel_ready_at) {
        const auto step =
            co_await notify::complete_order_channel(call.ctx, open.id, call.locale, notify::kChannelSettle);
        if (step.channel) open.channel_id = step.channel;
    }
    MessagePayload payload;
    payload.content = open.channel_id
                          ? call.tr(Msg::error_open_order, {{"reference", open.reference},
                                                            {"channel", "<#" + open.channel_id->str() + ">"}})
                          : call.tr(Msg::error_open_order_no_channel, {{"reference", open.reference}});
    if (open.status != domain::OrderStatus::approved)
        payload.components.push_back(notify::cancel_row(call.locale, open.id));
    co_await reply_ephemeral_payload(call, std::move(payload));
}

asio::awaitable<void> press_buy(Call& call) {
    auto& ctx = call.ctx;
    const domain::DiscordId id = call.user().id;
    // One database task: the clicker (their language, whether they are banned), their open order,
    // and the catalogue from memory. Only shows the plans: a newcomer's row is written when they
    // choose one (buy_plan).
    auto state = co_await ctx.db.run([&](db::Connection& c) {
        BuyState s;
        s.user = ctx.users.find(c, id);
        if (s.user && s.user->status == domain::UserStatus::active)
            s.open = ctx.orders.open_order(c, s.user->id);
        if (!s.open) s.shop = ctx.catalog.shop(c);
        return s;
    });
    call.know_clicker(state.user, ctx.shop.default_locale);
    if (state.user && state.user->status == domain::UserStatus::banned) {
        co_await reply_ephemeral(call, call.tr(Msg::error_banned));
    } else if (state.open) {
        co_await refuse_open_order(call, *state.open);
    } else if (!state.shop->server_enabled || ctx.shop.orders_category_id.empty()) {
        // Not set up yet: no server to make accounts on, or no place for order channels.
        co_await reply_ephemeral(call, call.tr(Msg::sales_open_soon));
    } else if (state.shop->active_plans.empty()) {
        co_await reply_ephemeral(call, call.tr(Msg::plans_none));
    } else {
        co_await reply_ephemeral_payload(
            call, plan_select(call, state.shop->active_plans, "buy_plan", call.tr(Msg::plan_select_prompt)));
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
    const auto step =
        co_await notify::complete_order_channel(ctx, opened.order.id, call.locale, std::nullopt);
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

asio::awaitable<void> place(Call& call, std::int64_t plan_value, std::optional<domain::AccountId> account,
                            std::optional<std::string> location = std::nullopt) {
    auto& ctx = call.ctx;
    const discord::Snowflake id = call.user().id;
    const std::string name = call.user().username;
    const domain::PlanId plan_id{plan_value};
    struct Placed {
        domain::User user;
        domain::Outcome<domain::PlacedOrder> placed;
    };
    auto result = co_await ctx.db.run([&](db::Connection& c) {
        auto user = ctx.users.ensure(c, id, name);
        auto placed = account ? ctx.orders.place_renewal(c, user.id, plan_id, *account)
                              : ctx.orders.place(c, user.id, plan_id, location);
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

// ---- choosing a location ----

/// Select-menu value of "any location"; a location's value is "=" and its name.
constexpr std::string_view kAnyLocation = "any";

/// The locations with a server that has room now.
asio::awaitable<std::vector<std::string>> open_locations(BotContext& ctx) {
    co_return co_await ctx.db.run(
        [](db::Connection& c) { return domain::locations_with_room(domain::server_loads(c)); });
}

/// Replaces the plan select with the location select ("Any" first, the default).
asio::awaitable<void> offer_locations(Call& call, std::int64_t plan,
                                      const std::vector<std::string>& locations, std::string prompt) {
    discord::StringSelect select;
    select.custom_id = discord::custom_id::make("buy_loc", plan);
    select.placeholder = call.tr(Msg::location_select_placeholder);
    discord::SelectOption any;
    any.label = call.tr(Msg::location_any);
    any.value = std::string(kAnyLocation);
    any.description = call.tr(Msg::location_any_description);
    any.is_default = true;
    select.options.push_back(std::move(any));
    for (const auto& location : locations) {
        if (select.options.size() == discord::limits::kSelectOptions) break;
        discord::SelectOption option;
        option.label = location;
        option.value = "=" + location;
        select.options.push_back(std::move(option));
    }
    MessagePayload payload;
    payload.content = std::move(prompt);
    payload.flags = discord::kEphemeralFlag;
    payload.components.push_back(ActionRow{select});
    co_await call.responder.update_message(std::move(payload));
}

asio::awaitable<void> pick_plan(Call& call) {
    const auto plan = selected_id(call);
    if (!plan) {
        co_await reply_ephemeral(call, call.tr(Msg::error_stale_button));
        co_return;
    }
    // Servers with room in more than one location: the customer picks one (or any) first.
    const auto locations = co_await open_locations(call.ctx);
    if (locations.size() > 1) {
        co_await offer_locations(call, *plan, locations, call.tr(Msg::location_select_prompt));
        co_return;
    }
    co_await place(call, *plan, std::nullopt);
}

asio::awaitable<void> pick_location(Call& call, std::int64_t plan) {
    const auto& values = call.interaction.component()->values;
    const std::string value = values.empty() ? std::string() : values.front();
    std::optional<std::string> location;
    if (value != kAnyLocation) {
        if (value.size() < 2 || value.front() != '=') {
            co_await reply_ephemeral(call, call.tr(Msg::error_stale_button));
            co_return;
        }
        location = value.substr(1);
        const auto locations = co_await open_locations(call.ctx);
        if (std::find(locations.begin(), locations.end(), *location) == locations.end()) {
            // Filled up (or disabled) since the list was shown: the customer picks again, or, with
            // one location left, the order goes wherever there is room.
            if (locations.size() > 1) {
                auto prompt = call.tr(Msg::location_full_pick_again, {{"location", *location}});
                co_await offer_locations(call, plan, locations, std::move(prompt));
                co_return;
            }
            location.reset();
        }
    }
    co_await place(call, plan, std::nullopt, std::move(location));
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
    const discord::Snowflake id = call.user().id;
    struct Picked {
        domain::Outcome<domain::Order> order;
        std::optional<domain::PaymentMethod> method;
        std::optional<std::string> promo_code;
    };
    auto picked = co_await ctx.db.run([&](db::Connection& c) {
        auto user = ctx.users.find(c, id);
        if (!user)
            return Picked{domain::fail(ErrorCode::forbidden, "unknown user"), std::nullopt, std::nullopt};
        auto order = ctx.orders.choose_payment_method(c, domain::OrderId{order_value}, user->id,
                                                      domain::PaymentMethodId{method_value});
        std::optional<std::string> code;
        if (order && order->promo_code_id) {
            if (auto promo = domain::promos::get(c, *order->promo_code_id)) code = promo->code;
        }
        return Picked{std::move(order), ctx.catalog.payment_method(c, domain::PaymentMethodId{method_value}),
                      std::move(code)};
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
            .title(call.tr(Msg::label_method) + ": " +
                   notify::payment_method_name(call.locale, *picked.method))
            .description(payment_instructions(call.locale, *picked.order, *picked.method, picked.promo_code))
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
    const discord::Snowflake id = call.user().id;
    const auto customer = call.user().id;
    auto cancelled = co_await ctx.db.run([&](db::Connection& c) -> domain::Outcome<domain::Order> {
        auto user = ctx.users.find(c, id);
        if (!user) return domain::fail(ErrorCode::forbidden, "unknown user");
        // The channel's closing is recorded with the cancellation: a crash right after still
        // closes it (the reconciler resumes stored schedules).
        db::Transaction transaction(c);
        auto order = ctx.orders.cancel(c, domain::OrderId{order_value}, user->id);
        if (!order) return order;
        if (const auto channel = order->channel_id) {
            notify::record_channel_close(ctx, c, *channel, customer, std::chrono::seconds(0));
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
    if (const auto channel = cancelled->channel_id) {
        const std::chrono::seconds now_please(0);
        co_await notify::schedule_channel_close(ctx, *channel, customer, now_please);
    }
    // A receipt was sent: the admins' card says the customer cancelled, without its buttons.
    if (cancelled->review_message_id) {
        auto line = ui::tr(ctx.shop.default_locale, Msg::review_cancelled_by_customer,
                           {{"customer", notify::mention(id)}});
        co_await notify::update_review_card(ctx, cancelled->id, std::move(line));
    }
}

// ---- a deleted order channel ----

asio::awaitable<void> on_channel_delete(BotContext& ctx, const discord::Event& event) {
    const auto* channel = event.channel();
    if (channel == nullptr) co_return;
    const discord::Snowflake channel_id = channel->id;
    co_await ctx.db.run([&](db::Connection& c) {
        domain::order_channels::forget(c, channel_id);
        const auto order_id = domain::order_channels::order_for_channel(c, channel_id);
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

void register_ordering_routes(Router& router, BotContext& ctx) {
    router.on_component("buy_plan", [](Call& call) { return pick_plan(call); });
    router.on_component<std::int64_t>(
        "buy_loc", [](Call& call, std::int64_t plan) { return pick_location(call, plan); });
    router.on_component<std::int64_t>(
        "renew_plan", [](Call& call, std::int64_t account) { return pick_renewal_plan(call, account); });
    router.on_component<std::int64_t>(
        "pay_method", [](Call& call, std::int64_t order) { return pick_method(call, order); });
    router.on_component<std::int64_t>(
        "order_cancel", [](Call& call, std::int64_t order) { return cancel_order(call, order); });
    router.on_event("CHANNEL_DELETE",
                    [&ctx](const discord::Event& event) { return on_channel_delete(ctx, event); });
}

}  // namespace nebula::bot::handlers::customer
