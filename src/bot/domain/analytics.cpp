#include "bot/domain/analytics.hpp"

#include <cstdio>

#include <nlohmann/json.hpp>

namespace nebula::bot::domain {
namespace {

constexpr std::int64_t kQuarterHour = 900;

std::vector<RevenueRow> read_rows(db::Statement& rows) {
    std::vector<RevenueRow> list;
    while (rows.step()) {
        list.push_back({rows.get<std::string>(0), rows.get<Piasters>(1), rows.get<std::int64_t>(2)});
    }
    return list;
}

}  // namespace

std::string Analytics::day_of(Timestamp t) const {
    const auto local = std::chrono::floor<std::chrono::days>(t + offset_at_(t));
    const std::chrono::year_month_day date{local};
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02u", static_cast<int>(date.year()),
                  static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
    return buffer;
}

Timestamp Analytics::start_of_day(Timestamp t) const {
    const auto midnight = std::chrono::floor<std::chrono::days>(t + offset_at_(t));
    // The offset at midnight may differ from the one at `t` when the clocks changed in between.
    return midnight - offset_at_(midnight - offset_at_(t));
}

std::vector<RevenueRow> Analytics::revenue_by_day(db::Connection& connection, Timestamp from,
                                                  Timestamp to) const {
    // Every UTC offset in use is a whole number of quarter hours, so quarter-hour sums can be
    // given to local days exactly, whatever offset each falls under.
    auto rows = connection.query(
        "SELECT fulfilled_at / ? AS slot, COALESCE(SUM(amount_piasters), 0), COUNT(*) FROM orders "
        "WHERE status = 'fulfilled' AND trial = 0 AND gift_reason IS NULL AND refunded_at IS NULL AND "
        "fulfilled_at >= ? AND fulfilled_at < ? GROUP BY slot "
        "ORDER BY slot",
        kQuarterHour, from, to);
    std::vector<RevenueRow> list;
    while (rows->step()) {
        const auto slot = Timestamp{std::chrono::seconds{rows->get<std::int64_t>(0) * kQuarterHour}};
        std::string day = day_of(slot);
        if (list.empty() || list.back().key != day) list.push_back({std::move(day), Piasters{}, 0});
        list.back().revenue = list.back().revenue + rows->get<Piasters>(1);
        list.back().orders += rows->get<std::int64_t>(2);
    }
    return list;
}

std::vector<RevenueRow> Analytics::revenue_by_method(db::Connection& connection, Timestamp from,
                                                     Timestamp to) const {
    auto rows = connection.query(
        "SELECT COALESCE(m.code, 'unknown'), COALESCE(SUM(o.amount_piasters), 0), COUNT(*) FROM orders o "
        "LEFT JOIN payment_methods m ON m.id = o.payment_method_id "
        "WHERE o.status = 'fulfilled' AND o.trial = 0 AND o.gift_reason IS NULL AND o.refunded_at IS NULL "
        "AND o.fulfilled_at >= ? AND o.fulfilled_at < ? "
        "GROUP BY m.code ORDER BY 2 DESC, 1",
        from, to);
    return read_rows(*rows);
}

std::vector<RevenueRow> Analytics::revenue_by_plan(db::Connection& connection, Timestamp from,
                                                   Timestamp to) const {
    auto rows = connection.query(
        "SELECT p.name, COALESCE(SUM(o.amount_piasters), 0), COUNT(*) FROM orders o JOIN plans p ON p.id = "
        "o.plan_id "
        "WHERE o.status = 'fulfilled' AND o.trial = 0 AND o.gift_reason IS NULL AND o.refunded_at IS NULL "
        "AND o.fulfilled_at >= ? AND o.fulfilled_at < ? "
        "GROUP BY p.name ORDER BY 2 DESC, 1",
        from, to);
    return read_rows(*rows);
}

Summary Analytics::summary(db::Connection& connection, Timestamp from, Timestamp to, Timestamp now) const {
    Summary s;
    {
        auto row = connection.query(
            "SELECT COALESCE(SUM(amount_piasters), 0), COUNT(*), COUNT(DISTINCT user_id), "
            "COALESCE(SUM(discount_piasters), 0) FROM orders "
            "WHERE status = 'fulfilled' AND trial = 0 AND gift_reason IS NULL AND refunded_at IS NULL AND "
            "fulfilled_at >= ? AND fulfilled_at < ?",
            from, to);
        row->step();
        s.revenue = row->get<Piasters>(0);
        s.discounts = row->get<Piasters>(3);
        const auto payers = row->get<std::int64_t>(2);
        s.revenue_per_user = Piasters{payers == 0 ? 0 : s.revenue.value / payers};
    }
    {
        auto row = connection.query(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN status = 'fulfilled' THEN 1 ELSE 0 END), 0) FROM orders "
            "WHERE trial = 0 AND gift_reason IS NULL AND created_at >= ? AND created_at < ?",
            from, to);
        row->step();
        s.orders_created = row->get<std::int64_t>(0);
        s.orders_fulfilled = row->get<std::int64_t>(1);
        s.conversion = s.orders_created == 0
                           ? 0.0
                           : static_cast<double>(s.orders_fulfilled) / static_cast<double>(s.orders_created);
    }
    {
        auto row = connection.query(
            "SELECT COALESCE(SUM(amount_piasters), 0), COUNT(*) FROM orders "
            "WHERE refunded_at >= ? AND refunded_at < ?",
            from, to);
        row->step();
        s.refunds = row->get<Piasters>(0);
        s.orders_refunded = row->get<std::int64_t>(1);
    }
    s.new_users = *connection.scalar<std::int64_t>(
        "SELECT COUNT(*) FROM users WHERE created_at >= ? AND created_at < ?", from, to);
    s.active_accounts = *connection.scalar<std::int64_t>(
        "SELECT COUNT(*) FROM vpn_accounts WHERE status = 'active' AND expires_at > ?", now);
    return s;
}

void Analytics::snapshot_day(db::Connection& connection, Timestamp day, Timestamp now) const {
    const auto from = start_of_day(day);
    const auto to = start_of_day(from + std::chrono::hours(36));  // 23 to 25 hours later
    auto to_object = [](const std::vector<RevenueRow>& rows) {
        nlohmann::json object = nlohmann::json::object();
        for (const auto& row : rows) object[row.key] = row.revenue.value;
        return object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    };
    nlohmann::json by_status = nlohmann::json::object();
    {
        auto rows = connection.query(
            "SELECT status, COUNT(*) FROM orders WHERE created_at >= ? AND created_at < ? GROUP BY status",
            from, to);
        while (rows->step()) by_status[rows->get<std::string>(0)] = rows->get<std::int64_t>(1);
    }
    const auto totals = summary(connection, from, to, std::min(to, now));
    const auto fulfilled = *connection.scalar<std::int64_t>(
        "SELECT COUNT(*) FROM orders WHERE status = 'fulfilled' AND trial = 0 AND gift_reason IS NULL AND "
        "refunded_at IS NULL AND fulfilled_at >= ? AND "
        "fulfilled_at < ?",
        from, to);
    db::in_transaction(connection, [&](db::Connection& c) {
        const auto posted = c.scalar<std::string>(
            "SELECT posted_message_id FROM revenue_snapshots WHERE day = ?", day_of(from));
        c.exec("DELETE FROM revenue_snapshots WHERE day = ?", day_of(from));
        c.exec(
            "INSERT INTO revenue_snapshots (day, revenue_piasters, orders_fulfilled, revenue_by_method, "
            "revenue_by_plan, orders_by_status, new_users, active_accounts, created_at, posted_message_id, "
            "discounts_piasters) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            day_of(from), totals.revenue, fulfilled, to_object(revenue_by_method(c, from, to)),
            to_object(revenue_by_plan(c, from, to)), by_status.dump(), totals.new_users,
            totals.active_accounts, now, posted, totals.discounts);
    });
}

std::optional<DaySnapshot> Analytics::snapshot(db::Connection& connection, const std::string& day) const {
    auto row = connection.query(
        "SELECT revenue_piasters, orders_fulfilled, active_accounts, posted_message_id FROM "
        "revenue_snapshots "
        "WHERE day = ?",
        day);
    if (!row->step()) return std::nullopt;
    return DaySnapshot{Piasters{row->get<std::int64_t>(0)}, row->get<std::int64_t>(1),
                       row->get<std::int64_t>(2), row->get<std::optional<DiscordId>>(3)};
}

void Analytics::mark_posted(db::Connection& connection, const std::string& day, DiscordId message_id) const {
    connection.exec("UPDATE revenue_snapshots SET posted_message_id = ? WHERE day = ?", message_id, day);
}

std::optional<Timestamp> Analytics::first_order_at(db::Connection& connection) const {
    const auto first = connection.scalar<std::int64_t>("SELECT MIN(created_at) FROM orders");
    if (!first) return std::nullopt;
    return Timestamp{std::chrono::seconds{*first}};
}

std::map<std::string, std::int64_t> Analytics::orders_by_status(db::Connection& connection) {
    std::map<std::string, std::int64_t> out;
    auto rows = connection.query("SELECT status, COUNT(*) FROM orders GROUP BY status");
    while (rows->step()) out[rows->get<std::string>(0)] = rows->get<std::int64_t>(1);
    return out;
}

}  // namespace nebula::bot::domain
