#include "bot/domain/manual_orders.hpp"

#include <cctype>

#include "bot/domain/audit.hpp"
#include "bot/domain/load_balancer.hpp"
#include "common/crypto.hpp"

namespace nebula::bot::domain {
namespace {

constexpr std::size_t kSubIdLength = 16;
constexpr int kMaxDays = 3650;

std::string trimmed(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
    return std::string(text);
}

std::size_t code_points(std::string_view text) {
    std::size_t count = 0;
    for (char c : text) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
    return count;
}

std::optional<Error> check_reason(const std::string& reason, std::size_t max) {
    if (reason.empty()) return Error{ErrorCode::validation, "give a reason (it is kept in the audit log)"};
    if (code_points(reason) > max)
        return Error{ErrorCode::validation, "the reason is at most " + std::to_string(max) + " characters"};
    return std::nullopt;
}

}  // namespace

namespace gifts {

Outcome<Order> create(db::Connection& connection, OrderService& orders, const DiscordId& admin,
                      const GiftRequest& request, Timestamp now) {
    const std::string reason = trimmed(request.reason);
    if (auto bad = check_reason(reason, kMaxReasonLength)) return common::unexpected(*bad);
    if (request.days && (*request.days < 1 || *request.days > kMaxDays))
        return fail(ErrorCode::validation, "days must be 1 to " + std::to_string(kMaxDays));
    const auto open_order_error = [&](db::Connection& c) {
        const auto open = orders.open_order(c, request.user);
        return Error{ErrorCode::conflict, "the customer has an open order " +
                                              (open ? open->reference : std::string("(just placed)")) +
                                              "; approve, decline or cancel it first"};
    };
    try {
        return db::in_transaction(connection, [&](db::Connection& c) -> Outcome<Order> {
            auto status = c.scalar<std::string>("SELECT status FROM users WHERE id = ?", request.user);
            if (!status) return fail(ErrorCode::not_found, "that member has never used the bot");
            if (parse_user_status(*status) == UserStatus::banned)
                return fail(ErrorCode::forbidden, "the customer is banned; unban them first");
            auto plan = c.query("SELECT duration_days, traffic_bytes FROM plans WHERE id = ?", request.plan);
            if (!plan->step()) return fail(ErrorCode::not_found, "no such plan");
            const int days = request.days.value_or(plan->get<int>(0));
            const auto traffic = plan->get<std::int64_t>(1);
            if (orders.open_order(c, request.user)) return common::unexpected(open_order_error(c));
            ServerId server{};
            if (request.server) {
                auto enabled = c.scalar<bool>("SELECT enabled FROM servers WHERE id = ?", *request.server);
                if (!enabled) return fail(ErrorCode::not_found, "no such server");
                if (!*enabled) return fail(ErrorCode::validation, "that server is disabled");
                server = *request.server;
            } else {
                // The same placement lock and rules as a paid approval.
                auto picked = pick_server(c);
                if (!picked) return common::unexpected(picked.error());
                server = *picked;
            }
            const auto id = *c.scalar<OrderId>(
                "INSERT INTO orders (user_id, plan_id, kind, status, amount_piasters, trial, gift_reason, "
                "reviewer_id, server_id, client_uuid, sub_id, target_expires_at, target_traffic_bytes, "
                "created_at, updated_at, approved_at, channel_ready_at) "
                "VALUES (?, ?, 'new', 'approved', 0, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                request.user, request.plan, reason, admin, server, common::uuid_v4(),
                common::random_alnum(kSubIdLength), now + std::chrono::days(days), traffic, now, now, now,
                now);
            c.exec("UPDATE orders SET reference = ?, client_email = ? WHERE id = ?", order_reference(id),
                   client_email_for(id), id);
            auto created = *orders.get(c, id);
            record_audit(c,
                         {admin.str(), "order.gifted", "order", std::to_string(id.value), std::nullopt,
                          to_json(created)},
                         now);
            return created;
        });
    } catch (const db::DbError& error) {
        // An order placed by the customer at the same moment: the one-open-order index refused.
        if (error.code() != db::DbErrorCode::unique_violation) throw;
        return common::unexpected(open_order_error(connection));
    }
}

}  // namespace gifts

namespace refunds {

Outcome<Order> refund(db::Connection& connection, OrderService& orders, const DiscordId& admin, OrderId id,
                      std::string_view reason_text, Timestamp now) {
    const std::string reason = trimmed(reason_text);
    if (auto bad = check_reason(reason, kMaxReasonLength)) return common::unexpected(*bad);
    return db::in_transaction(connection, [&](db::Connection& c) -> Outcome<Order> {
        auto before = orders.get(c, id);
        if (!before) return fail(ErrorCode::not_found, "no such order");
        if (before->refunded_at) {
            return fail(ErrorCode::conflict, "order " + before->reference + " was already refunded (" +
                                                 before->refund_reason.value_or("") + ")");
        }
        if (before->status != OrderStatus::fulfilled) {
            return fail(ErrorCode::invalid_transition, "order " + before->reference + " is " +
                                                           std::string(to_string(before->status)) +
                                                           ": only a fulfilled order can be refunded");
        }
        if (before->amount.value == 0)
            return fail(ErrorCode::validation,
                        "nothing was paid for order " + before->reference + " (a free trial or a gift)");
        const auto changed = c.exec(
            "UPDATE orders SET refunded_at = ?, refunded_by = ?, refund_reason = ?, updated_at = ? "
            "WHERE id = ? AND status = 'fulfilled' AND refunded_at IS NULL",
            now, admin, reason, now, id);
        if (changed != 1)
            return fail(ErrorCode::conflict, "order " + before->reference + " changed meanwhile");
        auto after = *orders.get(c, id);
        record_audit(c,
                     {admin.str(), "order.refunded", "order", std::to_string(id.value), to_json(*before),
                      to_json(after)},
                     now);
        return after;
    });
}

}  // namespace refunds
}  // namespace nebula::bot::domain
