#include "bot/domain/referrals.hpp"

#include <cctype>
#include <charconv>

#include <spdlog/spdlog.h>

#include "bot/domain/accounts.hpp"
#include "bot/domain/audit.hpp"
#include "bot/domain/provisioning.hpp"

namespace nebula::bot::domain {
namespace {

constexpr std::string_view kSelect =
    "SELECT referred_user_id, referrer_id, order_id, days, account_id, target_expires_at, granted_at, "
    "told_at "
    "FROM referral_rewards ";

std::vector<ReferralReward> read_rewards(db::Statement& rows) {
    std::vector<ReferralReward> out;
    while (rows.step()) {
        ReferralReward r;
        r.referred = rows.get<UserId>(0);
        r.referrer = rows.get<UserId>(1);
        r.order = rows.get<OrderId>(2);
        r.days = rows.get<int>(3);
        r.account = rows.get<std::optional<AccountId>>(4);
        r.target_expires_at = rows.get<std::optional<Timestamp>>(5);
        r.granted_at = rows.get<std::optional<Timestamp>>(6);
        r.told_at = rows.get<std::optional<Timestamp>>(7);
        out.push_back(r);
    }
    return out;
}

std::optional<ReferralReward> reward_of(db::Connection& connection, UserId referred) {
    auto rows = connection.query(std::string(kSelect) + "WHERE referred_user_id = ?", referred);
    auto rewards = read_rewards(*rows);
    if (rewards.empty()) return std::nullopt;
    return rewards.front();
}

std::int64_t to_ms(Timestamp t) { return epoch_seconds(t) * 1000; }

struct GrantTarget {
    ReferralReward reward;
    Account account;
    Server server;
};

}  // namespace

std::string_view to_string(ReferralRefusal refusal) {
    switch (refusal) {
        case ReferralRefusal::unknown_code:
            return "unknown_code";
        case ReferralRefusal::self:
            return "self";
        case ReferralRefusal::already_referred:
            return "already_referred";
        case ReferralRefusal::not_new:
            return "not_new";
        case ReferralRefusal::loop:
            return "loop";
    }
    return "unknown";
}

namespace referrals {

std::string code_for(UserId user) { return "R" + std::to_string(user.value); }

std::optional<UserId> parse_code(std::string_view code) {
    while (!code.empty() && std::isspace(static_cast<unsigned char>(code.front()))) code.remove_prefix(1);
    while (!code.empty() && std::isspace(static_cast<unsigned char>(code.back()))) code.remove_suffix(1);
    if (code.size() < 2 || code.size() > 19 || (code.front() != 'R' && code.front() != 'r'))
        return std::nullopt;
    code.remove_prefix(1);
    std::int64_t value = 0;
    const auto [end, error] = std::from_chars(code.data(), code.data() + code.size(), value);
    if (error != std::errc{} || end != code.data() + code.size() || value <= 0) return std::nullopt;
    return UserId{value};
}

common::Result<UserId, ReferralRefusal> attach(db::Connection& connection, UserId user, std::string_view code,
                                               Timestamp now) {
    const auto referrer = parse_code(code);
    if (!referrer) return common::unexpected(ReferralRefusal::unknown_code);
    return db::in_transaction(connection, [&](db::Connection& c) -> common::Result<UserId, ReferralRefusal> {
        if (!c.scalar<std::int64_t>("SELECT id FROM users WHERE id = ?", *referrer))
            return common::unexpected(ReferralRefusal::unknown_code);
        if (*referrer == user) return common::unexpected(ReferralRefusal::self);
        if (c.scalar<std::int64_t>("SELECT referred_by FROM users WHERE id = ? AND referred_by IS NOT NULL",
                                   user))
            return common::unexpected(ReferralRefusal::already_referred);
        if (c.scalar<std::int64_t>(
                "SELECT id FROM orders WHERE user_id = ? AND trial = 0 AND status = 'fulfilled' LIMIT 1",
                user))
            return common::unexpected(ReferralRefusal::not_new);
        // Up the referrer's chain: reaching this customer would make a loop.
        std::optional<UserId> up = referrer;
        for (int step = 0; up && step < 1000; ++step) {
            if (*up == user) return common::unexpected(ReferralRefusal::loop);
            up = c.scalar<UserId>("SELECT referred_by FROM users WHERE id = ? AND referred_by IS NOT NULL",
                                  *up);
        }
        if (c.exec("UPDATE users SET referred_by = ?, updated_at = ? WHERE id = ? AND referred_by IS NULL",
                   *referrer, now, user) == 0)
            return common::unexpected(ReferralRefusal::already_referred);
        record_audit(
            c,
            {"user:" + std::to_string(user.value), "referral.attached", "user", std::to_string(user.value),
             std::nullopt, nlohmann::json{{"referred_by", referrer->value}}},
            now);
        return *referrer;
    });
}

int queue_rewards(db::Connection& connection, int days, Timestamp now) {
    if (days <= 0) return 0;
    std::vector<std::pair<UserId, UserId>> due;
    {
        auto rows = connection.query(
            "SELECT u.id, u.referred_by FROM users u WHERE u.referred_by IS NOT NULL AND NOT EXISTS (SELECT "
            "1 FROM "
            "referral_rewards r WHERE r.referred_user_id = u.id) AND EXISTS (SELECT 1 FROM orders o WHERE "
            "o.user_id "
            "= u.id AND o.trial = 0 AND o.status = 'fulfilled')");
        while (rows->step()) due.emplace_back(rows->get<UserId>(0), rows->get<UserId>(1));
    }
    int queued = 0;
    for (const auto& pair : due) {
        // Named copies: lambdas do not capture structured bindings in every compiler.
        const UserId referred = pair.first;
        const UserId referrer = pair.second;
        try {
            queued += db::in_transaction(connection, [&](db::Connection& c) {
                const auto order = *c.scalar<OrderId>(
                    "SELECT MIN(id) FROM orders WHERE user_id = ? AND trial = 0 AND status = 'fulfilled'",
                    referred);
                c.exec(
                    "INSERT INTO referral_rewards (referred_user_id, referrer_id, order_id, days, "
                    "created_at) VALUES "
                    "(?, ?, ?, ?, ?)",
                    referred, referrer, order, days, now);
                record_audit(
                    c,
                    {Actor::system().text(), "referral.earned", "user", std::to_string(referrer.value),
                     std::nullopt,
                     nlohmann::json{{"referred", referred.value}, {"order", order.value}, {"days", days}}},
                    now);
                return 1;
            });
        } catch (const db::DbError& error) {
            // Queued meanwhile by another process: one reward per referred customer.
            if (error.code() != db::DbErrorCode::unique_violation) throw;
        }
    }
    return queued;
}

std::vector<ReferralReward> ungranted(db::Connection& connection) {
    auto rows =
        connection.query(std::string(kSelect) + "WHERE granted_at IS NULL ORDER BY created_at LIMIT 500");
    return read_rewards(*rows);
}

std::vector<ReferralReward> untold(db::Connection& connection) {
    auto rows =
        connection.query(std::string(kSelect) +
                         "WHERE granted_at IS NOT NULL AND told_at IS NULL ORDER BY granted_at LIMIT 500");
    return read_rewards(*rows);
}

void mark_told(db::Connection& connection, UserId referred, Timestamp now) {
    connection.exec("UPDATE referral_rewards SET told_at = ? WHERE referred_user_id = ?", now, referred);
}

ReferralStats stats(db::Connection& connection, Timestamp from, Timestamp to) {
    ReferralStats s;
    s.referred = *connection.scalar<std::int64_t>(
        "SELECT COUNT(*) FROM users WHERE referred_by IS NOT NULL AND created_at >= ? AND created_at < ?",
        from, to);
    s.rewarded = *connection.scalar<std::int64_t>(
        "SELECT COUNT(*) FROM referral_rewards WHERE granted_at >= ? AND granted_at < ?", from, to);
    return s;
}

boost::asio::awaitable<int> grant_rewards(db::DbExecutor& db, GatewayDirectory& gateways,
                                          CatalogService& catalog, const common::Clock& clock) {
    const auto pending = co_await db.run([](db::Connection& c) { return ungranted(c); });
    int granted = 0;
    for (const auto& queued : pending) {
        const auto referred = queued.referred;
        // The account and the target expiry, decided once.
        auto target = co_await db.run([&](db::Connection& c) -> std::optional<GrantTarget> {
            return db::in_transaction(c, [&](db::Connection& t) -> std::optional<GrantTarget> {
                auto reward = reward_of(t, referred);
                if (!reward || reward->granted_at) return std::nullopt;
                if (!reward->account) {
                    auto latest = t.scalar<AccountId>(
                        "SELECT id FROM vpn_accounts WHERE user_id = ? AND status <> 'deleted' ORDER BY "
                        "expires_at "
                        "DESC, id DESC LIMIT 1",
                        reward->referrer);
                    if (!latest) return std::nullopt;  // kept until the referrer has an account
                    const auto account = *accounts::get(t, *latest);
                    const auto now = to_timestamp(clock.now());
                    t.exec(
                        "UPDATE referral_rewards SET account_id = ?, target_expires_at = ? WHERE "
                        "referred_user_id = ? "
                        "AND account_id IS NULL",
                        *latest, accounts::renewed_expiry(now, account.expires_at, reward->days), referred);
                    reward = reward_of(t, referred);
                }
                auto account = accounts::get(t, *reward->account);
                if (!account || account->status == AccountStatus::deleted) return std::nullopt;
                auto server = catalog.server(t, account->server_id);
                if (!server) return std::nullopt;
                return GrantTarget{*reward, *account, *server};
            });
        });
        if (!target) continue;
        const auto expiry = *target->reward.target_expires_at;
        const bool wake = target->account.status == AccountStatus::expired;
        ClientChange change{to_ms(expiry), std::nullopt, std::nullopt,
                            wake ? std::optional<bool>(true) : std::nullopt};
        auto updated =
            co_await gateways.gateway_for(target->server).update_client(target->account.client_email, change);
        if (!updated) {
            spdlog::warn("referral reward for customer {}: panel not updated: {}", referred.value,
                         describe(updated.error()));
            continue;
        }
        const bool done = co_await db.run([&](db::Connection& c) {
            return db::in_transaction(c, [&](db::Connection& t) {
                const auto now = to_timestamp(clock.now());
                const auto before = accounts::get(t, target->account.id);
                // Moved to another server meanwhile: the panel change went to the old client, so
                // the reward stays queued and the next run extends the new one.
                if (!before || before->client_email != target->account.client_email) return false;
                if (t.exec("UPDATE referral_rewards SET granted_at = ? WHERE referred_user_id = ? AND "
                           "granted_at IS "
                           "NULL",
                           now, referred) == 0)
                    return false;
                t.exec(
                    "UPDATE vpn_accounts SET expires_at = ?, expiry_alert_level = 0, status = CASE WHEN "
                    "status = "
                    "'expired' THEN 'active' ELSE status END, updated_at = ? WHERE id = ?",
                    expiry, now, target->account.id);
                record_audit(t,
                             {Actor::system().text(), "referral.rewarded", "account",
                              std::to_string(target->account.id.value), to_json(*before),
                              to_json(*accounts::get(t, target->account.id))},
                             now);
                return true;
            });
        });
        if (done) ++granted;
    }
    co_return granted;
}

}  // namespace referrals
}  // namespace nebula::bot::domain
