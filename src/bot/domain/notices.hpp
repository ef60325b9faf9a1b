#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bot/db/connection.hpp"
#include "bot/domain/types.hpp"

namespace nebula::bot::domain {

enum class NoticeKind {
    account_expired,
    expiry_reminder,
    traffic_alert,
    traffic_exhausted,
    order_expired,
    server_outage,    ///< the customer's server is down (queued when an admin asks for it)
    server_restored,  ///< ... and back: sent to whoever was told of the outage
};

std::string_view to_string(NoticeKind kind);
NoticeKind parse_notice_kind(std::string_view text);

/// A message the bot owes a customer (a row of job_notices), queued by the jobs and the outage
/// button, sent by bot/notify. `key` makes it unique: the same
/// decision queued twice (a re-run after a crash) is one notice.
struct Notice {
    std::string key;
    NoticeKind kind = NoticeKind::account_expired;
    domain::UserId user;
    std::optional<domain::AccountId> account;
    std::optional<domain::OrderId> order;
    int level = 0;  ///< reminder: hours before expiry; traffic: the percentage reached
    int attempts = 0;
};

/// Queues `notice` unless its key is queued already; returns whether it was new. Call inside the
/// transaction of the change that causes it. Throws db::DbError.
bool queue_notice(db::Connection& connection, const Notice& notice, domain::Timestamp now);

/// queue_notice() for many notices at once, in multi-row INSERTs (a handful of statements for
/// 100,000 notices instead of one round trip each on PostgreSQL).
void queue_notices(db::Connection& connection, const std::vector<Notice>& notices, domain::Timestamp now);

/// "(?, ?), (?, ?), …": `rows` copies of `row`, for multi-row statements.
std::string repeat_rows(std::size_t rows, std::string_view row);

/// Rows per multi-row statement: far below SQLite's and PostgreSQL's parameter limits.
inline constexpr std::size_t kRowsPerStatement = 500;

/// Unsent notices, oldest first.
std::vector<Notice> pending_notices(db::Connection& connection, int limit);

/// Claims a notice for `hold` (attempts + 1); false when it was sent or another sender holds it.
bool claim_notice(db::Connection& connection, std::string_view key, domain::Timestamp now,
                  std::chrono::seconds hold);
/// Marks a claimed notice sent, or releases it with the error to be retried.
void finish_notice(db::Connection& connection, std::string_view key, domain::Timestamp now,
                   std::optional<std::string> error);
/// Stops retrying a notice: marked sent, with "gave up: <error>" kept as its last error.
void give_up_notice(db::Connection& connection, std::string_view key, domain::Timestamp now,
                    const std::string& error);

/// Queues the order_expired notice of every order expired since `since` whose notice is not
/// queued yet (also those a crashed run expired without queueing). Returns how many were new.
std::int64_t queue_order_expired_notices(db::Connection& connection, domain::Timestamp now,
                                         domain::Timestamp since);

/// The newest Discord channel of any of the customer's orders, if one was stored.
std::optional<DiscordId> latest_order_channel(db::Connection& connection, domain::UserId user);
/// The private channel made for the customer's notices when their DMs were closed, if any.
std::optional<DiscordId> notice_channel_of(db::Connection& connection, domain::UserId user);
void set_notice_channel(db::Connection& connection, domain::UserId user, DiscordId channel);
/// True when the customer has an active account other than `except`.
bool has_other_active_account(db::Connection& connection, domain::UserId user, domain::AccountId except);

}  // namespace nebula::bot::domain
