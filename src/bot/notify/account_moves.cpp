// Moving an account to another server, end to end: the domain's steps (AccountMover) with the
// customer told between the new client and the removal of the old one.
#include "bot/notify/account_moves.hpp"

#include <set>
#include <utility>

#include <spdlog/spdlog.h>

#include "bot/domain/accounts.hpp"
#include "bot/notify/customer.hpp"
#include "bot/ui/qr.hpp"

namespace nebula::bot::notify {
namespace asio = boost::asio;
using core::BotContext;
using discord::Embed;
using discord::MessagePayload;
using ui::Msg;

namespace {

constexpr std::uint32_t kMovedColour = 0x5865F2;
/// Attempts at telling the customer before the move goes on without them.
constexpr int kTellAttempts = 5;

std::set<std::pair<const BotContext*, std::int64_t>>& in_flight() {
    static std::set<std::pair<const BotContext*, std::int64_t>> moves;
    return moves;
}

domain::AccountMover mover(BotContext& ctx) {
    return domain::AccountMover(ctx.db, ctx.gateways, ctx.catalog, ctx.clock);
}

struct Recipient {
    domain::User user;
    domain::Account account;
    std::optional<domain::Server> server;
};

MessagePayload moved_payload(const BotContext& ctx, ui::Locale locale, const Recipient& r,
                             const domain::ClientLinks& links, const domain::AccountMove& move) {
    const auto& a = r.account;
    MessagePayload payload;
    const std::string body = ui::tr(locale, Msg::account_moved_body,
                                    {{"account", "#" + std::to_string(a.id.value)},
                                     {"server", r.server ? r.server->spec.name : std::string("?")},
                                     {"location", r.server ? r.server->spec.location : std::string("?")}}) +
                             "\n\n" +
                             ui::tr(locale, Msg::delivery_body,
                                    {{"link", links.vless},
                                     {"subscription_url", links.subscription},
                                     {"expiry", ui::format_date_time(locale, a.expires_at, ctx.zone)},
                                     {"traffic", ui::format_traffic_limit(locale, a.traffic_limit_bytes)},
                                     {"devices", ui::format_device_limit(locale, a.device_limit)}});
    Embed main;
    main.title(ui::tr(locale, Msg::account_moved_title)).description(body).color(kMovedColour);
    if (auto png = ui::qr_png(links.vless)) {
        main.footer(ui::tr(locale, Msg::delivery_qr));
        main.image("attachment://qr.png");
        payload.files.push_back({"qr.png", "image/png", std::move(*png), "QR code of the VLESS link"});
    }
    payload.embeds.push_back(std::move(main));
    Embed hints;
    hints.description(ui::tr(locale, Msg::setup_hints));
    payload.embeds.push_back(std::move(hints));
    // The same on every attempt: Discord returns the message it already made for a retry.
    payload.nonce =
        "nlmv" + std::to_string(move.id) + "-" + std::to_string(domain::epoch_seconds(move.created_at));
    return payload;
}

/// switched → told: the customer gets the new link. An error when they could not be reached
/// this time (the move stays switched, unless it has tried often enough).
asio::awaitable<std::optional<std::string>> tell(BotContext& ctx, const domain::AccountMove& move,
                                                 std::optional<domain::ClientLinks> links) {
    auto recipient = co_await ctx.db.run([&](db::Connection& c) -> std::optional<Recipient> {
        auto account = domain::accounts::get(c, move.account);
        if (!account) return std::nullopt;
        auto user = ctx.users.get(c, account->user_id);
        if (!user) return std::nullopt;
        return Recipient{std::move(*user), *account, ctx.catalog.server(c, account->server_id)};
    });
    std::optional<std::string> error;
    if (!recipient) error = "the account or its customer is gone";
    if (!error && !links) {
        auto config = co_await ctx.accounts.show_config(move.account);
        if (config) {
            links = config->links;
        } else {
            error = "links: " + config.error().message;
        }
    }
    const auto customer =
        recipient ? std::optional<discord::Snowflake>(recipient->user.discord_id) : std::nullopt;
    if (!error && !customer) error = "the customer has no Discord id";
    if (!error) {
        const auto locale = customer_locale(ctx, recipient->user);
        error = co_await tell_privately(ctx, std::nullopt, recipient->user, *customer,
                                        moved_payload(ctx, locale, *recipient, *links, move));
    }
    const auto now = domain::to_timestamp(ctx.clock.now());
    const auto id = move.id;
    if (!error) {
        co_await ctx.db.run([&](db::Connection& c) { domain::moves::mark_told(c, id, now); });
        co_return std::nullopt;
    }
    if (move.attempts + 1 < kTellAttempts) {
        co_await ctx.db.run([&](db::Connection& c) { domain::moves::record_failure(c, id, *error, now); });
        co_return error;
    }
    // Never reached: the admins pass the link on (/admin account config) and the move goes on.
    MessagePayload report;
    report.content = ui::tr(ctx.shop.default_locale, Msg::account_move_unreachable_report,
                            {{"account", "#" + std::to_string(move.account.value)}, {"error", *error}});
    report.nonce = "nlmvu" + std::to_string(move.id);
    auto posted = co_await ctx.rest.create_message(ctx.shop.review_channel_id, std::move(report));
    if (!posted) spdlog::warn("move #{}: report not posted: {}", move.id, posted.error().describe());
    co_await ctx.db.run(
        [&](db::Connection& c) { domain::moves::mark_told(c, id, now, "customer not reached: " + *error); });
    co_return std::nullopt;
}

}  // namespace

asio::awaitable<MoveRun> run_account_move(BotContext& ctx, std::int64_t id) {
    MoveRun run;
    const auto key = std::make_pair(static_cast<const BotContext*>(&ctx), id);
    if (!in_flight().insert(key).second) {
        run.error = "this move is running right now";
        co_return run;
    }
    struct Release {
        std::pair<const BotContext*, std::int64_t> key;
        ~Release() { in_flight().erase(key); }
    } release{key};

    auto steps = mover(ctx);
    auto created = co_await steps.create(id);
    if (!created) {
        run.move = co_await ctx.db.run([&](db::Connection& c) { return domain::moves::get(c, id); });
        run.error = created.error().message;
        co_return run;
    }
    if (created->move.state == domain::MoveState::switched) {
        if (auto error = co_await tell(ctx, created->move, created->links)) {
            run.move = co_await ctx.db.run([&](db::Connection& c) { return domain::moves::get(c, id); });
            run.error = "customer not told yet: " + *error;
            co_return run;
        }
    }
    auto removed = co_await steps.remove_old(id);
    run.move = co_await ctx.db.run([&](db::Connection& c) { return domain::moves::get(c, id); });
    if (!removed) run.error = removed.error().message;
    co_return run;
}

asio::awaitable<int> resume_account_moves(BotContext& ctx) {
    auto open = co_await ctx.db.run([](db::Connection& c) { return domain::moves::open(c); });
    int done = 0;
    for (const auto& move : open) {
        auto run = co_await run_account_move(ctx, move.id);
        if (run.move && run.move->state == domain::MoveState::done) {
            ++done;
        } else if (run.error) {
            spdlog::warn("move #{} of account {}: not finished yet: {}", move.id, move.account.value,
                         *run.error);
        }
    }
    co_return done;
}

namespace {

asio::awaitable<void> finish_moves(BotContext& ctx) {
    const int done = co_await resume_account_moves(ctx);
    if (done > 0) spdlog::info("account moves: {} finished after a restart", done);
}

}  // namespace

void resume_account_moves_in_background(BotContext& ctx) {
    ctx.background.spawn("finishing account moves", finish_moves(ctx));
}

}  // namespace nebula::bot::notify
