#include "bot/domain/trials.hpp"

#include "bot/domain/audit.hpp"
#include "bot/domain/load_balancer.hpp"
#include "common/crypto.hpp"

namespace nebula::bot::domain {
namespace {

constexpr std::size_t kSubIdLength = 16;
constexpr int kMaxTrialDays = 365;

std::optional<TrialOffer> read_offer(db::Connection& connection) {
    auto rows = connection.query(
        "SELECT plan_id, duration_days, traffic_bytes, enabled, updated_at FROM trial_offer WHERE id = 1");
    if (!rows->step()) return std::nullopt;
    TrialOffer offer;
    offer.plan_id = rows->get<PlanId>(0);
    offer.duration_days = rows->get<int>(1);
    offer.traffic_bytes = rows->get<std::int64_t>(2);
    offer.enabled = rows->get<bool>(3);
    offer.updated_at = rows->get<Timestamp>(4);
    return offer;
}

}  // namespace

nlohmann::json to_json(const TrialOffer& offer) {
    return {{"plan_id", offer.plan_id.value},
            {"duration_days", offer.duration_days},
            {"traffic_bytes", offer.traffic_bytes},
            {"enabled", offer.enabled}};
}

std::string_view to_string(TrialRefusal refusal) {
    switch (refusal) {
        case TrialRefusal::not_offered:
            return "not_offered";
        case TrialRefusal::banned:
            return "banned";
        case TrialRefusal::already_used:
            return "already_used";
        case TrialRefusal::account_too_new:
            return "account_too_new";
        case TrialRefusal::open_order:
            return "open_order";
        case TrialRefusal::no_capacity:
            return "no_capacity";
    }
    return "unknown";
}

namespace trials {

std::optional<TrialOffer> current(db::Connection& connection) { return read_offer(connection); }

std::optional<TrialOffer> offered(db::Connection& connection) {
    auto offer = read_offer(connection);
    if (!offer || !offer->enabled) return std::nullopt;
    if (!connection.scalar<std::int64_t>("SELECT id FROM plans WHERE id = ?", offer->plan_id))
        return std::nullopt;
    return offer;
}

Outcome<TrialOffer> set(db::Connection& connection, const Actor& actor, PlanId plan, int days,
                        std::int64_t traffic_bytes, Timestamp now) {
    if (days < 1 || days > kMaxTrialDays)
        return fail(ErrorCode::validation, "a trial lasts 1 to " + std::to_string(kMaxTrialDays) + " days");
    if (traffic_bytes < 0)
        return fail(ErrorCode::validation, "traffic cannot be negative (0 means unlimited)");
    return db::in_transaction(connection, [&](db::Connection& c) -> Outcome<TrialOffer> {
        if (!c.scalar<std::int64_t>("SELECT id FROM plans WHERE id = ?", plan))
            return fail(ErrorCode::not_found, "no such plan");
        const auto before = read_offer(c);
        if (before) {
            c.exec(
                "UPDATE trial_offer SET plan_id = ?, duration_days = ?, traffic_bytes = ?, enabled = 1, "
                "updated_at = ? WHERE id = 1",
                plan, days, traffic_bytes, now);
        } else {
            c.exec(
                "INSERT INTO trial_offer (id, plan_id, duration_days, traffic_bytes, enabled, updated_at) "
                "VALUES (1, ?, ?, ?, 1, ?)",
                plan, days, traffic_bytes, now);
        }
        auto after = *read_offer(c);
        record_audit(
            c,
            {actor.text(), "trial.set", "trial", "1",
             before ? std::optional<nlohmann::json>(to_json(*before)) : std::nullopt, to_json(after)},
            now);
        return after;
    });
}

Outcome<TrialOffer> disable(db::Connection& connection, const Actor& actor, Timestamp now) {
    return db::in_transaction(connection, [&](db::Connection& c) -> Outcome<TrialOffer> {
        const auto before = read_offer(c);
        if (!before || !before->enabled) return fail(ErrorCode::not_found, "no trial is offered");
        c.exec("UPDATE trial_offer SET enabled = 0, updated_at = ? WHERE id = 1", now);
        auto after = *read_offer(c);
        record_audit(c, {actor.text(), "trial.disabled", "trial", "1", to_json(*before), to_json(after)},
                     now);
        return after;
    });
}

common::Result<Order, TrialRefusal> start(db::Connection& connection, OrderService& orders,
                                          const TrialRequest& request, Timestamp now) {
    const UserId user = request.user;
    const auto already = [&](db::Connection& c) {
        return c.scalar<std::int64_t>("SELECT id FROM orders WHERE user_id = ? AND trial = 1", user)
            .has_value();
    };
    try {
        return db::in_transaction(connection, [&](db::Connection& c) -> common::Result<Order, TrialRefusal> {
            auto status = c.scalar<std::string>("SELECT status FROM users WHERE id = ?", user);
            if (!status || parse_user_status(*status) == UserStatus::banned)
                return common::unexpected(TrialRefusal::banned);
            const auto offer = offered(c);
            if (!offer) return common::unexpected(TrialRefusal::not_offered);
            if (already(c)) return common::unexpected(TrialRefusal::already_used);
            if (request.min_account_age.count() > 0 &&
                request.discord_created_at + request.min_account_age > now)
                return common::unexpected(TrialRefusal::account_too_new);
            if (orders.open_order(c, user)) return common::unexpected(TrialRefusal::open_order);
            // The same placement lock and rules as a paid approval.
            auto server = pick_server(c);
            if (!server) return common::unexpected(TrialRefusal::no_capacity);
            const auto id = *c.scalar<OrderId>(
                "INSERT INTO orders (user_id, plan_id, kind, status, amount_piasters, trial, server_id, "
                "client_uuid, sub_id, target_expires_at, target_traffic_bytes, created_at, updated_at, "
                "approved_at, channel_ready_at) VALUES (?, ?, 'new', 'approved', 0, 1, ?, ?, ?, ?, ?, ?, ?, "
                "?, "
                "?) RETURNING id",
                user, offer->plan_id, *server, common::uuid_v4(), common::random_alnum(kSubIdLength),
                now + std::chrono::days(offer->duration_days), offer->traffic_bytes, now, now, now, now);
            c.exec("UPDATE orders SET reference = ?, client_email = ? WHERE id = ?", order_reference(id),
                   client_email_for(id), id);
            auto created = *orders.get(c, id);
            record_audit(c,
                         {"user:" + std::to_string(user.value), "trial.started", "order",
                          std::to_string(id.value), std::nullopt, to_json(created)},
                         now);
            return created;
        });
    } catch (const db::DbError& error) {
        // Two clicks at once: the one-trial (or one-open-order) index refused the second insert.
        if (error.code() != db::DbErrorCode::unique_violation) throw;
        return common::unexpected(already(connection) ? TrialRefusal::already_used
                                                      : TrialRefusal::open_order);
    }
}

bool is_trial_account(db::Connection& connection, AccountId account) {
    return connection
        .scalar<std::int64_t>(
            "SELECT o.id FROM vpn_accounts a JOIN orders o ON o.id = a.order_id WHERE a.id = ? AND o.trial = "
            "1",
            account)
        .has_value();
}

TrialStats stats(db::Connection& connection, Timestamp from, Timestamp to) {
    TrialStats stats;
    auto rows = connection.query(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM orders p WHERE p.user_id = t.user_id "
        "AND p.trial = 0 AND p.status = 'fulfilled' AND p.fulfilled_at >= t.created_at) THEN 1 ELSE 0 END), "
        "0) "
        "FROM orders t WHERE t.trial = 1 AND t.created_at >= ? AND t.created_at < ?",
        from, to);
    if (rows->step()) {
        stats.started = rows->get<std::int64_t>(0);
        stats.converted = rows->get<std::int64_t>(1);
    }
    return stats;
}

}  // namespace trials
}  // namespace nebula::bot::domain
