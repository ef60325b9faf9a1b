#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bot/db/connection.hpp"
#include "bot/domain/audit.hpp"
#include "bot/domain/catalog.hpp"
#include "bot/domain/types.hpp"

namespace nebula::bot::domain::admin {

/// Database reads the admin commands need beyond the other domain services (searches for autocomplete,
/// filtered audit) and the one write the catalogue does not offer (removing a server). Each runs
/// on the connection given; callers use the DbExecutor.

/// The newest `limit` audit records done by `discord_id` (as an admin, or as customer
/// `user:<id>` when `user` is known) or about that customer, their orders or their accounts,
/// newest first.
std::vector<domain::AuditRecord> audit_involving(db::Connection& connection,
                                                 const domain::DiscordId& discord_id,
                                                 std::optional<domain::UserId> user, int limit);

/// An account as the autocomplete shows it.
struct AccountHit {
    domain::AccountId id;
    std::string client_email;
    std::string username;
    std::string server_name;
    domain::AccountStatus status = domain::AccountStatus::active;
    domain::Timestamp expires_at;
};

/// Accounts (not deleted) whose id, client email, owner's name or owner's Discord id contains
/// `text` (all of them when empty), newest first, at most `limit`.
std::vector<AccountHit> search_accounts(db::Connection& connection, std::string_view text, int limit);

/// An order as the autocomplete shows it.
struct OrderHit {
    domain::OrderId id;
    std::string reference;
    std::string username;
    domain::OrderStatus status = domain::OrderStatus::awaiting_payment;
};

/// Orders whose reference or owner's name contains `text`; under review first, then newest.
std::vector<OrderHit> search_orders(db::Connection& connection, std::string_view text, int limit);

/// What still lives on the server: its VPN accounts (any status, deleted ones are kept for the
/// records) and approved orders being provisioned there.
std::int64_t server_references(db::Connection& connection, domain::ServerId id);

/// Deletes a server that nothing references, with an audit record ("server.removed", before =
/// the server without its key) in the same transaction. not_found when it does not exist;
/// conflict (the message holds server_references()) when anything still lives there.
domain::Outcome<domain::Server> remove_server(db::Connection& connection, domain::CatalogService& catalog,
                                              const domain::Actor& actor, domain::ServerId id,
                                              domain::Timestamp now);

}  // namespace nebula::bot::domain::admin
