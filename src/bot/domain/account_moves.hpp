#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "bot/db/executor.hpp"
#include "bot/domain/catalog.hpp"
#include "bot/domain/gateway_client.hpp"
#include "bot/domain/types.hpp"
#include "common/clock.hpp"

namespace nebula::bot::domain {

/// Where a move of an account to another server stands (the account_moves table):
/// creating → switched → told → done. See migration 014.
enum class MoveState { creating, switched, told, done };

std::string_view to_string(MoveState state);

struct AccountMove {
    std::int64_t id = 0;
    AccountId account;
    ServerId from_server;
    ServerId to_server;
    std::string old_client_email;
    std::string new_client_email;
    std::string new_client_uuid;
    std::string new_sub_id;
    int new_inbound_id = 0;
    std::int64_t traffic_limit_bytes = 0;  ///< the new client's quota: what was left (0 = unlimited)
    MoveState state = MoveState::creating;
    DiscordId actor;
    int attempts = 0;
    std::optional<std::string> last_error;
    Timestamp created_at;
    std::optional<Timestamp> switched_at;
    std::optional<Timestamp> told_at;
    std::optional<Timestamp> done_at;
};

nlohmann::json to_json(const AccountMove& move);

/// The new client's email for move `move` of the account made by order `order`: "nl-<order>-m<move>".
std::string moved_client_email(OrderId order, std::int64_t move);

namespace moves {

std::optional<AccountMove> get(db::Connection& connection, std::int64_t id);
/// Every move not done yet, oldest first.
std::vector<AccountMove> open(db::Connection& connection);
/// The customer has the new link (or could not be reached: `note` says so): switched → told.
void mark_told(db::Connection& connection, std::int64_t id, Timestamp now,
               std::optional<std::string> note = std::nullopt);
/// Counts a failed attempt at the current step; the move stays where it is.
void record_failure(db::Connection& connection, std::int64_t id, const std::string& error, Timestamp now);

}  // namespace moves

/// A switched move: the account now on the new server, with the new client's links.
struct MovedAccount {
    AccountMove move;
    std::optional<ClientLinks> links;  ///< from the create; none when the switch happened earlier
};

/// Moves an account to another server, exactly once and resumable after a crash at every step:
/// start() records the move with the new client's identity (email, UUID, sub id) fixed before any
/// panel is called; create() makes that client on the target server (a repeated create is success
/// at the gateway) and then, in one transaction, points the account at it; the caller tells the
/// customer (moves::mark_told); remove_old() deletes the old client (already gone is success).
/// Each step is audited. Coroutines run on the caller's executor; database work goes to the
/// DbExecutor.
class AccountMover {
  public:
    AccountMover(db::DbExecutor& db, GatewayDirectory& gateways, CatalogService& catalog,
                 const common::Clock& clock)
        : db_(db), gateways_(gateways), catalog_(catalog), clock_(clock) {}

    /// Records the move of `account` to `to`. Refused: a deleted account (invalid_transition), the
    /// server it is on already (validation), a target that is disabled, down or full (no_capacity;
    /// the slot is counted under the placement lock until the switch), a move of the account
    /// already under way (conflict, naming it).
    boost::asio::awaitable<Outcome<AccountMove>> start(AccountId account, ServerId to, DiscordId actor);
    /// creating → switched (a later state: returns it unchanged). A gateway failure is recorded
    /// on the move and returned as ErrorCode::gateway; the move stays creating for the next try.
    boost::asio::awaitable<Outcome<MovedAccount>> create(std::int64_t id);
    /// told → done (done: unchanged). Errors as create().
    boost::asio::awaitable<Outcome<AccountMove>> remove_old(std::int64_t id);

  private:
    boost::asio::awaitable<Outcome<MovedAccount>> failed(std::int64_t id, std::string message);

    db::DbExecutor& db_;
    GatewayDirectory& gateways_;
    CatalogService& catalog_;
    const common::Clock& clock_;
};

}  // namespace nebula::bot::domain
