#include "bot/domain/orders.hpp"

#include <fstream>
#include <system_error>

#include "bot/domain/audit.hpp"
#include "bot/domain/promos.hpp"
#include "common/crypto.hpp"

namespace nebula::bot::domain {
namespace {

constexpr std::string_view kSelect =
    "SELECT id, reference, user_id, plan_id, kind, account_id, status, amount_piasters, payment_method_id, "
    "channel_id, review_message_id, claimed_by, claimed_at, reviewer_id, decline_reason, allow_reupload, "
    "server_id, client_email, client_uuid, sub_id, target_expires_at, target_traffic_bytes, "
    "provision_attempts, "
    "last_error, created_at, submitted_at, approved_at, fulfilled_at, declined_at, cancelled_at, expired_at, "
    "channel_ready_at, channel_attempt_at, review_reminded_at, trial, promo_code_id, list_price_piasters, "
    "discount_piasters, gift_reason, refunded_at, refunded_by, refund_reason, location "
    "FROM orders ";

constexpr std::string_view kReceiptSelect =
    "SELECT id, order_id, file_path, sha256, size_bytes, content_type, attachment_id, reused_from_order_id, "
    "uploaded_at FROM receipts ";

std::vector<Order> read_orders(db::Statement& rows) {
    std::vector<Order> orders;
    while (rows.step()) {
        Order o;
        int i = 0;
        o.id = rows.get<OrderId>(i++);
        o.reference = rows.get<std::optional<std::string>>(i++).value_or("");
        o.user_id = rows.get<UserId>(i++);
        o.plan_id = rows.get<PlanId>(i++);
        o.kind = parse_order_kind(rows.get<std::string>(i++));
        o.account_id = rows.get<std::optional<AccountId>>(i++);
        o.status = parse_order_status(rows.get<std::string>(i++));
        o.amount = rows.get<Piasters>(i++);
        o.payment_method_id = rows.get<std::optional<PaymentMethodId>>(i++);
        o.channel_id = rows.get<std::optional<DiscordId>>(i++);
        o.review_message_id = rows.get<std::optional<DiscordId>>(i++);
        o.claimed_by = rows.get<std::optional<DiscordId>>(i++);
        o.claimed_at = rows.get<std::optional<Timestamp>>(i++);
        o.reviewer_id = rows.get<std::optional<DiscordId>>(i++);
        o.decline_reason = rows.get<std::optional<std::string>>(i++);
        o.allow_reupload = rows.get<bool>(i++);
        o.server_id = rows.get<std::optional<ServerId>>(i++);
        o.client_email = rows.get<std::optional<std::string>>(i++);
        o.client_uuid = rows.get<std::optional<std::string>>(i++);
        o.sub_id = rows.get<std::optional<std::string>>(i++);
        o.target_expires_at = rows.get<std::optional<Timestamp>>(i++);
        o.target_traffic_bytes = rows.get<std::optional<std::int64_t>>(i++);
        o.provision_attempts = rows.get<int>(i++);
        o.last_error = rows.get<std::optional<std::string>>(i++);
        o.created_at = rows.get<Timestamp>(i++);
        o.submitted_at = rows.get<std::optional<Timestamp>>(i++);
        o.approved_at = rows.get<std::optional<Timestamp>>(i++);
        o.fulfilled_at = rows.get<std::optional<Timestamp>>(i++);
        o.declined_at = rows.get<std::optional<Timestamp>>(i++);
        o.cancelled_at = rows.get<std::optional<Timestamp>>(i++);
        o.expired_at = rows.get<std::optional<Timestamp>>(i++);
        o.channel_ready_at = rows.get<std::optional<Timestamp>>(i++);
        o.channel_attempt_at = rows.get<std::optional<Timestamp>>(i++);
        o.review_reminded_at = rows.get<std::optional<Timestamp>>(i++);
        o.trial = rows.get<bool>(i++);
        o.promo_code_id = rows.get<std::optional<std::int64_t>>(i++);
        o.list_price = rows.get<std::optional<Piasters>>(i++);
        o.discount = rows.get<Piasters>(i++);
        o.gift_reason = rows.get<std::optional<std::string>>(i++);
        o.refunded_at = rows.get<std::optional<Timestamp>>(i++);
        o.refunded_by = rows.get<std::optional<DiscordId>>(i++);
        o.refund_reason = rows.get<std::optional<std::string>>(i++);
        o.location = rows.get<std::optional<std::string>>(i++);
        orders.push_back(std::move(o));
    }
    return orders;
}

std::vector<Receipt> read_receipts(db::Statement& rows) {
    std::vector<Receipt> receipts;
    while (rows.step()) {
        Receipt r;
        r.id = rows.get<ReceiptId>(0);
        r.order_id = rows.get<OrderId>(1);
        r.file_path = rows.get<std::string>(2);
        r.sha256 = rows.get<std::string>(3);
        r.size_bytes = rows.get<std::int64_t>(4);
        r.content_type = rows.get<std::string>(5);
        r.attachment_id = rows.get<std::optional<DiscordId>>(6);
        r.reused_from_order_id = rows.get<std::optional<OrderId>>(7);
        r.uploaded_at = rows.get<Timestamp>(8);
        receipts.push_back(std::move(r));
    }
    return receipts;
}

template <typename T>
nlohmann::json opt(const std::optional<T>& value) {
    if (!value) return nullptr;
    if constexpr (requires { value->value; }) {
        return value->value;
    } else if constexpr (requires { value->time_since_epoch(); }) {
        return epoch_seconds(*value);
    } else if constexpr (std::is_same_v<T, DiscordId>) {
        return value->str();
    } else {
        return *value;
    }
}

std::string describe(const Order& order) {
    return "order " + order.reference + " is " + std::string(to_string(order.status));
}

// The claim condition shared by claim, decline and approve: unclaimed, claimed by this admin,
// or claimed so long ago that the claim has lapsed.
constexpr std::string_view kClaimFree = "(claimed_by IS NULL OR claimed_by = ? OR claimed_at < ?)";

bool held_by_other(const Order& order, const DiscordId& admin, Timestamp lapse_before) {
    return order.claimed_by && *order.claimed_by != admin && order.claimed_at &&
           *order.claimed_at >= lapse_before;
}

}  // namespace

nlohmann::json to_json(const Order& o) {
    return {{"id", o.id.value},
            {"reference", o.reference},
            {"user_id", o.user_id.value},
            {"plan_id", o.plan_id.value},
            {"kind", to_string(o.kind)},
            {"account_id", opt(o.account_id)},
            {"status", to_string(o.status)},
            {"amount_piasters", o.amount.value},
            {"payment_method_id", opt(o.payment_method_id)},
            {"claimed_by", opt(o.claimed_by)},
            {"reviewer_id", opt(o.reviewer_id)},
            {"decline_reason", opt(o.decline_reason)},
            {"allow_reupload", o.allow_reupload},
            {"server_id", opt(o.server_id)},
            {"client_email", opt(o.client_email)},
            {"target_expires_at", opt(o.target_expires_at)},
            {"target_traffic_bytes", opt(o.target_traffic_bytes)},
            {"provision_attempts", o.provision_attempts},
            {"last_error", opt(o.last_error)},
            {"trial", o.trial},
            {"promo_code_id", opt(o.promo_code_id)},
            {"list_price_piasters", o.list_price ? nlohmann::json(o.list_price->value) : nlohmann::json()},
            {"discount_piasters", o.discount.value},
            {"gift_reason", opt(o.gift_reason)},
            {"refunded_at", opt(o.refunded_at)},
            {"refunded_by", opt(o.refunded_by)},
            {"refund_reason", opt(o.refund_reason)},
            {"location", opt(o.location)}};
}

Outcome<PlacedOrder> OrderService::place(db::Connection& connection, UserId user, PlanId plan,
                                         std::optional<std::string> location) {
    return place_order(connection, user, plan, OrderKind::new_access, std::nullopt, std::move(location));
}

Outcome<PlacedOrder> OrderService::place_renewal(db::Connection& connection, UserId user, PlanId plan,
                                                 AccountId account) {
    return place_order(connection, user, plan, OrderKind::renewal, account);
}

Outcome<PlacedOrder> OrderService::place_order(db::Connection& connection, UserId user, PlanId plan,
                                               OrderKind kind, std::optional<AccountId> account,
                                               std::optional<std::string> location) {
    try {
        return db::in_transaction(connection, [&](db::Connection& c) -> Outcome<PlacedOrder> {
            auto status = c.scalar<std::string>("SELECT status FROM users WHERE id = ?", user);
            if (!status) return fail(ErrorCode::not_found, "no such user");
            if (parse_user_status(*status) == UserStatus::banned) {
                return fail(ErrorCode::forbidden, "this account is banned from ordering");
            }
            auto price =
                c.scalar<Piasters>("SELECT price_piasters FROM plans WHERE id = ? AND active = 1", plan);
            if (!price) return fail(ErrorCode::not_found, "that plan is not available");
            if (account) {
                auto owner = c.query("SELECT user_id, status FROM vpn_accounts WHERE id = ?", *account);
                if (!owner->step()) return fail(ErrorCode::not_found, "no such account");
                if (owner->get<UserId>(0) != user)
                    return fail(ErrorCode::forbidden, "that account belongs to someone else");
                if (parse_account_status(owner->get<std::string>(1)) == AccountStatus::deleted) {
                    return fail(ErrorCode::validation, "a deleted account cannot be renewed");
                }
            }
            if (location &&
                !c.scalar<std::int64_t>("SELECT id FROM servers WHERE location = ? LIMIT 1", *location)) {
                return fail(ErrorCode::validation, "no server is in that location");
            }
            if (auto open = open_order(c, user)) return PlacedOrder{std::move(*open), true};
            const auto now = to_timestamp(clock_.now());
            const auto id = *c.scalar<OrderId>(
                "INSERT INTO orders (user_id, plan_id, kind, account_id, status, amount_piasters, "
                "created_at, updated_at, channel_attempt_at, location) VALUES (?, ?, ?, ?, "
                "'awaiting_payment', ?, ?, ?, ?, ?) RETURNING id",
                user, plan, kind, account, *price, now, now, now, location);
            c.exec("UPDATE orders SET reference = ? WHERE id = ?", order_reference(id), id);
            auto created = *get(c, id);
            record_audit(c,
                         {"user:" + std::to_string(user.value), "order.created", "order",
                          std::to_string(id.value), std::nullopt, to_json(created)},
                         now);
            return PlacedOrder{std::move(created), false};
        });
    } catch (const db::DbError& error) {
        // Two Buy clicks at once: the one-open-order index refused the second insert.
        if (error.code() != db::DbErrorCode::unique_violation) throw;
        if (auto open = open_order(connection, user)) return PlacedOrder{std::move(*open), true};
        throw;
    }
}

Outcome<Order> OrderService::refuse(db::Connection& connection, OrderId id, OrderStatus wanted) {
    auto order = get(connection, id);
    if (!order) return fail(ErrorCode::not_found, "no such order");
    return fail(ErrorCode::invalid_transition,
                describe(*order) + "; it cannot become " + std::string(to_string(wanted)));
}

Outcome<Order> OrderService::choose_payment_method(db::Connection& connection, OrderId id, UserId user,
                                                   PaymentMethodId method) {
    return db::in_transaction(connection, [&](db::Connection& c) -> Outcome<Order> {
        auto before = get(c, id);
        if (!before) return fail(ErrorCode::not_found, "no such order");
        if (before->user_id != user) return fail(ErrorCode::forbidden, "that order belongs to someone else");
        if (before->status != OrderStatus::awaiting_payment) {
            return fail(ErrorCode::invalid_transition,
                        describe(*before) + "; the payment method can no longer change");
        }
        if (!c.scalar<std::int64_t>(
                "SELECT id FROM payment_methods WHERE id = ? AND enabled = 1 AND account <> ''", method)) {
            return fail(ErrorCode::validation, "that payment method is not available");
        }
        const auto now = to_timestamp(clock_.now());
        if (c.exec("UPDATE orders SET payment_method_id = ?, updated_at = ? WHERE id = ? AND status = "
                   "'awaiting_payment'",
                   method, now, id) == 0) {
            return fail(ErrorCode::conflict, "the order changed meanwhile; try again");
        }
        auto after = *get(c, id);
        record_audit(c,
                     {"user:" + std::to_string(user.value), "order.payment_method", "order",
                      std::to_string(id.value), to_json(*before), to_json(after)},
                     now);
        return after;
    });
}

Outcome<Order> OrderService::set_channel(db::Connection& connection, OrderId id, DiscordId channel_id) {
    if (connection.exec("UPDATE orders SET channel_id = ?, updated_at = ? WHERE id = ?", channel_id,
                        to_timestamp(clock_.now()), id) == 0) {
        return fail(ErrorCode::not_found, "no such order");
    }
    return *get(connection, id);
}

Outcome<Order> OrderService::set_review_message(db::Connection& connection, OrderId id,
                                                DiscordId message_id) {
    if (connection.exec("UPDATE orders SET review_message_id = ?, updated_at = ? WHERE id = ?", message_id,
                        to_timestamp(clock_.now()), id) == 0) {
        return fail(ErrorCode::not_found, "no such order");
    }
    return *get(connection, id);
}

Outcome<SubmittedReceipt> OrderService::submit_receipt(db::Connection& connection, OrderId id, UserId user,
                                                       const ReceiptUpload& upload) {
    if (!is_receipt_type(upload.content_type))
        return fail(ErrorCode::validation, "send the receipt as a PNG, JPEG, WebP image or a PDF");
    if (upload.bytes.empty()) return fail(ErrorCode::validation, "the receipt file is empty");
    // A PDF is kept and shown to admins as it is: it must be one.
    if (upload.content_type == "application/pdf" && !receipt_bytes_match(upload.bytes, upload.content_type))
        return fail(ErrorCode::validation, "the receipt file is not a PDF");
    if (upload.bytes.size() > options_.receipts.max_bytes) {
        return fail(ErrorCode::validation, "the receipt file is larger than " +
                                               std::to_string(options_.receipts.max_bytes / (1024 * 1024)) +
                                               " MB");
    }
    {
        // Refuse early, before anything is written to disk.
        auto order = get(connection, id);
        if (!order) return fail(ErrorCode::not_found, "no such order");
        if (order->user_id != user) return fail(ErrorCode::forbidden, "that order belongs to someone else");
        const bool may_upload = order->status == OrderStatus::awaiting_payment ||
                                (order->status == OrderStatus::declined && order->allow_reupload);
        if (!may_upload)
            return fail(ErrorCode::invalid_transition, describe(*order) + "; it takes no receipt now");
    }

    const std::string sha256 = common::sha256_hex(upload.bytes);
    const auto directory = options_.data_directory / "receipts" / std::to_string(id.value);
    const auto path = directory / (sha256 + "." + std::string(receipt_extension(upload.content_type)));
    std::error_code error;
    std::filesystem::create_directories(directory, error);
    if (error) throw std::runtime_error("cannot create " + directory.string() + ": " + error.message());
    if (!std::filesystem::exists(path)) {
        // Write then rename, so a crash never leaves a truncated file under the final name.
        const auto partial = directory / (sha256 + ".partial");
        {
            std::ofstream out(partial, std::ios::binary | std::ios::trunc);
            out.write(upload.bytes.data(), static_cast<std::streamsize>(upload.bytes.size()));
            if (!out.flush()) throw std::runtime_error("cannot write " + partial.string());
        }
        std::filesystem::rename(partial, path);
    }

    try {
        return db::in_transaction(connection, [&](db::Connection& c) -> Outcome<SubmittedReceipt> {
            auto before = get(c, id);
            if (!before) return fail(ErrorCode::not_found, "no such order");
            OrderStatus from = before->status;
            if (from == OrderStatus::awaiting_payment) {
                if (!before->payment_method_id)
                    return fail(ErrorCode::validation, "choose a payment method first");
            } else if (!(from == OrderStatus::declined && before->allow_reupload)) {
                return fail(ErrorCode::invalid_transition, describe(*before) + "; it takes no receipt now");
            }
            const auto now = to_timestamp(clock_.now());
            auto reused = c.scalar<OrderId>(
                "SELECT order_id FROM receipts WHERE sha256 = ? AND order_id <> ? ORDER BY id LIMIT 1",
                sha256, id);
            const auto receipt_id = *c.scalar<ReceiptId>(
                "INSERT INTO receipts (order_id, file_path, sha256, size_bytes, content_type, attachment_id, "
                "reused_from_order_id, uploaded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                id, path.string(), sha256, static_cast<std::int64_t>(upload.bytes.size()),
                upload.content_type, upload.attachment_id, reused, now);
            const auto changed = c.exec(
                "UPDATE orders SET status = 'under_review', submitted_at = ?, updated_at = ?, claimed_by = "
                "NULL, claimed_at = NULL, allow_reupload = 0, review_message_id = NULL, review_reminded_at = "
                "NULL WHERE id = ? AND status = ?",
                now, now, id, from);
            if (changed == 0) return fail(ErrorCode::conflict, "the order changed meanwhile; try again");
            auto after = *get(c, id);
            auto after_json = to_json(after);
            after_json["receipt_sha256"] = sha256;
            if (reused) after_json["receipt_reused_from"] = order_reference(*reused);
            record_audit(c,
                         {"user:" + std::to_string(user.value), "order.receipt_submitted", "order",
                          std::to_string(id.value), to_json(*before), after_json},
                         now);
            auto stored = receipts(c, id);
            for (auto& receipt : stored) {
                if (receipt.id == receipt_id) return SubmittedReceipt{std::move(after), std::move(receipt)};
            }
            throw db::DbError(db::DbErrorCode::other, "receipt vanished after insert");
        });
    } catch (const db::DbError& db_error) {
        // A re-upload after decline while the customer has since opened another order.
        if (db_error.code() == db::DbErrorCode::unique_violation) {
            return fail(ErrorCode::conflict,
                        "you already have another open order; finish or cancel it first");
        }
        throw;
    }
}

Outcome<Order> OrderService::cancel(db::Connection& connection, OrderId id, UserId user) {
    return db::in_transaction(connection, [&](db::Connection& c) -> Outcome<Order> {
        auto before = get(c, id);
        if (!before) return fail(ErrorCode::not_found, "no such order");
        if (before->user_id != user) return fail(ErrorCode::forbidden, "that order belongs to someone else");
        if (!is_legal_transition(before->status, OrderStatus::cancelled))
            return refuse(c, id, OrderStatus::cancelled);
        const auto now = to_timestamp(clock_.now());
        if (c.exec("UPDATE orders SET status = 'cancelled', cancelled_at = ?, updated_at = ?, claimed_by = "
                   "NULL, "
                   "claimed_at = NULL WHERE id = ? AND status = ?",
                   now, now, id, before->status) == 0) {
            return fail(ErrorCode::conflict, "the order changed meanwhile");
        }
        auto after = *get(c, id);
        record_audit(c,
                     {"user:" + std::to_string(user.value), "order.cancelled", "order",
                      std::to_string(id.value), to_json(*before), to_json(after)},
                     now);
        return after;
    });
}

std::vector<Order> OrderService::expire_unpaid(db::Connection& connection) {
    const auto now = to_timestamp(clock_.now());
    const auto cutoff = now - options_.unpaid_timeout;
    // Unpaid since the order was made, or declined and no new receipt since the decline.
    constexpr std::string_view kDue =
        "((status = 'awaiting_payment' AND created_at <= ?) OR (status = 'declined' AND declined_at <= ?))";
    std::vector<OrderId> candidates;
    {
        auto rows = connection.query("SELECT id FROM orders WHERE " + std::string(kDue), cutoff, cutoff);
        while (rows->step()) candidates.push_back(rows->get<OrderId>(0));
    }
    std::vector<Order> expired;
    for (const auto id : candidates) {
        auto done = db::in_transaction(connection, [&](db::Connection& c) -> std::optional<Order> {
            auto before = get(c, id);
            if (c.exec(
                    "UPDATE orders SET status = 'expired', expired_at = ?, updated_at = ? WHERE id = ? AND " +
                        std::string(kDue),
                    now, now, id, cutoff, cutoff) == 0) {
                return std::nullopt;  // paid, re-submitted or cancelled meanwhile
            }
            auto after = *get(c, id);
            record_audit(c,
                         {Actor::system().text(), "order.expired", "order", std::to_string(id.value),
                          to_json(*before), to_json(after)},
                         now);
            return after;
        });
        if (done) expired.push_back(std::move(*done));
    }
    return expired;
}

Outcome<Order> OrderService::claim(db::Connection& connection, OrderId id, const DiscordId& admin) {
    return db::in_transaction(connection, [&](db::Connection& c) -> Outcome<Order> {
        auto before = get(c, id);
        if (!before) return fail(ErrorCode::not_found, "no such order");
        if (before->status != OrderStatus::under_review) {
            return fail(ErrorCode::invalid_transition, describe(*before) + "; there is nothing to review");
        }
        const auto now = to_timestamp(clock_.now());
        const auto lapse_before = now - options_.claim_timeout;
        if (held_by_other(*before, admin, lapse_before)) {
            return fail(ErrorCode::claimed, "order " + before->reference + " is being reviewed by <@" +
                                                before->claimed_by->str() + ">");
        }
        if (c.exec(
                "UPDATE orders SET claimed_by = ?, claimed_at = ?, updated_at = ? WHERE id = ? AND status = "
                "'under_review' AND " +
                    std::string(kClaimFree),
                admin, now, now, id, admin, lapse_before) == 0) {
            return fail(ErrorCode::conflict, "another admin took the order meanwhile");
        }
        auto after = *get(c, id);
        record_audit(c,
                     {admin.str(), "order.claimed", "order", std::to_string(id.value), to_json(*before),
                      to_json(after)},
                     now);
        return after;
    });
}

Outcome<Order> OrderService::release_claim(db::Connection& connection, OrderId id, const DiscordId& admin) {
    return db::in_transaction(connection, [&](db::Connection& c) -> Outcome<Order> {
        auto before = get(c, id);
        if (!before) return fail(ErrorCode::not_found, "no such order");
        if (before->claimed_by != admin)
            return fail(ErrorCode::claimed, "you do not hold the review of this order");
        const auto now = to_timestamp(clock_.now());
        c.exec(
            "UPDATE orders SET claimed_by = NULL, claimed_at = NULL, updated_at = ? WHERE id = ? AND "
            "claimed_by = ?",
            now, id, admin);
        auto after = *get(c, id);
        record_audit(c,
                     {admin.str(), "order.released", "order", std::to_string(id.value), to_json(*before),
                      to_json(after)},
                     now);
        return after;
    });
}

Outcome<Order> OrderService::decline(db::Connection& connection, OrderId id, const DiscordId& admin,
                                     const std::string& reason, bool allow_reupload) {
    if (reason.empty() || reason.size() > 500)
        return fail(ErrorCode::validation, "give a reason of 1 to 500 characters");
    return db::in_transaction(connection, [&](db::Connection& c) -> Outcome<Order> {
        auto before = get(c, id);
        if (!before) return fail(ErrorCode::not_found, "no such order");
        if (!is_legal_transition(before->status, OrderStatus::declined))
            return refuse(c, id, OrderStatus::declined);
        const auto now = to_timestamp(clock_.now());
        const auto lapse_before = now - options_.claim_timeout;
        if (held_by_other(*before, admin, lapse_before)) {
            return fail(ErrorCode::claimed, "order " + before->reference + " is being reviewed by <@" +
                                                before->claimed_by->str() + ">");
        }
        if (c.exec("UPDATE orders SET status = 'declined', declined_at = ?, updated_at = ?, reviewer_id = ?, "
                   "decline_reason = ?, allow_reupload = ?, claimed_by = NULL, claimed_at = NULL "
                   "WHERE id = ? AND status = 'under_review' AND " +
                       std::string(kClaimFree),
                   now, now, admin, reason, allow_reupload, id, admin, lapse_before) == 0) {
            return fail(ErrorCode::conflict, "the order changed meanwhile");
        }
        auto after = *get(c, id);
        record_audit(c,
                     {admin.str(), "order.declined", "order", std::to_string(id.value), to_json(*before),
                      to_json(after)},
                     now);
        return after;
    });
}

Outcome<Order> OrderService::approve(db::Connection& connection, OrderId id, const DiscordId& admin,
                                     const ApprovalPlan& plan) {
    return db::in_transaction(connection, [&](db::Connection& c) -> Outcome<Order> {
        auto before = get(c, id);
        if (!before) return fail(ErrorCode::not_found, "no such order");
        if (!is_legal_transition(before->status, OrderStatus::approved))
            return refuse(c, id, OrderStatus::approved);
        const auto now = to_timestamp(clock_.now());
        const auto lapse_before = now - options_.claim_timeout;
        if (held_by_other(*before, admin, lapse_before)) {
            return fail(ErrorCode::claimed, "order " + before->reference + " is being reviewed by <@" +
                                                before->claimed_by->str() + ">");
        }
        if (c.exec("UPDATE orders SET status = 'approved', approved_at = ?, updated_at = ?, reviewer_id = ?, "
                   "claimed_by = NULL, claimed_at = NULL, server_id = ?, client_email = ?, client_uuid = ?, "
                   "sub_id = ?, "
                   "target_expires_at = ?, target_traffic_bytes = ? "
                   "WHERE id = ? AND status = 'under_review' AND " +
                       std::string(kClaimFree),
                   now, now, admin, plan.server_id, plan.client_email, plan.client_uuid, plan.sub_id,
                   plan.target_expires_at, plan.target_traffic_bytes, id, admin, lapse_before) == 0) {
            return fail(ErrorCode::conflict, "the order changed meanwhile");
        }
        // A promo code is used up only now, in the approval's transaction.
        if (auto used = promos::consume(c, *before, now); !used) return common::unexpected(used.error());
        auto after = *get(c, id);
        record_audit(c,
                     {admin.str(), "order.approved", "order", std::to_string(id.value), to_json(*before),
                      to_json(after)},
                     now);
        return after;
    });
}

Outcome<Order> OrderService::mark_fulfilled(db::Connection& connection, OrderId id, AccountId account) {
    return db::in_transaction(connection, [&](db::Connection& c) -> Outcome<Order> {
        auto before = get(c, id);
        if (!before) return fail(ErrorCode::not_found, "no such order");
        if (!is_legal_transition(before->status, OrderStatus::fulfilled))
            return refuse(c, id, OrderStatus::fulfilled);
        const auto now = to_timestamp(clock_.now());
        if (c.exec(
                "UPDATE orders SET status = 'fulfilled', fulfilled_at = ?, updated_at = ?, account_id = ?, "
                "last_error = NULL WHERE id = ? AND status = 'approved'",
                now, now, account, id) == 0) {
            return fail(ErrorCode::conflict, "the order changed meanwhile");
        }
        auto after = *get(c, id);
        record_audit(c,
                     {Actor::system().text(), "order.fulfilled", "order", std::to_string(id.value),
                      to_json(*before), to_json(after)},
                     now);
        return after;
    });
}

void OrderService::record_provision_failure(db::Connection& connection, OrderId id,
                                            const std::string& error) {
    db::in_transaction(connection, [&](db::Connection& c) {
        const auto now = to_timestamp(clock_.now());
        if (c.exec("UPDATE orders SET provision_attempts = provision_attempts + 1, last_error = ?, "
                   "updated_at = ? "
                   "WHERE id = ? AND status = 'approved'",
                   error, now, id) == 0) {
            return;
        }
        record_audit(c,
                     {Actor::system().text(), "order.provision_failed", "order", std::to_string(id.value),
                      std::nullopt, nlohmann::json{{"error", error}}},
                     now);
    });
}

Outcome<Order> OrderService::mark_channel_ready(db::Connection& connection, OrderId id) {
    const auto now = to_timestamp(clock_.now());
    if (connection.exec("UPDATE orders SET channel_ready_at = COALESCE(channel_ready_at, ?), updated_at = ? "
                        "WHERE id = ?",
                        now, now, id) == 0) {
        return fail(ErrorCode::not_found, "no such order");
    }
    return *get(connection, id);
}

bool OrderService::claim_channel_attempt(db::Connection& connection, OrderId id,
                                         std::chrono::seconds settle) {
    const auto now = to_timestamp(clock_.now());
    return connection.exec(
               "UPDATE orders SET channel_attempt_at = ?, updated_at = ? WHERE id = ? AND status = "
               "'awaiting_payment' AND channel_ready_at IS NULL AND (channel_attempt_at IS NULL OR "
               "channel_attempt_at <= ?)",
               now, now, id, now - settle) > 0;
}

std::vector<Order> OrderService::unfinished_channels(db::Connection& connection,
                                                     std::chrono::seconds settle) {
    const auto now = to_timestamp(clock_.now());
    auto rows = connection.query(
        std::string(kSelect) +
            "WHERE channel_ready_at IS NULL AND (status IN ('cancelled', 'expired') OR (status = "
            "'awaiting_payment' AND (channel_attempt_at IS NULL OR channel_attempt_at <= ?))) ORDER BY id "
            "LIMIT 1000",
        now - settle);
    return read_orders(*rows);
}

std::vector<Order> OrderService::unreviewed(db::Connection& connection, Timestamp before) {
    auto rows =
        connection.query(std::string(kSelect) +
                             "WHERE status = 'under_review' AND submitted_at <= ? AND review_reminded_at "
                             "IS NULL ORDER BY id LIMIT 1000",
                         before);
    return read_orders(*rows);
}

std::vector<Order> OrderService::without_review_card(db::Connection& connection, Timestamp before) {
    auto rows =
        connection.query(std::string(kSelect) +
                             "WHERE status = 'under_review' AND submitted_at <= ? AND review_message_id "
                             "IS NULL ORDER BY id LIMIT 1000",
                         before);
    return read_orders(*rows);
}

void OrderService::mark_review_reminded(db::Connection& connection, OrderId id) {
    const auto now = to_timestamp(clock_.now());
    connection.exec("UPDATE orders SET review_reminded_at = ?, updated_at = ? WHERE id = ?", now, now, id);
}

std::optional<Order> OrderService::get(db::Connection& connection, OrderId id) {
    auto rows = connection.query(std::string(kSelect) + "WHERE id = ?", id);
    auto orders = read_orders(*rows);
    if (orders.empty()) return std::nullopt;
    return std::move(orders.front());
}

std::optional<Order> OrderService::by_reference(db::Connection& connection, std::string_view reference) {
    auto id = parse_order_reference(reference);
    if (!id) return std::nullopt;
    return get(connection, *id);
}

std::optional<Order> OrderService::open_order(db::Connection& connection, UserId user) {
    auto rows = connection.query(
        std::string(kSelect) +
            "WHERE user_id = ? AND status IN ('awaiting_payment', 'under_review', 'approved')",
        user);
    auto orders = read_orders(*rows);
    if (orders.empty()) return std::nullopt;
    return std::move(orders.front());
}

std::vector<Order> OrderService::for_user(db::Connection& connection, UserId user) {
    auto rows = connection.query(std::string(kSelect) + "WHERE user_id = ? ORDER BY id DESC", user);
    return read_orders(*rows);
}

std::vector<Order> OrderService::with_status(db::Connection& connection, OrderStatus status, int limit) {
    auto rows =
        connection.query(std::string(kSelect) + "WHERE status = ? ORDER BY id LIMIT ?", status, limit);
    return read_orders(*rows);
}

std::vector<Receipt> OrderService::receipts(db::Connection& connection, OrderId id) {
    auto rows = connection.query(std::string(kReceiptSelect) + "WHERE order_id = ? ORDER BY id", id);
    return read_receipts(*rows);
}

}  // namespace nebula::bot::domain
