#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "common/snowflake.hpp"

namespace nebula::bot::domain {

/// A database id that cannot be mixed up with another table's id.
template <typename Tag>
struct Id {
    std::int64_t value = 0;
    friend auto operator<=>(const Id&, const Id&) = default;
};

using UserId = Id<struct UserTag>;
using PlanId = Id<struct PlanTag>;
using ServerId = Id<struct ServerTag>;
using OrderId = Id<struct OrderTag>;
using AccountId = Id<struct AccountTag>;
using PaymentMethodId = Id<struct PaymentMethodTag>;
using ReceiptId = Id<struct ReceiptTag>;

/// Money: an integer number of piasters (EGP × 100). Never a floating-point amount.
struct Piasters {
    std::int64_t value = 0;

    static constexpr Piasters from_pounds(std::int64_t pounds) { return Piasters{pounds * 100}; }
    friend auto operator<=>(const Piasters&, const Piasters&) = default;
    friend constexpr Piasters operator+(Piasters a, Piasters b) { return Piasters{a.value + b.value}; }
    friend constexpr Piasters operator-(Piasters a, Piasters b) { return Piasters{a.value - b.value}; }
    constexpr Piasters& operator+=(Piasters other) {
        value += other.value;
        return *this;
    }
    /// "150.00" (pounds with two decimals, no currency).
    std::string to_pounds_string() const;
};

/// Points in time at second resolution, stored as Unix epoch seconds (UTC).
using Timestamp = std::chrono::sys_seconds;

/// A Discord user, channel, role or message id: the same type the Discord client uses, stored as
/// decimal text in the database.
using DiscordId = common::Snowflake;

/// Who did something, for the audit trail: a Discord user (an admin or the customer) or the
/// shop itself (jobs, the reconciler, values applied from bot.env).
class Actor {
  public:
    /// The shop itself.
    static Actor system() { return Actor(); }
    /// A person; an empty id is a bug and reads as the shop itself.
    Actor(DiscordId user) : user_(user) {}  // NOLINT(google-explicit-constructor): a user is an actor

    bool is_system() const { return user_.empty(); }
    /// The user's id; empty for the shop itself.
    DiscordId user() const { return user_; }
    /// How the audit trail stores it: the user's decimal id, or "system".
    std::string text() const { return user_.empty() ? std::string("system") : user_.str(); }

    friend bool operator==(const Actor&, const Actor&) = default;

  private:
    Actor() = default;
    DiscordId user_;
};

enum class OrderStatus { awaiting_payment, under_review, approved, fulfilled, declined, expired, cancelled };
enum class OrderKind { new_access, renewal };
enum class UserStatus { active, banned };
enum class AccountStatus { active, disabled, expired, deleted };
enum class ServerHealth { unknown, up, down };

std::string_view to_string(OrderStatus status);
std::string_view to_string(OrderKind kind);
std::string_view to_string(UserStatus status);
std::string_view to_string(AccountStatus status);
std::string_view to_string(ServerHealth health);
/// Parsers for values read back from the database; throw std::invalid_argument on unknown text
/// (the schema's CHECK constraints make that a bug).
OrderStatus parse_order_status(std::string_view text);
OrderKind parse_order_kind(std::string_view text);
UserStatus parse_user_status(std::string_view text);
AccountStatus parse_account_status(std::string_view text);
ServerHealth parse_server_health(std::string_view text);

inline constexpr OrderStatus kAllOrderStatuses[] = {
    OrderStatus::awaiting_payment, OrderStatus::under_review, OrderStatus::approved, OrderStatus::fulfilled,
    OrderStatus::declined,         OrderStatus::expired,      OrderStatus::cancelled};

/// The order lifecycle: true when an order may move from `from` to `to`.
/// declined → under_review is legal only for an order whose reviewer allowed a new upload;
/// callers check that flag. Every state before approval can be cancelled by the customer, and
/// awaiting_payment / declined expire after the order timeout (docs/schema.md has the table).
bool is_legal_transition(OrderStatus from, OrderStatus to);

/// Awaiting payment, under review or approved: the customer's one open order.
bool is_open(OrderStatus status);

/// What a caller is expected to handle. Messages are clear enough to show an admin.
enum class ErrorCode {
    not_found,
    validation,          ///< bad input: negative price, zero days, duplicate name, bad URL, …
    conflict,            ///< the state changed underneath (another admin, a concurrent click)
    invalid_transition,  ///< the order is not in a state that allows this
    forbidden,           ///< banned user, someone else's order
    claimed,             ///< another admin holds the review lock
    no_capacity,         ///< no enabled, healthy server with room
    gateway,             ///< the server's gateway failed; the operation can be retried
};

std::string_view to_string(ErrorCode code);

struct Error {
    ErrorCode code;
    std::string message;
};

template <typename T>
using Outcome = common::Result<T, Error>;
using Done = common::Status<Error>;

inline common::Unexpected<Error> fail(ErrorCode code, std::string message) {
    return {Error{code, std::move(message)}};
}

/// "NL-000123": the reference a customer writes in the transfer note.
std::string order_reference(OrderId id);
/// The inverse of order_reference (case-insensitive "nl-"); nothing when malformed.
std::optional<OrderId> parse_order_reference(std::string_view text);

/// The panel client email of the account created by order `id`: "nl-<id>". Stable, so a
/// repeated create names the same client.
std::string client_email_for(OrderId id);

inline std::int64_t epoch_seconds(Timestamp t) { return t.time_since_epoch().count(); }
inline Timestamp to_timestamp(std::chrono::system_clock::time_point t) {
    return std::chrono::time_point_cast<std::chrono::seconds>(t);
}

}  // namespace nebula::bot::domain
