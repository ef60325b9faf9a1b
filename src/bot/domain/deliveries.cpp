#include "bot/domain/deliveries.hpp"

#include <algorithm>
#include <cmath>

namespace nebula::bot::domain {
namespace {

constexpr std::string_view kColumns =
    "order_id, approver, created_at, card_at, channel_at, dm_at, role_at, billing_at, closing_at, "
    "channel_message_id, dm_message_id, outcome, attempts, next_attempt_at, last_error, completed_at";

Delivery read(const db::Statement& row) {
    Delivery d;
    d.order = row.get<OrderId>(0);
    d.approver = row.get<std::optional<DiscordId>>(1);
    d.created_at = row.get<Timestamp>(2);
    d.card_at = row.get<std::optional<Timestamp>>(3);
    d.channel_at = row.get<std::optional<Timestamp>>(4);
    d.dm_at = row.get<std::optional<Timestamp>>(5);
    d.role_at = row.get<std::optional<Timestamp>>(6);
    d.billing_at = row.get<std::optional<Timestamp>>(7);
    d.closing_at = row.get<std::optional<Timestamp>>(8);
    d.channel_message_id = row.get<std::optional<std::string>>(9);
    d.dm_message_id = row.get<std::optional<std::string>>(10);
    d.outcome = row.get<std::optional<std::string>>(11);
    d.attempts = row.get<int>(12);
    d.next_attempt_at = row.get<Timestamp>(13);
    d.last_error = row.get<std::optional<std::string>>(14);
    d.completed_at = row.get<std::optional<Timestamp>>(15);
    return d;
}

std::string_view column(DeliveryPart part) {
    switch (part) {
        case DeliveryPart::card:
            return "card_at";
        case DeliveryPart::channel:
            return "channel_at";
        case DeliveryPart::dm:
            return "dm_at";
        case DeliveryPart::role:
            return "role_at";
        case DeliveryPart::billing:
            return "billing_at";
        case DeliveryPart::closing:
            return "closing_at";
    }
    return "card_at";
}

}  // namespace

std::string_view to_string(DeliveryPart part) {
    switch (part) {
        case DeliveryPart::card:
            return "card";
        case DeliveryPart::channel:
            return "channel";
        case DeliveryPart::dm:
            return "dm";
        case DeliveryPart::role:
            return "role";
        case DeliveryPart::billing:
            return "billing";
        case DeliveryPart::closing:
            return "closing";
    }
    return "unknown";
}

bool Delivery::done(DeliveryPart part) const {
    switch (part) {
        case DeliveryPart::card:
            return card_at.has_value();
        case DeliveryPart::channel:
            return channel_at.has_value();
        case DeliveryPart::dm:
            return dm_at.has_value();
        case DeliveryPart::role:
            return role_at.has_value();
        case DeliveryPart::billing:
            return billing_at.has_value();
        case DeliveryPart::closing:
            return closing_at.has_value();
    }
    return false;
}

namespace deliveries {

void record(db::Connection& connection, OrderId order, const std::optional<DiscordId>& approver,
            Timestamp now) {
    connection.exec(
        "INSERT INTO order_deliveries (order_id, approver, created_at, next_attempt_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (order_id) DO NOTHING",
        order, approver, now, now);
}

std::optional<Delivery> get(db::Connection& connection, OrderId order) {
    auto rows = connection.query(
        "SELECT " + std::string(kColumns) + " FROM order_deliveries WHERE order_id = ?", order);
    if (!rows->step()) return std::nullopt;
    return read(*rows);
}

std::vector<Delivery> due(db::Connection& connection, Timestamp now, int limit) {
    auto rows =
        connection.query("SELECT " + std::string(kColumns) +
                             " FROM order_deliveries WHERE completed_at IS NULL AND next_attempt_at <= ? "
                             "ORDER BY next_attempt_at, order_id LIMIT ?",
                         now, limit);
    std::vector<Delivery> out;
    while (rows->step()) out.push_back(read(*rows));
    return out;
}

void mark_done(db::Connection& connection, OrderId order, DeliveryPart part, Timestamp now,
               std::optional<std::string> detail) {
    const std::string stamp = std::string(column(part));
    if (part == DeliveryPart::channel || part == DeliveryPart::dm) {
        const std::string id_column = part == DeliveryPart::channel ? "channel_message_id" : "dm_message_id";
        connection.exec("UPDATE order_deliveries SET " + stamp + " = COALESCE(" + stamp + ", ?), " +
                            id_column + " = COALESCE(" + id_column + ", ?) WHERE order_id = ?",
                        now, detail.value_or(""), order);
        return;
    }
    connection.exec(
        "UPDATE order_deliveries SET " + stamp + " = COALESCE(" + stamp + ", ?) WHERE order_id = ?", now,
        order);
}

void set_outcome(db::Connection& connection, OrderId order, const std::string& outcome) {
    connection.exec("UPDATE order_deliveries SET outcome = ? WHERE order_id = ?", outcome, order);
}

bool complete_if_done(db::Connection& connection, OrderId order, Timestamp now) {
    connection.exec(
        "UPDATE order_deliveries SET completed_at = ?, last_error = NULL WHERE order_id = ? AND "
        "completed_at IS NULL AND card_at IS NOT NULL AND channel_at IS NOT NULL AND dm_at IS NOT NULL AND "
        "role_at IS NOT NULL AND billing_at IS NOT NULL AND closing_at IS NOT NULL",
        now, order);
    return connection
               .scalar<std::int64_t>(
                   "SELECT COUNT(*) FROM order_deliveries WHERE order_id = ? AND completed_at IS NOT NULL",
                   order)
               .value_or(0) > 0;
}

void record_failure(db::Connection& connection, OrderId order, const std::string& error, Timestamp now,
                    std::chrono::seconds delay) {
    connection.exec(
        "UPDATE order_deliveries SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? "
        "WHERE order_id = ? AND completed_at IS NULL",
        error, now + delay, order);
}

std::chrono::seconds backoff(int attempts, double random, std::chrono::seconds base,
                             std::chrono::seconds cap) {
    const int doublings = std::clamp(attempts - 1, 0, 20);
    const auto full = std::min<std::int64_t>(cap.count(), base.count() << std::min(doublings, 20));
    const double jitter = 0.5 + 0.5 * std::clamp(random, 0.0, 1.0);
    return std::chrono::seconds(std::max<std::int64_t>(1, std::llround(static_cast<double>(full) * jitter)));
}

}  // namespace deliveries
}  // namespace nebula::bot::domain
