#include "bot/notify/referrals.hpp"

#include <spdlog/spdlog.h>

#include "bot/domain/accounts.hpp"
#include "bot/domain/referrals.hpp"
#include "bot/notify/customer.hpp"

namespace nebula::bot::notify {
namespace asio = boost::asio;
using ui::Msg;

asio::awaitable<ReferralSweep> grant_referral_rewards(core::BotContext& ctx) {
    ReferralSweep sweep;
    const int days = ctx.shop.referral_bonus_days;
    if (days <= 0) co_return sweep;
    const auto now = domain::to_timestamp(ctx.clock.now());
    sweep.queued = co_await ctx.db.run(
        [&](db::Connection& c) { return domain::referrals::queue_rewards(c, days, now); });
    sweep.granted = co_await domain::referrals::grant_rewards(ctx.db, ctx.gateways, ctx.catalog, ctx.clock);
    struct Told {
        domain::ReferralReward reward;
        std::optional<domain::User> referrer;
        std::optional<domain::Account> account;
        std::optional<domain::Server> server;
    };
    auto untold = co_await ctx.db.run([&](db::Connection& c) {
        std::vector<Told> out;
        for (const auto& reward : domain::referrals::untold(c)) {
            Told t{reward, ctx.users.get(c, reward.referrer), std::nullopt, std::nullopt};
            if (reward.account) t.account = domain::accounts::get(c, *reward.account);
            if (t.account) t.server = ctx.catalog.server(c, t.account->server_id);
            out.push_back(std::move(t));
        }
        return out;
    });
    for (const auto& t : untold) {
        if (t.referrer && t.account) {
            const auto locale = customer_locale(ctx, *t.referrer);
            discord::MessagePayload payload;
            payload.content =
                ui::tr(locale, Msg::referral_reward,
                       {{"server", t.server ? t.server->spec.name : std::string("?")},
                        {"days", ui::format_count(locale, t.reward.days, ui::Unit::day)},
                        {"expiry", ui::format_date_time(locale, t.account->expires_at, ctx.zone)}});
            const auto error = co_await tell_privately(ctx, std::nullopt, *t.referrer, t.referrer->discord_id,
                                                       std::move(payload));
            if (error) {
                spdlog::warn("referral reward of customer {}: referrer not told: {}", t.reward.referred.value,
                             *error);
                continue;
            }
            ++sweep.told;
        }
        const auto referred = t.reward.referred;
        const auto at = domain::to_timestamp(ctx.clock.now());
        co_await ctx.db.run([&](db::Connection& c) { domain::referrals::mark_told(c, referred, at); });
    }
    co_return sweep;
}

}  // namespace nebula::bot::notify
