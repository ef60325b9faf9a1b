#include "bot/domain/order_channels.hpp"

namespace nebula::bot::domain::order_channels {
namespace {

ChannelClose read_close(db::Statement& row) {
    return ChannelClose{row.get<DiscordId>(0), row.get<DiscordId>(1), row.get<Timestamp>(2),
                        row.get<Timestamp>(3), row.get<int>(4) != 0};
}

constexpr std::string_view kCloseColumns = "channel_id, customer_id, archive_at, delete_at, archived";

}  // namespace

void schedule_close(db::Connection& connection, const ChannelClose& close, Timestamp now) {
    connection.exec(
        "INSERT INTO order_channels (channel_id, customer_id, archive_at, delete_at, archived, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (channel_id) DO UPDATE SET customer_id = "
        "excluded.customer_id, "
        "archive_at = excluded.archive_at, delete_at = excluded.delete_at, archived = excluded.archived, "
        "updated_at = excluded.updated_at",
        close.channel, close.customer, close.archive_at, close.delete_at, close.archived ? 1 : 0, now);
}

std::optional<ChannelClose> close_of(db::Connection& connection, DiscordId channel) {
    auto row = connection.query(
        "SELECT " + std::string(kCloseColumns) + " FROM order_channels WHERE channel_id = ?", channel);
    if (!row->step()) return std::nullopt;
    return read_close(*row);
}

std::vector<ChannelClose> scheduled_closes(db::Connection& connection) {
    auto rows =
        connection.query("SELECT " + std::string(kCloseColumns) + " FROM order_channels ORDER BY channel_id");
    std::vector<ChannelClose> out;
    while (rows->step()) out.push_back(read_close(*rows));
    return out;
}

void mark_archived(db::Connection& connection, DiscordId channel, Timestamp now) {
    connection.exec("UPDATE order_channels SET archived = 1, updated_at = ? WHERE channel_id = ?", now,
                    channel);
}

void forget(db::Connection& connection, DiscordId channel) {
    connection.exec("DELETE FROM order_channels WHERE channel_id = ?", channel);
}

std::optional<OrderId> order_for_channel(db::Connection& connection, DiscordId channel) {
    const auto id = connection.scalar<std::int64_t>(
        "SELECT id FROM orders WHERE channel_id = ? ORDER BY id DESC LIMIT 1", channel);
    if (!id) return std::nullopt;
    return OrderId{*id};
}

bool mark_payment_hint(db::Connection& connection, OrderId order, Timestamp now) {
    return connection.exec("UPDATE orders SET payment_hint_at = ? WHERE id = ? AND payment_hint_at IS NULL",
                           now, order) == 1;
}

}  // namespace nebula::bot::domain::order_channels
