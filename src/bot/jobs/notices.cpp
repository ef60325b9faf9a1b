#include "bot/jobs/notices.hpp"

#include <array>
#include <stdexcept>

namespace nebula::bot::jobs {
namespace {

constexpr std::array<std::pair<NoticeKind, std::string_view>, 5> kKinds{{
    {NoticeKind::account_expired, "account_expired"},
    {NoticeKind::expiry_reminder, "expiry_reminder"},
    {NoticeKind::traffic_alert, "traffic_alert"},
    {NoticeKind::traffic_exhausted, "traffic_exhausted"},
    {NoticeKind::order_expired, "order_expired"},
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

NoticeWriter::NoticeWriter(db::Connection& connection)
    : insert_(connection.prepare(
          "INSERT INTO job_notices (notice_key, kind, user_id, account_id, order_id, level, created_at) "
          "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (notice_key) DO NOTHING")) {}

bool NoticeWriter::add(const Notice& notice, domain::Timestamp now) {
    insert_->reset();
    insert_->bind_all(notice.key, to_string(notice.kind), notice.user, notice.account, notice.order,
                      notice.level, now);
    while (insert_->step()) {
    }
    return insert_->changes() == 1;
}

bool queue_notice(db::Connection& connection, const Notice& notice, domain::Timestamp now) {
    return NoticeWriter(connection).add(notice, now);
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

}  // namespace nebula::bot::jobs
