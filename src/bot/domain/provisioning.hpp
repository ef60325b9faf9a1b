#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "bot/db/executor.hpp"
#include "bot/domain/accounts.hpp"
#include "bot/domain/catalog.hpp"
#include "bot/domain/gateway_client.hpp"
#include "bot/domain/orders.hpp"
#include "common/clock.hpp"

namespace nebula::bot::domain {

struct ProvisioningOptions {
    /// Renewal: true resets used traffic and sets the plan's quota; false adds the plan's quota
    /// to the current one (unlimited stays unlimited).
    bool renewal_resets_traffic = true;
};

/// A fulfilled order with its account; links come with a newly created client.
struct Fulfilment {
    Order order;
    Account account;
    std::optional<ClientLinks> links;
};

struct ReconcileReport {
    int fulfilled = 0;
    int failed = 0;
    std::vector<std::pair<OrderId, Error>> errors;
};

/// True when approve_and_fulfil() / fulfil() failed after the approval was recorded: the order
/// is approved and paid for, the account is not made yet, and the reconciler will finish it.
inline bool is_pending(const Error& error) {
    return error.code == ErrorCode::gateway || error.code == ErrorCode::no_capacity;
}

/// Turns approved orders into panel clients, exactly once per order. Approval writes the
/// client's email (nl-<order id>), UUID, sub id, server and target expiry on the order before
/// the gateway is called; fulfil() creates the client with exactly those values (a repeated
/// create is success at the gateway) and then, in one transaction, records the account and
/// marks the order fulfilled. If anything fails in between, the order stays approved and
/// reconcile() finishes it later without making a second client.
/// Coroutines run on the caller's executor; database work goes to the DbExecutor.
class Provisioner {
  public:
    Provisioner(db::DbExecutor& db, GatewayDirectory& gateways, OrderService& orders, CatalogService& catalog,
                const common::Clock& clock, ProvisioningOptions options = {})
        : db_(db),
          gateways_(gateways),
          orders_(orders),
          catalog_(catalog),
          clock_(clock),
          options_(options) {}

    /// under_review → approved, choosing the server (load balancer) for a new account; when no
    /// server has room the order is approved without one and fulfil() places it later. Errors:
    /// claimed, invalid_transition, conflict, not_found.
    boost::asio::awaitable<Outcome<Order>> approve(OrderId id, DiscordId admin);
    /// Provisions an approved order (or returns the result of an already fulfilled one). A
    /// gateway failure is recorded on the order and returned as ErrorCode::gateway; an order that
    /// still finds no server with room, as ErrorCode::no_capacity. Either way the order stays
    /// approved for the next attempt (is_pending()). Marking the order fulfilled also records its
    /// pending delivery (deliveries::record), naming `approver` when an admin's approval finished
    /// it and nobody when the automatic retry did.
    boost::asio::awaitable<Outcome<Fulfilment>> fulfil(OrderId id,
                                                       std::optional<DiscordId> approver = std::nullopt);
    /// approve() then fulfil(): what the Approve button does.
    boost::asio::awaitable<Outcome<Fulfilment>> approve_and_fulfil(OrderId id, DiscordId admin);
    /// Retries every approved order (the reconciler job).
    boost::asio::awaitable<ReconcileReport> reconcile();

  private:
    /// One attempt of fulfil(); nothing (and no change to the order) when a renewed account moved
    /// to another server during it, so the caller renews it again on its new client.
    boost::asio::awaitable<Outcome<std::optional<Fulfilment>>> fulfil_once(OrderId id,
                                                                           std::optional<DiscordId> approver);
    boost::asio::awaitable<Outcome<std::optional<Fulfilment>>> fail_provisioning(OrderId id,
                                                                                 std::string message);
    /// Gives an approved order without a server one (under the placement lock), or records why not.
    Outcome<Order> place(db::Connection& connection, OrderId id);

    db::DbExecutor& db_;
    GatewayDirectory& gateways_;
    OrderService& orders_;
    CatalogService& catalog_;
    const common::Clock& clock_;
    ProvisioningOptions options_;
};

/// Admin and customer operations on existing accounts; each changes the panel through the
/// gateway first and then the database (with an audit record). Gateway failures come back as
/// ErrorCode::gateway and change nothing in the database.
class AccountOperations {
  public:
    AccountOperations(db::DbExecutor& db, GatewayDirectory& gateways, CatalogService& catalog,
                      const common::Clock& clock)
        : db_(db), gateways_(gateways), catalog_(catalog), clock_(clock) {}

    /// Adds days from max(now, expiry) and re-enables an expired account.
    boost::asio::awaitable<Outcome<Account>> extend(AccountId id, int days, Actor actor);
    boost::asio::awaitable<Outcome<Account>> set_enabled(AccountId id, bool enabled, Actor actor);
    /// Deletes the panel client; the account row stays, marked deleted, for the records.
    boost::asio::awaitable<Outcome<Account>> remove(AccountId id, Actor actor);
    boost::asio::awaitable<Outcome<Account>> reset_traffic(AccountId id, Actor actor);
    /// Moves the account to `plan`: its traffic quota and device limit, and an expiry of the
    /// plan's duration counted from now or (`from_expiry`) from the later of now and the current
    /// expiry. Used traffic is kept; an expired account becomes active, a disabled one stays
    /// disabled. Panel first, then the database ("account.plan_changed").
    boost::asio::awaitable<Outcome<Account>> change_plan(AccountId id, PlanId plan, bool from_expiry,
                                                         Actor actor);
    /// The client's current links, rebuilt by the gateway.
    boost::asio::awaitable<Outcome<ClientWithLinks>> show_config(AccountId id);
    /// Reads this one client's usage from its gateway and stores it (with the time it was read);
    /// returns the account after. Alerts stay with the traffic job.
    boost::asio::awaitable<Outcome<Account>> refresh_usage(AccountId id);

  private:
    struct Target {
        Account account;
        Server server;
    };
    /// One change of an account: what its panel client gets, then what its row gets.
    struct Change {
        enum class PanelCall { update, remove, reset_traffic };
        PanelCall call = PanelCall::update;
        ClientChange client;  ///< for PanelCall::update
        std::function<void(db::Connection&, Timestamp)> update;
    };
    boost::asio::awaitable<Outcome<Target>> load(AccountId id);
    /// Loads the account, makes the change `plan` gives for it on the account's panel client, then
    /// applies the row's update and an audit record in one transaction, returning the account after.
    /// A move that switched the account to another server between the panel call and the commit
    /// (account_moves) would leave the new client without the change: then the change is made
    /// again, for the account as it is now.
    boost::asio::awaitable<Outcome<Account>> apply(AccountId id, Actor actor, std::string action,
                                                   std::function<Outcome<Change>(const Target&)> plan);

    db::DbExecutor& db_;
    GatewayDirectory& gateways_;
    CatalogService& catalog_;
    const common::Clock& clock_;
};

std::string describe(const GatewayError& error);

}  // namespace nebula::bot::domain
