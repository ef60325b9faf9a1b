// Delivery of an approved order to its customer, from the order_deliveries outbox: every part
// (review card, link in the order channel, link by DM, Subscriber role, billing line, channel
// closing) is stamped once Discord confirmed it, and whatever is missing is retried with backoff
// by this process (a wait on ctx.sleeper), by start-up and by the reconciler.
//
// Guarantees, per part:
// - channel, DM, billing line, closing notices (message creates): at most once per order within
//   Discord's nonce window, at least once overall. Each message carries a nonce fixed for the
//   order and part, sent with enforce_nonce: a retry within a few minutes of an attempt whose
//   answer was lost (a crash, a timeout, a 5xx) returns the message Discord already made. Once a
//   part is stamped it is never sent again.
// - review card (an edit) and Subscriber role (a PUT): idempotent, at least once.
#include <random>
#include <set>
#include <utility>

#include <spdlog/spdlog.h>

#include "bot/domain/accounts.hpp"
#include "bot/domain/deliveries.hpp"
#include "bot/notify/channel_closer.hpp"
#include "bot/notify/customer.hpp"
#include "bot/notify/delivery.hpp"
#include "bot/notify/review_card.hpp"
#include "bot/ui/qr.hpp"

namespace nebula::bot::notify {
namespace asio = boost::asio;
using core::BotContext;
using discord::Embed;
using discord::MessagePayload;
using discord::RestErrorCode;
using discord::Snowflake;
using domain::DeliveryPart;
using ui::Msg;

namespace {

constexpr std::uint32_t kApprovedColour = 0x57F287;

/// Orders being delivered by this process right now (one delivery per order at a time); all on
/// the Discord thread.
std::set<std::pair<const BotContext*, std::int64_t>>& in_flight() {
    static std::set<std::pair<const BotContext*, std::int64_t>> orders;
    return orders;
}

/// A failure worth retrying: Discord (or the network) may answer differently later.
bool transient(const discord::RestError& error) {
    switch (error.code) {
        case RestErrorCode::network:
        case RestErrorCode::timeout:
        case RestErrorCode::rate_limited:
        case RestErrorCode::server:
        case RestErrorCode::invalid_budget:
        case RestErrorCode::unauthorized:
        case RestErrorCode::bad_response:
            return true;
        default:
            return false;
    }
}

/// The nonce of one part's message: the same on every attempt for this order (Discord allows 25
/// characters).
std::string nonce_of(const domain::Delivery& d, char part) {
    return "nl" + std::to_string(d.order.value) + part + "-" +
           std::to_string(domain::epoch_seconds(d.created_at));
}

struct Loaded {
    domain::Delivery delivery;
    domain::Order order;
    domain::User user;
    std::optional<domain::Account> account;
    std::optional<domain::Plan> plan;
    std::optional<domain::Server> server;
    std::optional<domain::PaymentMethod> method;
    std::optional<MessagePayload> card;
};

/// The location the customer picked when the account is elsewhere (it filled up before approval).
std::optional<std::string> fell_back(const Loaded& d) {
    if (d.order.kind != domain::OrderKind::new_access || !d.order.location || !d.server) return std::nullopt;
    if (d.server->spec.location == *d.order.location) return std::nullopt;
    return d.order.location;
}

MessagePayload delivery_payload(const BotContext& ctx, ui::Locale locale, const Loaded& d,
                                const domain::ClientLinks& links) {
    const auto& a = *d.account;
    MessagePayload payload;
    std::string body = ui::tr(locale, Msg::delivery_body,
                              {{"link", links.vless},
                               {"subscription_url", links.subscription},
                               {"expiry", ui::format_date_time(locale, a.expires_at, ctx.zone)},
                               {"traffic", ui::format_traffic_limit(locale, a.traffic_limit_bytes)},
                               {"devices", ui::format_device_limit(locale, a.device_limit)}});
    if (const auto chosen = fell_back(d)) {
        body = ui::tr(locale, Msg::location_fallback_note,
                      {{"chosen", *chosen}, {"location", d.server->spec.location}}) +
               "\n\n" + body;
    }
    if (d.order.kind == domain::OrderKind::renewal) {
        const std::string label =
            (d.server ? d.server->spec.name : std::string("?")) + " #" + std::to_string(a.id.value);
        payload.content =
            ui::tr(locale, Msg::renewal_done,
                   {{"account", label}, {"expiry", ui::format_date_time(locale, a.expires_at, ctx.zone)}});
    }
    Embed main;
    main.title(ui::tr(locale, Msg::delivery_title)).description(body).color(kApprovedColour);
    Embed hints;
    hints.description(ui::tr(locale, Msg::setup_hints));
    if (auto png = ui::qr_png(links.vless)) {
        main.footer(ui::tr(locale, Msg::delivery_qr));
        main.image("attachment://qr.png");
        payload.files.push_back({"qr.png", "image/png", std::move(*png), "QR code of the VLESS link"});
    }
    payload.embeds.push_back(std::move(main));
    payload.embeds.push_back(std::move(hints));
    return payload;
}

asio::awaitable<void> retry_later(BotContext& ctx, domain::OrderId id, domain::Timestamp when);

class Deliverer {
  public:
    Deliverer(BotContext& ctx, Loaded d, std::optional<std::string> approver_label,
              std::optional<domain::ClientLinks> links, bool told_by_caller)
        : ctx_(ctx),
          d_(std::move(d)),
          approver_label_(std::move(approver_label)),
          links_(std::move(links)),
          told_by_caller_(told_by_caller) {}

    asio::awaitable<DeliveryOutcome> run() {
        customer_ = d_.user.discord_id;
        locale_ = customer_locale(ctx_, d_.user);
        if (!d_.delivery.done(DeliveryPart::card)) co_await card();
        if (!d_.delivery.done(DeliveryPart::channel) || !d_.delivery.done(DeliveryPart::dm)) {
            if (co_await load_links()) {
                if (!d_.delivery.done(DeliveryPart::channel)) co_await channel_post();
                if (!d_.delivery.done(DeliveryPart::dm)) co_await direct_message();
            }
        }
        if (!d_.delivery.done(DeliveryPart::role)) co_await role();
        if (!d_.delivery.done(DeliveryPart::billing)) co_await billing();
        if (!d_.delivery.done(DeliveryPart::closing) && d_.delivery.done(DeliveryPart::channel) &&
            d_.delivery.done(DeliveryPart::dm)) {
            co_await closing();
        }
        const auto now = domain::to_timestamp(ctx_.clock.now());
        const auto id = d_.order.id;
        if (errors_.empty()) {
            outcome_.complete = co_await ctx_.db.run(
                [&](db::Connection& c) { return domain::deliveries::complete_if_done(c, id, now); });
            co_return outcome_;
        }
        std::string error;
        for (const auto& e : errors_) error += (error.empty() ? "" : "; ") + e;
        static thread_local std::mt19937_64 random{std::random_device{}()};
        const auto delay = domain::deliveries::backoff(d_.delivery.attempts + 1,
                                                       std::uniform_real_distribution<double>(0, 1)(random));
        co_await ctx_.db.run(
            [&](db::Connection& c) { domain::deliveries::record_failure(c, id, error, now, delay); });
        spdlog::warn("order {}: delivery not complete (attempt {}), retrying in {} s: {}", d_.order.reference,
                     d_.delivery.attempts + 1, delay.count(), error);
        const std::string name = "delivering order " + std::to_string(id.value);
        if (!ctx_.background.running(name) && !ctx_.background.cancelled()) {
            ctx_.background.spawn(name, retry_later(ctx_, id, now + delay));
        }
        co_return outcome_;
    }

  private:
    asio::awaitable<void> done(DeliveryPart part, std::optional<std::string> detail = std::nullopt) {
        const auto now = domain::to_timestamp(ctx_.clock.now());
        const auto id = d_.order.id;
        co_await ctx_.db.run(
            [&](db::Connection& c) { domain::deliveries::mark_done(c, id, part, now, detail); });
        switch (part) {
            case DeliveryPart::card:
                d_.delivery.card_at = now;
                break;
            case DeliveryPart::channel:
                d_.delivery.channel_at = now;
                if (!d_.delivery.channel_message_id) d_.delivery.channel_message_id = detail.value_or("");
                break;
            case DeliveryPart::dm:
                d_.delivery.dm_at = now;
                if (!d_.delivery.dm_message_id) d_.delivery.dm_message_id = detail.value_or("");
                break;
            case DeliveryPart::role:
                d_.delivery.role_at = now;
                break;
            case DeliveryPart::billing:
                d_.delivery.billing_at = now;
                break;
            case DeliveryPart::closing:
                d_.delivery.closing_at = now;
                break;
        }
    }

    void failed(DeliveryPart part, const std::string& what) {
        errors_.push_back(std::string(domain::to_string(part)) + ": " + what);
    }

    asio::awaitable<void> card() {
        const auto message = d_.order.review_message_id;
        if (!message || !d_.card) co_return co_await done(DeliveryPart::card);
        auto edited = co_await ctx_.rest.edit_message(ctx_.shop.review_channel_id, *message, *d_.card);
        if (!edited && transient(edited.error()))
            co_return failed(DeliveryPart::card, edited.error().describe());
        if (!edited)
            spdlog::warn("order {}: review card not updated: {}", d_.order.reference,
                         edited.error().describe());
        co_await done(DeliveryPart::card);
    }

    asio::awaitable<bool> load_links() {
        if (links_) co_return true;
        if (!d_.account) {
            errors_.push_back("the order has no account");
            co_return false;
        }
        auto config = co_await ctx_.accounts.show_config(d_.account->id);
        if (!config) {
            errors_.push_back("links: " + config.error().message);
            co_return false;
        }
        links_ = config->links;
        co_return true;
    }

    asio::awaitable<void> channel_post() {
        const auto channel = d_.order.channel_id;
        if (!channel) co_return co_await done(DeliveryPart::channel, "");
        auto payload = delivery_payload(ctx_, locale_, d_, *links_);
        payload.content = with_mention(locale_, d_.user.discord_id, payload.content);
        payload.allowed_mentions.users.push_back(customer_);
        payload.nonce = nonce_of(d_.delivery, 'c');
        auto sent = co_await ctx_.rest.create_message(*channel, std::move(payload));
        if (sent) co_return co_await done(DeliveryPart::channel, sent->id.str());
        if (transient(sent.error())) co_return failed(DeliveryPart::channel, sent.error().describe());
        // The channel is gone or closed to the bot: the DM carries the link.
        co_await done(DeliveryPart::channel, "");
    }

    asio::awaitable<void> direct_message() {
        auto dm = co_await ctx_.rest.create_dm(customer_);
        if (!dm) {
            if (transient(dm.error())) co_return failed(DeliveryPart::dm, dm.error().describe());
            co_return co_await done(DeliveryPart::dm, "");
        }
        auto payload = delivery_payload(ctx_, locale_, d_, *links_);
        payload.nonce = nonce_of(d_.delivery, 'm');
        auto sent = co_await ctx_.rest.create_message(dm->id, std::move(payload));
        if (sent) co_return co_await done(DeliveryPart::dm, sent->id.str());
        if (transient(sent.error())) co_return failed(DeliveryPart::dm, sent.error().describe());
        co_await done(DeliveryPart::dm, "");  // DMs closed (50007): the channel carries the link
    }

    /// A report in the review channel, for what nobody clicking was told.
    asio::awaitable<void> report(Msg message, char part) {
        MessagePayload payload;
        payload.content = ui::tr(ctx_.shop.default_locale, message, {{"reference", d_.order.reference}});
        payload.nonce = nonce_of(d_.delivery, part);
        auto posted = co_await ctx_.rest.create_message(ctx_.shop.review_channel_id, std::move(payload));
        if (!posted)
            spdlog::warn("order {}: report not posted: {}", d_.order.reference, posted.error().describe());
    }

    asio::awaitable<void> role() {
        if (!ctx_.shop.subscriber_role_id) co_return co_await done(DeliveryPart::role);
        auto granted =
            co_await ctx_.rest.add_member_role(ctx_.shop.guild_id, customer_, *ctx_.shop.subscriber_role_id,
                                               "order " + d_.order.reference + " delivered");
        if (!granted && transient(granted.error()))
            co_return failed(DeliveryPart::role, granted.error().describe());
        if (!granted && granted.error().code == RestErrorCode::not_found) {
            outcome_.customer_left = true;
            const auto id = d_.order.id;
            co_await ctx_.db.run(
                [&](db::Connection& c) { domain::deliveries::set_outcome(c, id, "customer_left"); });
            if (!told_by_caller_) {
                co_await report(
                    d_.delivery.approver ? Msg::delivery_customer_left_report : Msg::job_order_customer_left,
                    'r');
            }
        } else if (!granted) {
            spdlog::warn("order {}: Subscriber role not granted: {}", d_.order.reference,
                         granted.error().describe());
        }
        co_await done(DeliveryPart::role);
    }

    asio::awaitable<void> billing() {
        const auto shop_locale = ctx_.shop.default_locale;
        std::string approver = approver_label_        ? *approver_label_
                               : d_.delivery.approver ? mention(*d_.delivery.approver)
                                                      : ui::tr(shop_locale, Msg::job_automatic);
        MessagePayload line;
        line.content = ui::tr(shop_locale, Msg::billing_line,
                              {{"reference", d_.order.reference},
                               {"customer", mention(d_.user.discord_id)},
                               {"plan", d_.plan ? d_.plan->spec.name : std::string("?")},
                               {"amount", ui::format_money(shop_locale, d_.order.amount)},
                               {"method", payment_method_label(shop_locale, d_.method)},
                               {"admin", approver}});
        if (const auto chosen = fell_back(d_)) {
            line.content += "\n" + ui::tr(shop_locale, Msg::location_fallback_billing,
                                          {{"reference", d_.order.reference},
                                           {"chosen", *chosen},
                                           {"location", d_.server->spec.location}});
        }
        line.nonce = nonce_of(d_.delivery, 'b');
        auto sent = co_await ctx_.rest.create_message(ctx_.shop.billing_channel_id, std::move(line));
        if (!sent && transient(sent.error()))
            co_return failed(DeliveryPart::billing, sent.error().describe());
        if (!sent)
            spdlog::warn("billing line for {} not posted: {}", d_.order.reference, sent.error().describe());
        co_await done(DeliveryPart::billing);
    }

    asio::awaitable<void> closing() {
        const bool in_channel = !d_.delivery.channel_message_id.value_or("").empty();
        const bool by_dm = !d_.delivery.dm_message_id.value_or("").empty();
        const auto channel = d_.order.channel_id;
        // A trial delivered while the customer waited had its link in the answer to their click.
        const bool shown_at_click = d_.order.trial && told_by_caller_;
        if (!in_channel && !by_dm && !shown_at_click && !outcome_.customer_left &&
            d_.delivery.outcome != "customer_left") {
            // Neither the order channel nor a DM reached the customer: an admin must.
            const auto id = d_.order.id;
            co_await ctx_.db.run(
                [&](db::Connection& c) { domain::deliveries::set_outcome(c, id, "unreachable"); });
            co_await report(Msg::delivery_unreachable_report, 'u');
        }
        if (in_channel && channel) {
            MessagePayload note;
            note.content = ui::tr(locale_, by_dm ? Msg::delivery_dm_sent : Msg::error_dms_closed);
            note.nonce = nonce_of(d_.delivery, 'n');
            auto sent = co_await ctx_.rest.create_message(*channel, std::move(note));
            if (!sent && transient(sent.error()))
                co_return failed(DeliveryPart::closing, sent.error().describe());
            MessagePayload closing;
            closing.content =
                ui::tr(locale_, Msg::channel_closing,
                       {{"duration", ui::format_duration(locale_, ctx_.shop.order_channel_archive_after)}});
            closing.nonce = nonce_of(d_.delivery, 'x');
            sent = co_await ctx_.rest.create_message(*channel, std::move(closing));
            if (!sent && transient(sent.error()))
                co_return failed(DeliveryPart::closing, sent.error().describe());
            co_await schedule_channel_close(ctx_, *channel, customer_, ctx_.shop.order_channel_archive_after);
        }
        co_await done(DeliveryPart::closing);
    }

    BotContext& ctx_;
    Loaded d_;
    std::optional<std::string> approver_label_;
    std::optional<domain::ClientLinks> links_;
    bool told_by_caller_;
    Snowflake customer_;
    ui::Locale locale_ = ui::Locale::en;
    std::vector<std::string> errors_;
    DeliveryOutcome outcome_;
};

asio::awaitable<void> retry_later(BotContext& ctx, domain::OrderId id, domain::Timestamp when) {
    const auto now = ctx.clock.now();
    if (when > now) co_await ctx.sleeper.sleep_until(ctx.clock.steady_now() + (when - now));
    co_await deliver_order(ctx, id, std::nullopt, std::nullopt, false);
}

}  // namespace

asio::awaitable<DeliveryOutcome> deliver_order(BotContext& ctx, domain::OrderId id,
                                               std::optional<std::string> approver_label,
                                               std::optional<domain::ClientLinks> links,
                                               bool told_by_caller) {
    DeliveryOutcome outcome;
    const auto key = std::make_pair(static_cast<const BotContext*>(&ctx), id.value);
    if (!in_flight().insert(key).second) co_return outcome;  // being delivered right now
    struct Release {
        std::pair<const BotContext*, std::int64_t> key;
        ~Release() { in_flight().erase(key); }
    } release{key};

    auto loaded = co_await ctx.db.run([&](db::Connection& c) -> std::optional<Loaded> {
        auto delivery = domain::deliveries::get(c, id);
        if (!delivery) return std::nullopt;
        auto order = ctx.orders.get(c, id);
        auto user = order ? ctx.users.get(c, order->user_id) : std::nullopt;
        if (!order || !user) return std::nullopt;
        Loaded d{*delivery,    *order,       *user,       std::nullopt, ctx.catalog.plan(c, order->plan_id),
                 std::nullopt, std::nullopt, std::nullopt};
        if (order->account_id) d.account = domain::accounts::get(c, *order->account_id);
        if (d.account) d.server = ctx.catalog.server(c, d.account->server_id);
        if (order->payment_method_id) d.method = ctx.catalog.payment_method(c, *order->payment_method_id);
        if (!delivery->card_at && order->review_message_id) {
            const std::string status =
                ui::tr(ctx.shop.default_locale, Msg::review_approved_by,
                       {{"admin", order->reviewer_id ? mention(*order->reviewer_id) : std::string("?")}});
            d.card = review_card_for(ctx, c, *order, status);
        }
        return d;
    });
    if (!loaded) co_return outcome;
    if (loaded->delivery.complete()) {
        outcome.complete = true;
        outcome.customer_left = loaded->delivery.outcome == "customer_left";
        co_return outcome;
    }
    Deliverer deliverer(ctx, std::move(*loaded), std::move(approver_label), std::move(links), told_by_caller);
    co_return co_await deliverer.run();
}

asio::awaitable<DeliverySweep> deliver_pending(BotContext& ctx, bool everything) {
    DeliverySweep sweep;
    const auto now = domain::to_timestamp(ctx.clock.now());
    // Everything pending, at start-up: the timers of the previous process are gone.
    const auto due_by = everything ? now + std::chrono::hours(24 * 366 * 10) : now;
    auto due = co_await ctx.db.run([&](db::Connection& c) { return domain::deliveries::due(c, due_by); });
    for (const auto& d : due) {
        auto outcome = co_await deliver_order(ctx, d.order, std::nullopt, std::nullopt, false);
        if (outcome.complete) {
            ++sweep.completed;
        } else {
            ++sweep.pending;
        }
    }
    co_return sweep;
}

asio::awaitable<DeliveryOutcome> deliver(BotContext& ctx, const domain::Fulfilment& fulfilment,
                                         std::string approver) {
    co_return co_await deliver_order(ctx, fulfilment.order.id, std::move(approver), fulfilment.links, false);
}

namespace {

asio::awaitable<void> finish_pending(BotContext& ctx) {
    auto sweep = co_await deliver_pending(ctx, true);
    if (sweep.completed + sweep.pending > 0) {
        spdlog::info("pending deliveries: {} completed, {} still pending", sweep.completed, sweep.pending);
    }
}

}  // namespace

void resume_deliveries(BotContext& ctx) {
    ctx.background.spawn("finishing pending deliveries", finish_pending(ctx));
}

}  // namespace nebula::bot::notify
