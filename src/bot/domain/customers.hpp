#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bot/db/connection.hpp"
#include "bot/domain/accounts.hpp"
#include "bot/domain/orders.hpp"
#include "bot/domain/types.hpp"

namespace nebula::bot::domain {

/// A customer as the admins' list shows them.
struct CustomerRow {
    UserId id;
    DiscordId discord_id;
    std::string username;
    UserStatus status = UserStatus::active;
    std::int64_t orders = 0;           ///< every order they placed, in any status
    std::int64_t active_accounts = 0;  ///< accounts active now (not disabled, expired or deleted)
    Timestamp created_at;
};

/// Which customers a list shows.
enum class CustomerFilter {
    all,
    active,      ///< not banned
    banned,      ///< banned
    subscribed,  ///< holding at least one active account
};

/// "all", "active", "banned", "subscribed"; nothing for anything else.
std::optional<CustomerFilter> parse_customer_filter(std::string_view text);

/// One page of customers, newest first, and how many match in all.
struct CustomerPage {
    std::vector<CustomerRow> rows;
    std::int64_t total = 0;
};

/// An order in a customer's history, with the names the admin reads.
struct HistoryOrder {
    Order order;
    std::string plan_name;
    std::optional<std::string> payment_method;  ///< the method's code (vodafone_cash, …)
};

/// A note an admin keeps about a customer.
struct UserNote {
    std::int64_t id = 0;
    UserId user_id;
    DiscordId author;
    std::string body;
    Timestamp created_at;
};

/// Everything /admin user info shows beside the customer: orders newest first, accounts and
/// notes (oldest first).
struct CustomerHistory {
    std::vector<HistoryOrder> orders;
    std::vector<Account> accounts;
    std::vector<UserNote> notes;
};

namespace customers {

inline constexpr std::size_t kMaxQueryLength = 100;
inline constexpr std::size_t kMaxNoteLength = 1000;

/// Customers matching `filter` and `query`, newest first: `limit` of them from `offset`. The query
/// (case-insensitive, anywhere in the text; empty = everyone) matches the Discord name, the
/// Discord id (a pasted mention <@…> works), an order reference (NL-000123) or a panel client
/// email of one of their accounts. `%`, `_` and `\` in it match themselves.
CustomerPage list(db::Connection& connection, CustomerFilter filter, std::string_view query,
                  std::int64_t offset, int limit);

/// The customer's orders (with plan name and payment method), accounts and notes.
CustomerHistory history(db::Connection& connection, OrderService& orders, UserId user);

/// Keeps an admin's note about the customer; audited ("user.note_added"). The text is trimmed;
/// empty or longer than kMaxNoteLength characters is a validation error, an unknown customer
/// not_found.
Outcome<UserNote> add_note(db::Connection& connection, const DiscordId& author, UserId user,
                           std::string_view text, Timestamp now);

}  // namespace customers
}  // namespace nebula::bot::domain
