#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bot/db/connection.hpp"
#include "bot/domain/types.hpp"

namespace nebula::bot::domain {

/// What an approved customer must still receive for one fulfilled order (the order_deliveries
/// outbox). Recorded in the transaction that marks the order fulfilled; each part is stamped once
/// Discord confirmed it; the delivery is complete when every part is.
enum class DeliveryPart { card, channel, dm, role, billing, closing };

std::string_view to_string(DeliveryPart part);

struct Delivery {
    OrderId order;
    std::optional<DiscordId> approver;  ///< the admin who approved; none for the automatic retry
    Timestamp created_at;
    std::optional<Timestamp> card_at;
    std::optional<Timestamp> channel_at;
    std::optional<Timestamp> dm_at;
    std::optional<Timestamp> role_at;
    std::optional<Timestamp> billing_at;
    std::optional<Timestamp> closing_at;
    std::optional<std::string> channel_message_id;  ///< empty when there was no channel to post in
    std::optional<std::string> dm_message_id;       ///< empty when the customer's DMs are closed
    std::optional<std::string> outcome;             ///< "customer_left", "unreachable"
    int attempts = 0;
    Timestamp next_attempt_at;
    std::optional<std::string> last_error;
    std::optional<Timestamp> completed_at;

    bool done(DeliveryPart part) const;
    bool complete() const { return completed_at.has_value(); }
};

namespace deliveries {

/// Records the pending delivery of a fulfilled order (inside the fulfilling transaction); a
/// second call for the same order changes nothing.
void record(db::Connection& connection, OrderId order, const std::optional<DiscordId>& approver,
            Timestamp now);
std::optional<Delivery> get(db::Connection& connection, OrderId order);
/// Deliveries not complete whose next attempt is due at `now`, oldest first.
std::vector<Delivery> due(db::Connection& connection, Timestamp now, int limit = 500);
/// Stamps one part as confirmed (the first stamp stays); `detail` is a message id or the
/// outcome of a part that needed nothing ("" when there was nothing to send).
void mark_done(db::Connection& connection, OrderId order, DeliveryPart part, Timestamp now,
               std::optional<std::string> detail = std::nullopt);
void set_outcome(db::Connection& connection, OrderId order, const std::string& outcome);
/// Completes the delivery when every part is stamped; true if it is complete now.
bool complete_if_done(db::Connection& connection, OrderId order, Timestamp now);
/// Counts a failed attempt and schedules the next one `delay` from `now`.
void record_failure(db::Connection& connection, OrderId order, const std::string& error, Timestamp now,
                    std::chrono::seconds delay);

/// The wait before retry number `attempts` (1 = the first retry): doubling from `base`, capped at
/// `cap`, with full jitter in its upper half from `random` (0..1), so that many deliveries failing
/// together (a Discord outage) do not all come back at once.
std::chrono::seconds backoff(int attempts, double random,
                             std::chrono::seconds base = std::chrono::seconds(15),
                             std::chrono::seconds cap = std::chrono::minutes(10));

}  // namespace deliveries
}  // namespace nebula::bot::domain
