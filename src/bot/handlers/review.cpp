#include <cstdio>
#include <sstream>

#include <spdlog/spdlog.h>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bot/domain/accounts.hpp"
#include "bot/domain/deliveries.hpp"
#include "bot/handlers/customer.hpp"
#include "bot/handlers/flow.hpp"
#include "bot/handlers/store.hpp"

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

namespace flow {

ui::Locale customer_locale(const BotContext& ctx, const domain::User& user) {
    return ui::choose_locale(user.locale_choice.value_or(""), user.last_locale.value_or(""),
                             ctx.shop.default_locale);
}

std::string mention(std::string_view discord_id) { return "<@" + std::string(discord_id) + ">"; }

std::optional<Snowflake> snowflake(const std::optional<std::string>& text) {
    if (!text) return std::nullopt;
    return Snowflake::parse(*text);
}

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

std::string with_mention(ui::Locale locale, std::string_view discord_id, const std::string& text) {
    if (locale == ui::Locale::ar) return ui::isolate(mention(discord_id)) + (text.empty() ? "" : "\n" + text);
    return mention(discord_id) + (text.empty() ? "" : " " + text);
}

}  // namespace flow

namespace {

constexpr std::uint32_t kReviewColour = 0xFEE75C;
constexpr std::uint32_t kApprovedColour = 0x57F287;
constexpr std::uint32_t kDeclinedColour = 0xED4245;
constexpr std::string_view kClosePrefix = "close:";

// ---- channel closing ----

std::vector<discord::PermissionOverwrite> archived_overwrites(const ShopSettings& shop, Snowflake customer) {
    namespace p = discord::permissions;
    const std::uint64_t read = p::kViewChannel | p::kReadMessageHistory;
    const std::uint64_t write = p::kSendMessages | p::kAttachFiles;
    std::vector<discord::PermissionOverwrite> out{
        {shop.guild_id, discord::OverwriteType::role, 0, p::kViewChannel},
        {customer, discord::OverwriteType::member, read, write},
        {shop.admin_role_id, discord::OverwriteType::role, read | write, 0},
    };
    if (!shop.bot_user_id.empty()) {
        out.push_back(
            {shop.bot_user_id, discord::OverwriteType::member, read | write | p::kManageChannels, 0});
    }
    return out;
}

asio::awaitable<void> wait_until(BotContext& ctx, domain::Timestamp when) {
    const auto now = ctx.clock.now();
    if (when <= now) co_return;
    asio::steady_timer timer(ctx.executor);
    timer.expires_after(when - now);
    co_await timer.async_wait(asio::use_awaitable);
}

struct CloseSchedule {
    domain::Timestamp archive_at;
    domain::Timestamp delete_at;
    Snowflake customer;
    bool archived = false;
};

std::string encode(const CloseSchedule& s) {
    return std::to_string(domain::epoch_seconds(s.archive_at)) + " " +
           std::to_string(domain::epoch_seconds(s.delete_at)) + " " + s.customer.str() + " " +
           (s.archived ? "1" : "0");
}

std::optional<CloseSchedule> decode(const std::string& text) {
    std::istringstream in(text);
    std::int64_t archive = 0, remove = 0;
    std::string customer;
    int archived = 0;
    if (!(in >> archive >> remove >> customer >> archived)) return std::nullopt;
    auto id = Snowflake::parse(customer);
    if (!id) return std::nullopt;
    return CloseSchedule{domain::Timestamp{std::chrono::seconds{archive}},
                         domain::Timestamp{std::chrono::seconds{remove}}, *id, archived != 0};
}

/// The channel's stored schedule: the truth, as another closer (after a restart, or of another
/// process) may have moved it on or finished it.
asio::awaitable<std::optional<CloseSchedule>> stored_schedule(BotContext& ctx, std::string key) {
    auto value = co_await ctx.db.run([&](db::Connection& c) { return store::get_setting(c, key); });
    if (!value) co_return std::nullopt;
    co_return decode(*value);
}

asio::awaitable<void> run_closer(BotContext& ctx, Snowflake channel, CloseSchedule schedule) {
    const std::string key = std::string(kClosePrefix) + channel.str();
    if (!schedule.archived) {
        co_await wait_until(ctx, schedule.archive_at);
        auto stored = co_await stored_schedule(ctx, key);
        if (!stored) co_return;  // closed meanwhile
        schedule = *stored;
        co_await wait_until(ctx, schedule.archive_at);  // a no-op unless it was moved later
    }
    if (!schedule.archived) {
        discord::ChannelEdit edit;
        edit.permission_overwrites = archived_overwrites(ctx.shop, schedule.customer);
        auto edited = co_await ctx.rest.edit_channel(channel, std::move(edit), "order finished: archived");
        if (!edited && edited.error().code == discord::RestErrorCode::not_found) {
            co_await ctx.db.run([&](db::Connection& c) { store::delete_setting(c, key); });
            co_return;
        }
        schedule.archived = true;
        const std::string value = encode(schedule);
        const auto now = domain::to_timestamp(ctx.clock.now());
        co_await ctx.db.run([&](db::Connection& c) {
            if (store::get_setting(c, key)) store::set_setting(c, key, value, now);
        });
    }
    co_await wait_until(ctx, schedule.delete_at);
    const bool still_scheduled =
        co_await ctx.db.run([&](db::Connection& c) { return store::get_setting(c, key).has_value(); });
    if (!still_scheduled) co_return;
    auto deleted = co_await ctx.rest.delete_channel(channel, "order finished: channel closed");
    if (!deleted && deleted.error().code != discord::RestErrorCode::not_found) {
        spdlog::warn("order channel {} not deleted: {}", channel.str(), deleted.error().describe());
        co_return;  // kept in settings: the reconciler's next run retries
    }
    co_await ctx.db.run([&](db::Connection& c) { store::delete_setting(c, key); });
}

void spawn_closer(BotContext& ctx, Snowflake channel, CloseSchedule schedule) {
    std::string name = "closing order channel " + channel.str();
    // One closer per channel: resuming the stored schedules again (the reconciler does, for
    // channels that a `nebula-bot jobs run` process scheduled) leaves the running ones alone.
    if (ctx.background.running(name)) return;
    ctx.background.spawn(std::move(name), run_closer(ctx, channel, schedule));
}

asio::awaitable<void> resume_closers(BotContext& ctx) {
    auto rows =
        co_await ctx.db.run([](db::Connection& c) { return store::settings_with_prefix(c, kClosePrefix); });
    for (const auto& [key, value] : rows) {
        auto channel = Snowflake::parse(std::string_view(key).substr(kClosePrefix.size()));
        auto schedule = decode(value);
        if (channel && schedule) spawn_closer(ctx, *channel, *schedule);
    }
}

// ---- the review card ----

struct ReviewView {
    domain::Order order;
    std::optional<domain::User> customer;
    std::optional<domain::Plan> plan;
    std::optional<domain::PaymentMethod> method;
    std::optional<domain::Order> reused_from;
};

ReviewView load_review(BotContext& ctx, db::Connection& c, const domain::Order& order) {
    ReviewView view{order, ctx.users.get(c, order.user_id), ctx.catalog.plan(c, order.plan_id), std::nullopt,
                    std::nullopt};
    if (order.payment_method_id) view.method = ctx.catalog.payment_method(c, *order.payment_method_id);
    const auto receipts = ctx.orders.receipts(c, order.id);
    if (!receipts.empty() && receipts.back().reused_from_order_id) {
        view.reused_from = ctx.orders.get(c, *receipts.back().reused_from_order_id);
    }
    return view;
}

std::string method_label(ui::Locale locale, const std::optional<domain::PaymentMethod>& method) {
    if (!method) return "-";
    if (auto msg = ui::payment_method_msg(method->code)) return ui::tr(locale, *msg);
    return method->name_en;
}

/// The card as it stands; `status_line` says who did what, buttons only while under review.
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
        .field(ui::tr(locale, Msg::label_customer),
               view.customer ? flow::mention(view.customer->discord_id) + " (" + view.customer->username + ")"
                             : "?",
               true)
        .field(ui::tr(locale, Msg::label_plan), view.plan ? view.plan->spec.name : "?", true)
        .field(ui::tr(locale, Msg::label_amount), ui::format_money(locale, order.amount), true)
        .field(ui::tr(locale, Msg::label_method), method_label(locale, view.method), true)
        .field(ui::tr(locale, Msg::label_reference), "`" + order.reference + "`", true)
        .field(ui::tr(locale, Msg::label_order_type), ui::tr(locale, ui::order_kind_msg(order.kind)), true)
        .field(ui::tr(locale, Msg::label_status), ui::tr(locale, ui::order_status_msg(order.status)), true);
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

/// True once Discord shows the card as it stands.
asio::awaitable<bool> refresh_card(Call& call, domain::OrderId id, std::string status_line) {
    auto& ctx = call.ctx;
    auto view = co_await ctx.db.run([&](db::Connection& c) -> std::optional<ReviewView> {
        auto order = ctx.orders.get(c, id);
        if (!order) return std::nullopt;
        return load_review(ctx, c, *order);
    });
    if (!view) co_return false;
    co_return (co_await call.responder.update_message(review_card(ctx, *view, status_line))).has_value();
}

// ---- telling the customer ----

asio::awaitable<bool> send_dm(BotContext& ctx, Snowflake user, MessagePayload payload) {
    auto dm = co_await ctx.rest.create_dm(user);
    if (!dm) co_return false;
    auto sent = co_await ctx.rest.create_message(dm->id, std::move(payload));
    co_return sent.has_value();
}

// ---- the review buttons ----

asio::awaitable<void> explain_refusal(Call& call, domain::OrderId id, const domain::Error& error) {
    auto& ctx = call.ctx;
    auto order = co_await ctx.db.run([&](db::Connection& c) { return ctx.orders.get(c, id); });
    if (!order || error.code == ErrorCode::not_found) {
        co_await reply_ephemeral(call, call.tr(Msg::error_order_not_found));
    } else if (error.code == ErrorCode::claimed && order->claimed_by) {
        auto text = call.tr(Msg::review_already_claimed, {{"admin", flow::mention(*order->claimed_by)}});
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
    const std::string admin = call.user().id.str();
    auto claimed = co_await ctx.db.run([&](db::Connection& c) { return ctx.orders.claim(c, id, admin); });
    if (!claimed) {
        co_await explain_refusal(call, id, claimed.error());
        co_return;
    }
    auto text = ui::tr(ctx.shop.default_locale, Msg::review_claimed_by, {{"admin", flow::mention(admin)}});
    co_await refresh_card(call, id, std::move(text));
}

asio::awaitable<void> approve(Call& call, domain::OrderId id) {
    auto& ctx = call.ctx;
    const std::string admin = call.user().id.str();
    const auto shop_locale = ctx.shop.default_locale;
    auto result = co_await ctx.provisioner.approve_and_fulfil(id, admin);
    if (result) {
        // The order is fulfilled and its delivery recorded: from here on a crash or a Discord
        // outage delays what the customer receives, and the first part is the card.
        auto text = ui::tr(shop_locale, Msg::review_approved_by, {{"admin", flow::mention(admin)}});
        if (co_await refresh_card(call, id, std::move(text))) {
            const auto now = domain::to_timestamp(ctx.clock.now());
            co_await ctx.db.run([&](db::Connection& c) {
                domain::deliveries::mark_done(c, id, domain::DeliveryPart::card, now);
            });
        }
        co_await flow::deliver(call, *result);
        co_return;
    }
    const auto& error = result.error();
    if (!domain::is_pending(error)) {
        co_await explain_refusal(call, id, error);
        co_return;
    }
    // Approved, but the panel client is not made yet: the reconciler finishes it.
    auto text = ui::tr(shop_locale, Msg::review_approved_by, {{"admin", flow::mention(admin)}});
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
        payload.content = ui::tr(flow::customer_locale(ctx, who->second), Msg::order_being_prepared);
        co_await flow::tell_customer(ctx, who->first, who->second, std::move(payload));
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
    const std::string admin = call.user().id.str();
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
                       {{"admin", flow::mention(admin)}, {"reason", reason}});
    co_await refresh_card(call, id, std::move(text));
    const auto& [order, user] = *declined;
    MessagePayload payload;
    const auto locale = flow::customer_locale(ctx, user);
    payload.content =
        ui::tr(locale, Msg::order_declined,
               {{"reference", order.reference}, {"reason", ui::translate_decline_reason(locale, reason)}});
    payload.components.push_back(flow::cancel_row(locale, order.id));
    co_await flow::tell_customer(ctx, order, user, std::move(payload));
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

namespace flow {

void record_channel_close(const BotContext& ctx, db::Connection& connection, Snowflake channel,
                          Snowflake customer, std::chrono::seconds archive_after) {
    const auto now = domain::to_timestamp(ctx.clock.now());
    CloseSchedule schedule{now + archive_after, now + archive_after + ctx.shop.order_channel_delete_after,
                           customer, false};
    store::set_setting(connection, std::string(kClosePrefix) + channel.str(), encode(schedule), now);
}

asio::awaitable<void> schedule_channel_close(BotContext& ctx, Snowflake channel, Snowflake customer,
                                             std::chrono::seconds archive_after) {
    const std::string key = std::string(kClosePrefix) + channel.str();
    auto value = co_await ctx.db.run([&](db::Connection& c) {
        record_channel_close(ctx, c, channel, customer, archive_after);
        return *store::get_setting(c, key);
    });
    if (auto schedule = decode(value)) spawn_closer(ctx, channel, *schedule);
}

asio::awaitable<void> update_review_card(BotContext& ctx, domain::OrderId id, std::string status_line) {
    auto view = co_await ctx.db.run([&](db::Connection& c) -> std::optional<ReviewView> {
        auto order = ctx.orders.get(c, id);
        if (!order || !order->review_message_id) return std::nullopt;
        return load_review(ctx, c, *order);
    });
    if (!view) co_return;
    const auto message = snowflake(view->order.review_message_id);
    if (!message) co_return;
    auto edited = co_await ctx.rest.edit_message(ctx.shop.review_channel_id, *message,
                                                 review_card(ctx, *view, status_line));
    if (!edited) {
        spdlog::warn("order {}: review card not updated: {}", view->order.reference,
                     edited.error().describe());
    }
}

asio::awaitable<void> tell_customer(BotContext& ctx, const domain::Order& order, const domain::User& user,
                                    MessagePayload payload) {
    if (auto channel = snowflake(order.channel_id)) {
        auto copy = payload;
        auto sent = co_await ctx.rest.create_message(*channel, std::move(copy));
        if (sent) co_return;
    }
    if (auto id = Snowflake::parse(user.discord_id)) co_await send_dm(ctx, *id, std::move(payload));
}

asio::awaitable<void> post_review_card(BotContext& ctx, const domain::SubmittedReceipt& submitted,
                                       std::string image, std::string content_type) {
    auto view = co_await ctx.db.run([&](db::Connection& c) { return load_review(ctx, c, submitted.order); });
    MessagePayload card = review_card(ctx, view, "");
    card.clear_components = false;
    const bool pdf = content_type == "application/pdf";
    const std::string extension = content_type == "image/jpeg"   ? "jpg"
                                  : content_type == "image/webp" ? "webp"
                                  : pdf                          ? "pdf"
                                                                 : "png";
    card.files.push_back({"receipt-" + submitted.order.reference + "." + extension, content_type,
                          std::move(image), pdf ? "payment receipt (PDF)" : "payment screenshot"});
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
    const std::string message_id = posted->id.str();
    co_await ctx.db.run([&](db::Connection& c) { return ctx.orders.set_review_message(c, id, message_id); });
}

discord::MessagePayload review_card_for(BotContext& ctx, db::Connection& connection,
                                        const domain::Order& order, const std::string& status_line) {
    return review_card(ctx, load_review(ctx, connection, order), status_line);
}

std::string payment_method_label(ui::Locale locale, const std::optional<domain::PaymentMethod>& method) {
    return method_label(locale, method);
}

}  // namespace flow

void register_review_handlers(Router& router, BotContext&) {
    router.on_component<std::int64_t, std::string>("review",
                                                   [](Call& call, std::int64_t order, std::string action) {
                                                       return review_action(call, order, action);
                                                   });
    router.on_modal<std::int64_t>("decline",
                                  [](Call& call, std::int64_t order) { return decline(call, order); });
}

void resume_channel_closers(BotContext& ctx) {
    ctx.background.spawn("resuming order channel closers", resume_closers(ctx));
}

}  // namespace nebula::bot::handlers
