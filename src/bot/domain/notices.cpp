#include "bot/domain/notices.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

namespace nebula::bot::domain {
namespace {

constexpr std::array<std::pair<NoticeKind, std::string_view>, 7> kKinds{{
    {NoticeKind::account_expired, "account_expired"},
    {NoticeKind::expiry_reminder, "expiry_reminder"},
    {NoticeKind::traffic_alert, "traffic_alert"},
    {NoticeKind::traffic_exhausted, "traffic_exhausted"},
    {NoticeKind::order_expired, "order_expired"},
    {NoticeKind::server_outage, "server_outage"},
    {NoticeKind::server_restored, "server_restored"},
}};

}  // namespace

std::string_view to_string(NoticeKind kind) {
    for (const auto& [k, name] : kKinds) {
        if (k == kind) return name;
    }
    return "unknown";
}

NoticeKind parse_notice_kind(std::string_view text) {
    for (const auto& [k, name] : kKinds) {
        if (name == text) return k;
    }
    throw std::invalid_argument("unknown notice kind " + std::string(text));
}

bool queue_notice(db::Connection& connection, const Notice& notice, domain::Timestamp now) {
    return connection.exec(
               "INSERT INTO job_notices (notice_key, kind, user_id, account_id, order_id, level, created_at) "
               "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (notice_key) DO NOTHING",
               notice.key, to_string(notice.kind), notice.user, notice.account, notice.order, notice.level,
               now) == 1;
}

std::string repeat_rows(std::size_t rows, std::string_view row) {
    std::string out;
    out.reserve(rows * (row.size() + 2));
    for (std::size_t i = 0; i < rows; ++i) {
        if (i > 0) out += ", ";
        out += row;
    }
    return out;
}

void queue_notices(db::Connection& connection, const std::vector<Notice>& notices, domain::Timestamp now) {
    for (std::size_t start = 0; start < notices.size(); start += kRowsPerStatement) {
        const auto end = std::min(notices.size(), start + kRowsPerStatement);
        auto insert = connection.prepare(
            "INSERT INTO job_notices (notice_key, kind, user_id, account_id, order_id, level, created_at) "
            "VALUES " +
            repeat_rows(end - start, "(?, ?, ?, ?, ?, ?, ?)") + " ON CONFLICT (notice_key) DO NOTHING");
        int index = 0;
        for (auto i = start; i < end; ++i) {
            const auto& n = notices[i];
            insert->bind(++index, n.key);
            insert->bind(++index, to_string(n.kind));
            insert->bind(++index, n.user);
            insert->bind(++index, n.account);
            insert->bind(++index, n.order);
            insert->bind(++index, n.level);
            insert->bind(++index, now);
        }
        while (insert->step()) {
        }
    }
}

std::vector<Notice> pending_notices(db::Connection& connection, int limit) {
    auto rows = connection.query(
        "SELECT notice_key, kind, user_id, account_id, order_id, level, attempts FROM job_notices "
        "WHERE sent_at IS NULL ORDER BY created_at, notice_key LIMIT ?",
        limit);
    std::vector<Notice> out;
    while (rows->step()) {
        out.push_back({rows->get<std::string>(0), parse_notice_kind(rows->get<std::string>(1)),
                       rows->get<domain::UserId>(2), rows->get<std::optional<domain::AccountId>>(3),
                       rows->get<std::optional<domain::OrderId>>(4), rows->get<int>(5), rows->get<int>(6)});
    }
    return out;
}

bool claim_notice(db::Connection& connection, std::string_view key, domain::Timestamp now,
                  std::chrono::seconds hold) {
    return connection.exec(
               "UPDATE job_notices SET claimed_until = ?, attempts = attempts + 1 "
               "WHERE notice_key = ? AND sent_at IS NULL AND (claimed_until IS NULL OR claimed_until <= ?)",
               now + hold, key, now) == 1;
}

void finish_notice(db::Connection& connection, std::string_view key, domain::Timestamp now,
                   std::optional<std::string> error) {
    if (error) {
        connection.exec("UPDATE job_notices SET claimed_until = NULL, last_error = ? WHERE notice_key = ?",
                        *error, key);
    } else {
        connection.exec(
            "UPDATE job_notices SET claimed_until = NULL, last_error = NULL, sent_at = ? WHERE notice_key = "
            "?",
            now, key);
    }
}

void give_up_notice(db::Connection& connection, std::string_view key, domain::Timestamp now,
                    const std::string& error) {
    connection.exec(
        "UPDATE job_notices SET claimed_until = NULL, last_error = ?, sent_at = ? WHERE notice_key = ?",
        "gave up: " + error, now, key);
}

std::int64_t queue_order_expired_notices(db::Connection& connection, domain::Timestamp now,
                                         domain::Timestamp since) {
    return connection.exec(
        "INSERT INTO job_notices (notice_key, kind, user_id, order_id, level, created_at) "
        "SELECT 'order_expired:' || id, 'order_expired', user_id, id, 0, ? FROM orders "
        "WHERE status = 'expired' AND expired_at >= ? ON CONFLICT (notice_key) DO NOTHING",
        now, since);
}

std::optional<DiscordId> latest_order_channel(db::Connection& connection, domain::UserId user) {
    return connection.scalar<DiscordId>(
        "SELECT channel_id FROM orders WHERE user_id = ? AND channel_id IS NOT NULL ORDER BY id DESC LIMIT 1",
        user);
}

std::optional<DiscordId> notice_channel_of(db::Connection& connection, domain::UserId user) {
    return connection.scalar<DiscordId>("SELECT notice_channel_id FROM users WHERE id = ?", user);
}

void set_notice_channel(db::Connection& connection, domain::UserId user, DiscordId channel) {
    connection.exec("UPDATE users SET notice_channel_id = ? WHERE id = ?", channel, user);
}

bool has_other_active_account(db::Connection& connection, domain::UserId user, domain::AccountId except) {
    return connection
               .scalar<std::int64_t>(
                   "SELECT COUNT(*) FROM vpn_accounts WHERE user_id = ? AND status = 'active' AND id <> ?",
                   user, except)
               .value_or(0) > 0;
}

}  // namespace nebula::bot::domain
