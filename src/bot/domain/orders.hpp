#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bot/db/connection.hpp"
#include "bot/domain/receipts.hpp"
#include "bot/domain/types.hpp"
#include "common/clock.hpp"

namespace nebula::bot::domain {

struct Order {
    OrderId id;
    std::string reference;  ///< NL-000123
    UserId user_id;
    PlanId plan_id;
    OrderKind kind = OrderKind::new_access;
    std::optional<AccountId> account_id;  ///< renewal: the account being renewed; new: set once fulfilled
    OrderStatus status = OrderStatus::awaiting_payment;
    Piasters amount;
    std::optional<PaymentMethodId> payment_method_id;
    std::optional<DiscordId> channel_id;
    std::optional<DiscordId> review_message_id;
    std::optional<DiscordId> claimed_by;
    std::optional<Timestamp> claimed_at;
    std::optional<DiscordId> reviewer_id;
    std::optional<std::string> decline_reason;
    bool allow_reupload = false;
    // Written at approval, before the gateway is called, so provisioning is repeatable.
    std::optional<ServerId> server_id;
    std::optional<std::string> client_email;
    std::optional<std::string> client_uuid;
    std::optional<std::string> sub_id;
    std::optional<Timestamp> target_expires_at;
    std::optional<std::int64_t> target_traffic_bytes;
    int provision_attempts = 0;
    std::optional<std::string> last_error;
    Timestamp created_at;
    std::optional<Timestamp> submitted_at;
    std::optional<Timestamp> approved_at;
    std::optional<Timestamp> fulfilled_at;
    std::optional<Timestamp> declined_at;
    std::optional<Timestamp> cancelled_at;
    std::optional<Timestamp> expired_at;
    /// The channel step is settled: the order channel exists, is stored here and carries the
    /// summary with the Cancel button; or the order ended first and no orphan channel is left.
    std::optional<Timestamp> channel_ready_at;
    /// When the bot last set about creating (or repairing) the channel: a lease against doing it
    /// twice at once.
    std::optional<Timestamp> channel_attempt_at;
    /// When admins were reminded of this order waiting for review.
    std::optional<Timestamp> review_reminded_at;
    /// A free trial: amount 0, created approved without payment or review (domain/trials.hpp).
    bool trial = false;
    /// The promo code applied before paying (domain/promos.hpp): the price before it and the
    /// discount; `amount` is what is left to pay.
    std::optional<std::int64_t> promo_code_id;
    std::optional<Piasters> list_price;
    Piasters discount;
    /// Given by an admin (/admin account create): why. Amount 0, created approved like a trial.
    std::optional<std::string> gift_reason;
    /// Refunded by an admin after it was fulfilled (the status stays fulfilled); revenue leaves
    /// it out.
    std::optional<Timestamp> refunded_at;
    std::optional<DiscordId> refunded_by;
    std::optional<std::string> refund_reason;
    /// The location the customer picked for a new account; none = any (the least loaded server).
    std::optional<std::string> location;
};

nlohmann::json to_json(const Order& order);

struct OrderOptions {
    std::chrono::seconds unpaid_timeout{std::chrono::hours(24)};
    /// A review claim older than this no longer blocks other admins (the claimer walked away).
    std::chrono::seconds claim_timeout{std::chrono::minutes(15)};
    /// Receipts live under <data_directory>/receipts/<order id>/.
    std::filesystem::path data_directory = "data";
    ReceiptPolicy receipts;  ///< what submit_receipt() accepts
};

/// The outcome of Buy: a new order, or the customer's open one (shown instead of a second).
struct PlacedOrder {
    Order order;
    bool existing = false;
};

/// A payment screenshot as received from Discord.
struct ReceiptUpload {
    std::string bytes;
    std::string content_type;  ///< image/png, image/jpeg, image/webp or application/pdf
    std::optional<DiscordId> attachment_id;
};

struct Receipt {
    ReceiptId id;
    OrderId order_id;
    std::filesystem::path file_path;
    std::string sha256;
    std::int64_t size_bytes = 0;
    std::string content_type;
    std::optional<DiscordId> attachment_id;
    /// Another order whose receipt had the same SHA-256: a possibly re-used screenshot.
    std::optional<OrderId> reused_from_order_id;
    Timestamp uploaded_at;
};

struct SubmittedReceipt {
    Order order;
    Receipt receipt;
};

/// What approval decided, written on the order before provisioning starts.
struct ApprovalPlan {
    /// Empty when no server had room at approval: the order is approved all the same and
    /// Provisioner::fulfil() places it once a server has room.
    std::optional<ServerId> server_id;
    std::string client_email;
    std::string client_uuid;
    std::string sub_id;
    Timestamp target_expires_at;
    std::int64_t target_traffic_bytes = 0;
};

/// Orders and their review. Each transition is one transaction whose UPDATE is guarded by the
/// expected current status, so concurrent clicks cannot both succeed; each is audited with
/// before/after. Methods run on the connection given (callers use the DbExecutor) and are safe
/// from several connections at once.
class OrderService {
  public:
    OrderService(const common::Clock& clock, OrderOptions options)
        : clock_(clock), options_(std::move(options)) {}

    /// Buy: a new-access order for `plan` at its current price. A banned user is refused
    /// (forbidden); an inactive plan is not_found; a customer with an open order gets that one
    /// back with existing = true.
    /// `location`: where the customer wants the account (a location of some server), none = any;
    /// an unknown location is refused (validation).
    Outcome<PlacedOrder> place(db::Connection& connection, UserId user, PlanId plan,
                               std::optional<std::string> location = std::nullopt);
    /// Renew: like place(), naming the customer's own account (not deleted).
    Outcome<PlacedOrder> place_renewal(db::Connection& connection, UserId user, PlanId plan,
                                       AccountId account);

    /// The customer picks how to pay (awaiting_payment only; an enabled method with an account).
    Outcome<Order> choose_payment_method(db::Connection& connection, OrderId id, UserId user,
                                         PaymentMethodId method);
    /// Remembers the Discord channel / review message of the order (for later edits).
    Outcome<Order> set_channel(db::Connection& connection, OrderId id, DiscordId channel_id);
    Outcome<Order> set_review_message(db::Connection& connection, OrderId id, DiscordId message_id);

    /// Stores the screenshot on disk (named by its SHA-256) and moves the order to under_review:
    /// from awaiting_payment (a payment method chosen), or from declined when the reviewer
    /// allowed a new upload. The receipt says whether the same image was used on another order.
    Outcome<SubmittedReceipt> submit_receipt(db::Connection& connection, OrderId id, UserId user,
                                             const ReceiptUpload& upload);

    /// The customer gives up: own order, any state before approval (awaiting_payment,
    /// under_review, declined).
    Outcome<Order> cancel(db::Connection& connection, OrderId id, UserId user);
    /// Expires every awaiting_payment order older than the unpaid timeout, and every declined
    /// order that got no new receipt within the same time after its decline; returns them.
    std::vector<Order> expire_unpaid(db::Connection& connection);

    /// The channel step of the order is settled (see Order::channel_ready_at).
    Outcome<Order> mark_channel_ready(db::Connection& connection, OrderId id);
    /// Takes the channel lease of an awaiting_payment order whose channel is not ready and whose
    /// last attempt is older than `settle` (a live attempt is left alone). False when there is
    /// nothing to do or someone else holds it.
    bool claim_channel_attempt(db::Connection& connection, OrderId id, std::chrono::seconds settle);
    /// Orders whose channel step is not settled: awaiting_payment ones with no attempt for
    /// `settle`, and orders that ended before it was (their channel may be an orphan).
    std::vector<Order> unfinished_channels(db::Connection& connection, std::chrono::seconds settle);
    /// Under-review orders submitted before `before` whose admins were not reminded yet.
    std::vector<Order> unreviewed(db::Connection& connection, Timestamp before);
    /// Under-review orders submitted before `before` whose review card was never stored.
    std::vector<Order> without_review_card(db::Connection& connection, Timestamp before);
    void mark_review_reminded(db::Connection& connection, OrderId id);

    /// Review lock: an admin claims an under_review order; another admin's claim younger than
    /// the claim timeout refuses (claimed). Claiming again by the same admin refreshes it.
    Outcome<Order> claim(db::Connection& connection, OrderId id, const DiscordId& admin);
    Outcome<Order> release_claim(db::Connection& connection, OrderId id, const DiscordId& admin);
    /// under_review → declined with a reason shown to the customer; `allow_reupload` lets the
    /// customer send a new screenshot (declined → under_review).
    Outcome<Order> decline(db::Connection& connection, OrderId id, const DiscordId& admin,
                           const std::string& reason, bool allow_reupload);
    /// under_review → approved, recording the provisioning plan. Provisioner::approve calls
    /// this; use that instead.
    Outcome<Order> approve(db::Connection& connection, OrderId id, const DiscordId& admin,
                           const ApprovalPlan& plan);
    /// approved → fulfilled, guarded; `account` is the account created or renewed.
    Outcome<Order> mark_fulfilled(db::Connection& connection, OrderId id, AccountId account);
    /// Records a failed provisioning attempt on an approved order (it stays approved).
    void record_provision_failure(db::Connection& connection, OrderId id, const std::string& error);

    std::optional<Order> get(db::Connection& connection, OrderId id);
    std::optional<Order> by_reference(db::Connection& connection, std::string_view reference);
    std::optional<Order> open_order(db::Connection& connection, UserId user);
    std::vector<Order> for_user(db::Connection& connection, UserId user);
    std::vector<Order> with_status(db::Connection& connection, OrderStatus status, int limit = 1000);
    std::vector<Receipt> receipts(db::Connection& connection, OrderId id);

    const OrderOptions& options() const { return options_; }

  private:
    Outcome<PlacedOrder> place_order(db::Connection& connection, UserId user, PlanId plan, OrderKind kind,
                                     std::optional<AccountId> account,
                                     std::optional<std::string> location = std::nullopt);
    Outcome<Order> refuse(db::Connection& connection, OrderId id, OrderStatus wanted);

    const common::Clock& clock_;
    OrderOptions options_;
};

}  // namespace nebula::bot::domain
