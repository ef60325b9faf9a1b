#include "bot/domain/provisioning.hpp"

#include "bot/domain/audit.hpp"
#include "bot/domain/deliveries.hpp"
#include "bot/domain/load_balancer.hpp"
#include "common/crypto.hpp"

#include <spdlog/spdlog.h>

namespace nebula::bot::domain {
namespace {

constexpr std::size_t kSubIdLength = 16;

std::int64_t to_ms(Timestamp t) { return epoch_seconds(t) * 1000; }

struct Loaded {
    Order order;
    Server server;
    int device_limit = 1;
    std::optional<Fulfilment> already;  ///< the order was fulfilled before we got here
};

}  // namespace

std::string_view to_string(GatewayErrorCode code) {
    switch (code) {
        case GatewayErrorCode::unreachable:
            return "unreachable";
        case GatewayErrorCode::timeout:
            return "timeout";
        case GatewayErrorCode::not_found:
            return "not_found";
        case GatewayErrorCode::conflict:
            return "conflict";
        case GatewayErrorCode::rejected:
            return "rejected";
        case GatewayErrorCode::server_error:
            return "server_error";
        case GatewayErrorCode::bad_response:
            return "bad_response";
    }
    return "unknown";
}

std::string describe(const GatewayError& error) {
    std::string text = "gateway " + std::string(to_string(error.code));
    if (error.status != 0) text += " (HTTP " + std::to_string(error.status) + ")";
    if (!error.message.empty()) text += ": " + error.message;
    return text;
}

boost::asio::awaitable<Outcome<Order>> Provisioner::approve(OrderId id, DiscordId admin) {
    // One transaction from the capacity check to the approved order that holds the slot, under
    // pick_server's placement lock: two approvals cannot both take a server's last slot.
    co_return co_await db_.run([&, id](db::Connection& connection) -> Outcome<Order> {
        const auto now = to_timestamp(clock_.now());
        return db::in_transaction(connection, [&](db::Connection& c) -> Outcome<Order> {
            auto order = orders_.get(c, id);
            if (!order) return fail(ErrorCode::not_found, "no such order");
            if (order->status != OrderStatus::under_review) {
                return fail(ErrorCode::invalid_transition, "order " + order->reference + " is " +
                                                               std::string(to_string(order->status)) +
                                                               "; it cannot be approved");
            }
            auto plan = catalog_.plan(c, order->plan_id);
            if (!plan) return fail(ErrorCode::not_found, "the order's plan no longer exists");
            ApprovalPlan approval;
            if (order->kind == OrderKind::new_access) {
                // With no room anywhere the payment is still accepted: fulfil() places the order
                // later (the reconciler), and nobody is asked to approve it twice.
                // In the customer's location when it still has room, else elsewhere (the delivery
                // says so); never on a full server.
                if (auto placed = pick_server_in(c, order->location)) approval.server_id = placed->server;
                approval.client_email = client_email_for(id);
                approval.client_uuid = common::uuid_v4();
                approval.sub_id = common::random_alnum(kSubIdLength);
                approval.target_expires_at = now + std::chrono::days(plan->spec.duration_days);
                approval.target_traffic_bytes = plan->spec.traffic_bytes;
            } else {
                auto account = accounts::get(c, *order->account_id);
                if (!account || account->status == AccountStatus::deleted) {
                    return fail(ErrorCode::validation, "the account to renew no longer exists");
                }
                approval.server_id = account->server_id;
                approval.client_email = account->client_email;
                approval.client_uuid = account->client_uuid;
                approval.sub_id = account->sub_id;
                approval.target_expires_at =
                    accounts::renewed_expiry(now, account->expires_at, plan->spec.duration_days);
                const auto quota = plan->spec.traffic_bytes;
                if (options_.renewal_resets_traffic || quota == 0 || account->traffic_limit_bytes == 0) {
                    approval.target_traffic_bytes = options_.renewal_resets_traffic ? quota : 0;
                } else {
                    approval.target_traffic_bytes = account->traffic_limit_bytes + quota;
                }
            }
            return orders_.approve(c, id, admin, approval);
        });
    });
}

boost::asio::awaitable<Outcome<std::optional<Fulfilment>>> Provisioner::fail_provisioning(
    OrderId id, std::string message) {
    co_await db_.run([&, id](db::Connection& c) { orders_.record_provision_failure(c, id, message); });
    co_return fail(ErrorCode::gateway, std::move(message));
}

Outcome<Order> Provisioner::place(db::Connection& connection, OrderId id) {
    auto placed = db::in_transaction(connection, [&](db::Connection& c) -> Outcome<Order> {
        auto order = orders_.get(c, id);
        auto placed = pick_server_in(c, order ? order->location : std::nullopt);
        if (!placed) return common::unexpected(placed.error());
        const auto now = to_timestamp(clock_.now());
        c.exec(
            "UPDATE orders SET server_id = ?, updated_at = ? "
            "WHERE id = ? AND status = 'approved' AND server_id IS NULL",
            placed->server, now, id);
        return *orders_.get(c, id);
    });
    if (!placed) orders_.record_provision_failure(connection, id, placed.error().message);
    return placed;
}

boost::asio::awaitable<Outcome<Fulfilment>> Provisioner::fulfil(OrderId id,
                                                                std::optional<DiscordId> approver) {
    // A move (account_moves) can switch a renewed account to another server between the panel
    // call and the commit; each attempt starts from where the account is then.
    constexpr int kAttempts = 3;
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
        auto done = co_await fulfil_once(id, approver);
        if (!done) co_return common::unexpected(done.error());
        if (*done) co_return std::move(**done);
        spdlog::info("order {}: the account moved to another server while it was renewed; renewing it there",
                     id.value);
    }
    co_return fail(ErrorCode::conflict,
                   "the account kept moving between servers; the renewal is retried later");
}

boost::asio::awaitable<Outcome<std::optional<Fulfilment>>> Provisioner::fulfil_once(
    OrderId id, std::optional<DiscordId> approver) {
    auto loaded = co_await db_.run([&, id](db::Connection& c) -> Outcome<Loaded> {
        auto order = orders_.get(c, id);
        if (!order) return fail(ErrorCode::not_found, "no such order");
        if (order->status == OrderStatus::approved && order->kind == OrderKind::new_access &&
            !order->server_id) {
            auto placed = place(c, id);
            if (!placed) return common::unexpected(placed.error());
            order = std::move(*placed);
        }
        if (order->status == OrderStatus::fulfilled && order->account_id) {
            auto account = accounts::get(c, *order->account_id);
            auto server = catalog_.server(c, account->server_id);
            return Loaded{*order, *server, account->device_limit, Fulfilment{*order, *account, std::nullopt}};
        }
        if (order->status != OrderStatus::approved || !order->server_id || !order->client_email ||
            !order->client_uuid || !order->target_expires_at) {
            return fail(ErrorCode::invalid_transition, "order " + order->reference + " is " +
                                                           std::string(to_string(order->status)) +
                                                           "; there is nothing to provision");
        }
        if (order->kind != OrderKind::new_access && order->account_id) {
            // A renewal changes the client the account has now: a move since the approval took it
            // to another server.
            auto account = accounts::get(c, *order->account_id);
            if (account && account->client_email != *order->client_email) {
                c.exec(
                    "UPDATE orders SET server_id = ?, client_email = ?, updated_at = ? "
                    "WHERE id = ? AND status = 'approved'",
                    account->server_id, account->client_email, to_timestamp(clock_.now()), id);
                order = orders_.get(c, id);
                if (!order || order->status != OrderStatus::approved)
                    return fail(ErrorCode::conflict, "the order changed while it was provisioned");
            }
        }
        auto server = catalog_.server(c, *order->server_id);
        if (!server) return fail(ErrorCode::not_found, "the order's server no longer exists");
        auto plan = catalog_.plan(c, order->plan_id);
        return Loaded{*order, *server, plan ? plan->spec.device_limit : 1, std::nullopt};
    });
    if (!loaded) co_return common::unexpected(loaded.error());
    if (loaded->already) co_return std::optional<Fulfilment>(std::move(*loaded->already));

    const Order& order = loaded->order;
    GatewayClient& gateway = gateways_.gateway_for(loaded->server);
    const std::string email = *order.client_email;
    const std::int64_t expiry_ms = to_ms(*order.target_expires_at);
    const std::int64_t total_bytes = order.target_traffic_bytes.value_or(0);
    std::optional<ClientLinks> links;

    if (order.kind == OrderKind::new_access) {
        NewClient spec{loaded->server.spec.inbound_id, email,           *order.client_uuid,
                       order.sub_id.value_or(""),      total_bytes,     expiry_ms,
                       loaded->device_limit,           order.reference, true};
        auto created = co_await gateway.create_client(spec);
        if (!created && created.error().code == GatewayErrorCode::conflict) {
            // The email exists: ours from an earlier attempt (same uuid) or a stranger's.
            auto existing = co_await gateway.get_client(email);
            if (existing && existing->client.uuid == *order.client_uuid) {
                created = std::move(existing);
            } else {
                co_return co_await fail_provisioning(id, "the panel already has client " + email +
                                                             " with another UUID; an admin must resolve it");
            }
        }
        if (!created) co_return co_await fail_provisioning(id, describe(created.error()));
        links = created->links;
    } else {
        auto updated = co_await gateway.update_client(
            email, ClientChange{expiry_ms, total_bytes, loaded->device_limit, true});
        if (!updated) co_return co_await fail_provisioning(id, describe(updated.error()));
        if (options_.renewal_resets_traffic) {
            auto reset = co_await gateway.reset_traffic(email);
            if (!reset) co_return co_await fail_provisioning(id, describe(reset.error()));
        }
    }

    co_return co_await db_.run([&, id](db::Connection& c) -> Outcome<std::optional<Fulfilment>> {
        try {
            return db::in_transaction(c, [&](db::Connection& t) -> Outcome<std::optional<Fulfilment>> {
                auto current = orders_.get(t, id);
                if (current->status == OrderStatus::fulfilled && current->account_id) {
                    return std::optional<Fulfilment>{
                        Fulfilment{*current, *accounts::get(t, *current->account_id), links}};
                }
                const auto now = to_timestamp(clock_.now());
                AccountId account_id;
                nlohmann::json before = nullptr;
                if (current->kind == OrderKind::new_access) {
                    account_id = *t.scalar<AccountId>(
                        "INSERT INTO vpn_accounts (user_id, server_id, order_id, plan_id, client_email, "
                        "client_uuid, "
                        "sub_id, inbound_id, traffic_limit_bytes, device_limit, expires_at, status, "
                        "created_at, "
                        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?) RETURNING id",
                        current->user_id, loaded->server.id, id, current->plan_id, email,
                        *current->client_uuid, current->sub_id.value_or(""), loaded->server.spec.inbound_id,
                        total_bytes, loaded->device_limit, *current->target_expires_at, now, now);
                } else {
                    account_id = *current->account_id;
                    const auto account = accounts::get(t, account_id);
                    // Moved meanwhile: the renewal went to a client the account no longer uses.
                    if (account && account->client_email != email) return std::optional<Fulfilment>{};
                    before = to_json(*account);
                    const bool reset = options_.renewal_resets_traffic;
                    t.exec(
                        "UPDATE vpn_accounts SET expires_at = ?, traffic_limit_bytes = ?, device_limit = ?, "
                        "status = 'active', traffic_alert_level = 0, expiry_alert_level = 0, plan_id = ?, "
                        "used_up_bytes = CASE WHEN ? = 1 THEN 0 ELSE used_up_bytes END, "
                        "used_down_bytes = CASE WHEN ? = 1 THEN 0 ELSE used_down_bytes END, updated_at = ? "
                        "WHERE id = ?",
                        *current->target_expires_at, total_bytes, loaded->device_limit, current->plan_id,
                        reset, reset, now, account_id);
                }
                auto done = orders_.mark_fulfilled(t, id, account_id);
                if (!done) return common::unexpected(done.error());
                // What the customer must now receive, in the same transaction: a crash from here on
                // delays the delivery, never loses it.
                deliveries::record(t, id, approver, now);
                auto account = *accounts::get(t, account_id);
                record_audit(t,
                             {Actor::system().text(),
                              current->kind == OrderKind::new_access ? "account.created" : "account.renewed",
                              "account", std::to_string(account_id.value), before, to_json(account)},
                             now);
                return std::optional<Fulfilment>{Fulfilment{std::move(*done), std::move(account), links}};
            });
        } catch (const db::DbError& error) {
            // A concurrent fulfil of the same order inserted the account first.
            if (error.code() != db::DbErrorCode::unique_violation) throw;
            auto current = orders_.get(c, id);
            if (current && current->status == OrderStatus::fulfilled && current->account_id) {
                return std::optional<Fulfilment>{
                    Fulfilment{*current, *accounts::get(c, *current->account_id), links}};
            }
            throw;
        }
    });
}

boost::asio::awaitable<Outcome<Fulfilment>> Provisioner::approve_and_fulfil(OrderId id, DiscordId admin) {
    auto approved = co_await approve(id, admin);
    if (!approved) co_return common::unexpected(approved.error());
    co_return co_await fulfil(id, admin);
}

boost::asio::awaitable<ReconcileReport> Provisioner::reconcile() {
    auto pending = co_await db_.run(
        [&](db::Connection& c) { return orders_.with_status(c, OrderStatus::approved, 1000); });
    ReconcileReport report;
    for (const auto& order : pending) {
        auto result = co_await fulfil(order.id);
        if (result) {
            ++report.fulfilled;
        } else {
            ++report.failed;
            report.errors.emplace_back(order.id, result.error());
        }
    }
    co_return report;
}

// ---- AccountOperations ----

boost::asio::awaitable<Outcome<AccountOperations::Target>> AccountOperations::load(AccountId id) {
    co_return co_await db_.run([&, id](db::Connection& c) -> Outcome<Target> {
        auto account = accounts::get(c, id);
        if (!account) return fail(ErrorCode::not_found, "no such account");
        if (account->status == AccountStatus::deleted)
            return fail(ErrorCode::invalid_transition, "the account was deleted");
        auto server = catalog_.server(c, account->server_id);
        if (!server) return fail(ErrorCode::not_found, "the account's server no longer exists");
        return Target{std::move(*account), std::move(*server)};
    });
}

boost::asio::awaitable<Outcome<Account>> AccountOperations::apply(
    AccountId id, Actor actor, std::string action, std::function<Outcome<Change>(const Target&)> plan) {
    // A move switches an account at most once per attempt here; three tries cover a move finishing
    // while a change is under way, and a change never loops forever.
    constexpr int kAttempts = 3;
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
        auto target = co_await load(id);
        if (!target) co_return common::unexpected(target.error());
        auto change = plan(*target);
        if (!change) co_return common::unexpected(change.error());
        auto& gateway = gateways_.gateway_for(target->server);
        const std::string& email = target->account.client_email;
        switch (change->call) {
            case Change::PanelCall::update:
                if (auto changed = co_await gateway.update_client(email, change->client); !changed)
                    co_return fail(ErrorCode::gateway, describe(changed.error()));
                break;
            case Change::PanelCall::remove:
                if (auto deleted = co_await gateway.delete_client(email); !deleted)
                    co_return fail(ErrorCode::gateway, describe(deleted.error()));
                break;
            case Change::PanelCall::reset_traffic:
                if (auto reset = co_await gateway.reset_traffic(email); !reset)
                    co_return fail(ErrorCode::gateway, describe(reset.error()));
                break;
        }
        auto committed = co_await db_.run([&](db::Connection& c) -> Outcome<std::optional<Account>> {
            return db::in_transaction(c, [&](db::Connection& t) -> Outcome<std::optional<Account>> {
                auto before = accounts::get(t, id);
                if (!before) return fail(ErrorCode::not_found, "no such account");
                // Moved meanwhile: the panel change went to a client the account no longer uses.
                if (before->client_email != email) return std::optional<Account>{};
                const auto now = to_timestamp(clock_.now());
                change->update(t, now);
                auto after = *accounts::get(t, id);
                record_audit(t,
                             {actor.text(), action, "account", std::to_string(id.value), to_json(*before),
                              to_json(after)},
                             now);
                return std::optional<Account>{std::move(after)};
            });
        });
        if (!committed) co_return common::unexpected(committed.error());
        if (*committed) co_return std::move(**committed);
        spdlog::info("account {}: moved to another server during {}; making the change again", id.value,
                     action);
    }
    co_return fail(ErrorCode::conflict, "the account kept moving between servers; try again");
}

boost::asio::awaitable<Outcome<Account>> AccountOperations::extend(AccountId id, int days, Actor actor) {
    if (days <= 0 || days > 3650) co_return fail(ErrorCode::validation, "extend by 1 to 3650 days");
    co_return co_await apply(id, actor, "account.extended", [&](const Target& target) -> Outcome<Change> {
        const auto expiry =
            accounts::renewed_expiry(to_timestamp(clock_.now()), target.account.expires_at, days);
        return Change{Change::PanelCall::update,
                      ClientChange{to_ms(expiry), std::nullopt, std::nullopt, true},
                      [expiry, id](db::Connection& c, Timestamp now) {
                          c.exec(
                              "UPDATE vpn_accounts SET expires_at = ?, status = 'active', "
                              "expiry_alert_level = 0, updated_at = ? "
                              "WHERE id = ?",
                              expiry, now, id);
                      }};
    });
}

boost::asio::awaitable<Outcome<Account>> AccountOperations::set_enabled(AccountId id, bool enabled,
                                                                        Actor actor) {
    const auto status = enabled ? AccountStatus::active : AccountStatus::disabled;
    co_return co_await apply(
        id, actor, enabled ? "account.enabled" : "account.disabled", [&](const Target&) -> Outcome<Change> {
            return Change{Change::PanelCall::update,
                          ClientChange{std::nullopt, std::nullopt, std::nullopt, enabled},
                          [status, id](db::Connection& c, Timestamp now) {
                              c.exec("UPDATE vpn_accounts SET status = ?, updated_at = ? WHERE id = ?",
                                     status, now, id);
                          }};
        });
}

boost::asio::awaitable<Outcome<Account>> AccountOperations::remove(AccountId id, Actor actor) {
    co_return co_await apply(id, actor, "account.deleted", [&](const Target&) -> Outcome<Change> {
        return Change{Change::PanelCall::remove, {}, [id](db::Connection& c, Timestamp now) {
                          c.exec("UPDATE vpn_accounts SET status = 'deleted', updated_at = ? WHERE id = ?",
                                 now, id);
                      }};
    });
}

boost::asio::awaitable<Outcome<Account>> AccountOperations::reset_traffic(AccountId id, Actor actor) {
    co_return co_await apply(id, actor, "account.traffic_reset", [&](const Target&) -> Outcome<Change> {
        return Change{Change::PanelCall::reset_traffic, {}, [id](db::Connection& c, Timestamp now) {
                          c.exec(
                              "UPDATE vpn_accounts SET used_up_bytes = 0, used_down_bytes = 0, "
                              "traffic_alert_level = 0, updated_at = ? WHERE id = ?",
                              now, id);
                      }};
    });
}

boost::asio::awaitable<Outcome<Account>> AccountOperations::change_plan(AccountId id, PlanId plan_id,
                                                                        bool from_expiry, Actor actor) {
    auto plan = co_await db_.run([&](db::Connection& c) { return catalog_.plan(c, plan_id); });
    if (!plan) co_return fail(ErrorCode::not_found, "no such plan");
    const auto traffic = plan->spec.traffic_bytes;
    const int devices = plan->spec.device_limit;
    const int days = plan->spec.duration_days;
    co_return co_await apply(id, actor, "account.plan_changed", [&](const Target& target) -> Outcome<Change> {
        const auto now = to_timestamp(clock_.now());
        const auto expiry = from_expiry ? accounts::renewed_expiry(now, target.account.expires_at, days)
                                        : now + std::chrono::days(days);
        const bool enable = target.account.status != AccountStatus::disabled;
        return Change{Change::PanelCall::update, ClientChange{to_ms(expiry), traffic, devices, enable},
                      [plan_id, traffic, devices, expiry, id](db::Connection& c, Timestamp at) {
                          c.exec(
                              "UPDATE vpn_accounts SET plan_id = ?, traffic_limit_bytes = ?, "
                              "device_limit = ?, expires_at = ?, "
                              "status = CASE WHEN status = 'expired' THEN 'active' ELSE status END, "
                              "traffic_alert_level = 0, "
                              "expiry_alert_level = 0, updated_at = ? WHERE id = ?",
                              plan_id, traffic, devices, expiry, at, id);
                      }};
    });
}

boost::asio::awaitable<Outcome<ClientWithLinks>> AccountOperations::show_config(AccountId id) {
    auto target = co_await load(id);
    if (!target) co_return common::unexpected(target.error());
    auto& gateway = gateways_.gateway_for(target->server);
    auto client = co_await gateway.get_client(target->account.client_email);
    if (!client) co_return fail(ErrorCode::gateway, describe(client.error()));
    co_return std::move(*client);
}

boost::asio::awaitable<Outcome<Account>> AccountOperations::refresh_usage(AccountId id) {
    auto target = co_await load(id);
    if (!target) co_return common::unexpected(target.error());
    auto& gateway = gateways_.gateway_for(target->server);
    auto client = co_await gateway.get_client(target->account.client_email);
    if (!client) co_return fail(ErrorCode::gateway, describe(client.error()));
    const auto up = client->client.up;
    const auto down = client->client.down;
    const auto now = to_timestamp(clock_.now());
    co_return co_await db_.run([&, id](db::Connection& c) -> Outcome<Account> {
        accounts::record_usage(c, id, up, down, now);
        auto after = accounts::get(c, id);
        if (!after) return fail(ErrorCode::not_found, "no such account");
        return std::move(*after);
    });
}

}  // namespace nebula::bot::domain
