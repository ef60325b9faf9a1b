#include "bot/domain/account_moves.hpp"

#include <algorithm>

#include "bot/domain/accounts.hpp"
#include "bot/domain/audit.hpp"
#include "bot/domain/load_balancer.hpp"
#include "bot/domain/provisioning.hpp"
#include "common/crypto.hpp"

#include <spdlog/spdlog.h>

namespace nebula::bot::domain {
namespace {

constexpr std::size_t kSubIdLength = 16;

constexpr std::string_view kSelect =
    "SELECT id, account_id, from_server_id, to_server_id, old_client_email, new_client_email, "
    "new_client_uuid, new_sub_id, new_inbound_id, traffic_limit_bytes, state, actor, attempts, last_error, "
    "created_at, switched_at, told_at, done_at FROM account_moves ";

MoveState parse_move_state(std::string_view text) {
    if (text == "switched") return MoveState::switched;
    if (text == "told") return MoveState::told;
    if (text == "done") return MoveState::done;
    return MoveState::creating;
}

std::vector<AccountMove> read_moves(db::Statement& rows) {
    std::vector<AccountMove> out;
    while (rows.step()) {
        AccountMove m;
        int i = 0;
        m.id = rows.get<std::int64_t>(i++);
        m.account = rows.get<AccountId>(i++);
        m.from_server = rows.get<ServerId>(i++);
        m.to_server = rows.get<ServerId>(i++);
        m.old_client_email = rows.get<std::string>(i++);
        m.new_client_email = rows.get<std::string>(i++);
        m.new_client_uuid = rows.get<std::string>(i++);
        m.new_sub_id = rows.get<std::string>(i++);
        m.new_inbound_id = rows.get<int>(i++);
        m.traffic_limit_bytes = rows.get<std::int64_t>(i++);
        m.state = parse_move_state(rows.get<std::string>(i++));
        m.actor = rows.get<DiscordId>(i++);
        m.attempts = rows.get<int>(i++);
        m.last_error = rows.get<std::optional<std::string>>(i++);
        m.created_at = rows.get<Timestamp>(i++);
        m.switched_at = rows.get<std::optional<Timestamp>>(i++);
        m.told_at = rows.get<std::optional<Timestamp>>(i++);
        m.done_at = rows.get<std::optional<Timestamp>>(i++);
        out.push_back(std::move(m));
    }
    return out;
}

std::int64_t to_ms(Timestamp t) { return epoch_seconds(t) * 1000; }

/// What a step needs: the move, the account and the server the step talks to.
struct Step {
    AccountMove move;
    Account account;
    Server server;
};

/// The quota a new client gets: what is left of the account's (0: unlimited). A used-up quota
/// stays used up (1 byte), never 0, which would be unlimited.
std::int64_t remaining_quota(const Account& account) {
    if (account.traffic_limit_bytes <= 0) return 0;
    const auto used = account.used_up_bytes + account.used_down_bytes;
    return std::max<std::int64_t>(account.traffic_limit_bytes - used, 1);
}

/// Whether a client made from the account as it was in `made` still carries its terms as they
/// are in `now` (a renewal, an extension or a ban in between changes them).
bool same_terms(const Account& made, const Account& now) {
    return made.client_email == now.client_email && made.expires_at == now.expires_at &&
           made.status == now.status && made.device_limit == now.device_limit &&
           remaining_quota(made) == remaining_quota(now);
}

}  // namespace

std::string_view to_string(MoveState state) {
    switch (state) {
        case MoveState::creating:
            return "creating";
        case MoveState::switched:
            return "switched";
        case MoveState::told:
            return "told";
        case MoveState::done:
            return "done";
    }
    return "creating";
}

nlohmann::json to_json(const AccountMove& m) {
    return {{"id", m.id},
            {"account_id", m.account.value},
            {"from_server_id", m.from_server.value},
            {"to_server_id", m.to_server.value},
            {"old_client_email", m.old_client_email},
            {"new_client_email", m.new_client_email},
            {"traffic_limit_bytes", m.traffic_limit_bytes},
            {"state", to_string(m.state)}};
}

std::string moved_client_email(OrderId order, std::int64_t move) {
    return client_email_for(order) + "-m" + std::to_string(move);
}

namespace moves {

std::optional<AccountMove> get(db::Connection& connection, std::int64_t id) {
    auto rows = connection.query(std::string(kSelect) + "WHERE id = ?", id);
    auto found = read_moves(*rows);
    if (found.empty()) return std::nullopt;
    return std::move(found.front());
}

std::vector<AccountMove> open(db::Connection& connection) {
    auto rows = connection.query(std::string(kSelect) + "WHERE state <> 'done' ORDER BY id");
    return read_moves(*rows);
}

void mark_told(db::Connection& connection, std::int64_t id, Timestamp now, std::optional<std::string> note) {
    connection.exec(
        "UPDATE account_moves SET state = 'told', told_at = ?, updated_at = ?, "
        "last_error = COALESCE(?, last_error) WHERE id = ? AND state = 'switched'",
        now, now, note, id);
}

void record_failure(db::Connection& connection, std::int64_t id, const std::string& error, Timestamp now) {
    connection.exec(
        "UPDATE account_moves SET attempts = attempts + 1, last_error = ?, updated_at = ? WHERE id = ?",
        error, now, id);
}

}  // namespace moves

boost::asio::awaitable<Outcome<AccountMove>> AccountMover::start(AccountId account_id, ServerId to,
                                                                 DiscordId actor) {
    co_return co_await db_.run([&](db::Connection& connection) -> Outcome<AccountMove> {
        try {
            return db::in_transaction(connection, [&](db::Connection& c) -> Outcome<AccountMove> {
                auto account = accounts::get(c, account_id);
                if (!account) return fail(ErrorCode::not_found, "no such account");
                if (account->status == AccountStatus::deleted)
                    return fail(ErrorCode::invalid_transition, "the account was deleted");
                auto target = catalog_.server(c, to);
                if (!target) return fail(ErrorCode::not_found, "no such server");
                if (account->server_id == to)
                    return fail(ErrorCode::validation, "the account is on " + target->spec.name + " already");
                if (auto rows = c.query(
                        "SELECT id FROM account_moves WHERE account_id = ? AND state <> 'done'", account_id);
                    rows->step()) {
                    return fail(ErrorCode::conflict, "move #" + std::to_string(rows->get<std::int64_t>(0)) +
                                                         " of this account is still under way");
                }
                // The target's slot is taken by this move from now on, under the placement lock.
                take_placement_lock(c);
                const auto loads = server_loads(c);
                const auto load =
                    std::find_if(loads.begin(), loads.end(), [&](const ServerLoad& l) { return l.id == to; });
                if (load == loads.end() || !load->has_room()) {
                    return fail(ErrorCode::no_capacity,
                                target->spec.name + " is disabled, down or full; pick another server");
                }
                const std::int64_t quota = remaining_quota(*account);
                const auto now = to_timestamp(clock_.now());
                const auto id = *c.scalar<std::int64_t>(
                    "INSERT INTO account_moves (account_id, from_server_id, to_server_id, old_client_email, "
                    "new_client_email, new_client_uuid, new_sub_id, new_inbound_id, traffic_limit_bytes, "
                    "state, actor, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'creating', ?, ?, ?) RETURNING id",
                    account_id, account->server_id, to, account->client_email,
                    // A placeholder until the id is known: unique because the uuid is.
                    "moving-" + common::uuid_v4(), common::uuid_v4(), common::random_alnum(kSubIdLength),
                    target->spec.inbound_id, quota, actor, now, now);
                c.exec("UPDATE account_moves SET new_client_email = ? WHERE id = ?",
                       moved_client_email(account->order_id, id), id);
                auto move = *moves::get(c, id);
                record_audit(c,
                             {actor.str(), "account.move_started", "account",
                              std::to_string(account_id.value), to_json(*account), to_json(move)},
                             now);
                return move;
            });
        } catch (const db::DbError& error) {
            // Two moves of the same account at once: the one-open-move index refused the second.
            if (error.code() != db::DbErrorCode::unique_violation) throw;
            return fail(ErrorCode::conflict, "a move of this account is already under way");
        }
    });
}

boost::asio::awaitable<Outcome<MovedAccount>> AccountMover::failed(std::int64_t id, std::string message) {
    const auto now = to_timestamp(clock_.now());
    co_await db_.run([&](db::Connection& c) { moves::record_failure(c, id, message, now); });
    co_return fail(ErrorCode::gateway, std::move(message));
}

boost::asio::awaitable<Outcome<MovedAccount>> AccountMover::create(std::int64_t id) {
    // The account can change while its new client is made (a renewal, an admin's extension, a
    // ban, the traffic job): the switch happens only when the new client carries the account's
    // terms as they are at the switch; otherwise the client is brought up to date and the switch
    // tried again.
    constexpr int kAttempts = 3;
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
        auto step = co_await db_.run([&](db::Connection& c) -> Outcome<Step> {
            auto move = moves::get(c, id);
            if (!move) return fail(ErrorCode::not_found, "no such move");
            auto account = accounts::get(c, move->account);
            auto server = catalog_.server(c, move->to_server);
            if (!account || !server)
                return fail(ErrorCode::not_found, "the account or its new server is gone");
            return Step{std::move(*move), std::move(*account), std::move(*server)};
        });
        if (!step) co_return common::unexpected(step.error());
        if (step->move.state != MoveState::creating)
            co_return MovedAccount{std::move(step->move), std::nullopt};

        const auto& move = step->move;
        const auto& account = step->account;
        const std::int64_t quota = remaining_quota(account);
        const bool enable = account.status == AccountStatus::active;
        GatewayClient& gateway = gateways_.gateway_for(step->server);
        // The same email and UUID on every attempt: a repeated create is success, never a second client.
        NewClient spec{move.new_inbound_id,
                       move.new_client_email,
                       move.new_client_uuid,
                       move.new_sub_id,
                       quota,
                       to_ms(account.expires_at),
                       account.device_limit,
                       order_reference(account.order_id),
                       enable};
        auto created = co_await gateway.create_client(spec);
        if (!created && created.error().code == GatewayErrorCode::conflict) {
            auto existing = co_await gateway.get_client(move.new_client_email);
            if (!existing || existing->client.uuid != move.new_client_uuid) {
                co_return co_await failed(id, "the panel already has client " + move.new_client_email +
                                                  " with another UUID; an admin must resolve it");
            }
            created = std::move(existing);
        }
        if (!created) co_return co_await failed(id, describe(created.error()));
        // A repeated create answers with the client an earlier attempt made, perhaps from older
        // terms (a renewal or an extension since): it gets the account's terms as they are now.
        const auto& made = created->client;
        if (made.expiry_ms != spec.expiry_ms || made.total_bytes != spec.total_bytes ||
            made.limit_ip != spec.limit_ip || made.enable != spec.enable) {
            auto updated = co_await gateway.update_client(
                move.new_client_email,
                ClientChange{spec.expiry_ms, spec.total_bytes, spec.limit_ip, spec.enable});
            if (!updated) co_return co_await failed(id, describe(updated.error()));
        }
        auto links = created->links;

        auto switched = co_await db_.run([&](db::Connection& connection)
                                             -> Outcome<std::optional<MovedAccount>> {
            return db::in_transaction(
                connection, [&](db::Connection& c) -> Outcome<std::optional<MovedAccount>> {
                    auto current = moves::get(c, id);
                    if (!current) return fail(ErrorCode::not_found, "no such move");
                    if (current->state != MoveState::creating)
                        return std::optional<MovedAccount>{MovedAccount{std::move(*current), links}};
                    const auto before = accounts::get(c, current->account);
                    if (!before || !same_terms(account, *before)) return std::optional<MovedAccount>{};
                    const auto now = to_timestamp(clock_.now());
                    c.exec(
                        "UPDATE vpn_accounts SET server_id = ?, client_email = ?, client_uuid = ?, sub_id = "
                        "?, "
                        "inbound_id = ?, traffic_limit_bytes = ?, used_up_bytes = 0, used_down_bytes = 0, "
                        "traffic_alert_level = 0, traffic_synced_at = NULL, updated_at = ? WHERE id = ?",
                        current->to_server, current->new_client_email, current->new_client_uuid,
                        current->new_sub_id, current->new_inbound_id, quota, now, current->account);
                    c.exec(
                        "UPDATE account_moves SET state = 'switched', traffic_limit_bytes = ?, switched_at = "
                        "?, "
                        "updated_at = ?, last_error = NULL WHERE id = ? AND state = 'creating'",
                        quota, now, now, id);
                    auto after = accounts::get(c, current->account);
                    record_audit(c,
                                 {Actor::system().text(), "account.moved", "account",
                                  std::to_string(current->account.value), to_json(*before),
                                  after ? to_json(*after) : nlohmann::json(nullptr)},
                                 now);
                    return std::optional<MovedAccount>{MovedAccount{*moves::get(c, id), links}};
                });
        });
        if (!switched) co_return common::unexpected(switched.error());
        if (*switched) co_return std::move(**switched);
        spdlog::info(
            "move #{}: the account changed while its new client was made; bringing the client up to date",
            id);
    }
    co_return co_await failed(id,
                              "the account kept changing while its new client was made; tried again later");
}

boost::asio::awaitable<Outcome<AccountMove>> AccountMover::remove_old(std::int64_t id) {
    auto loaded = co_await db_.run([&](db::Connection& c) -> Outcome<std::pair<AccountMove, Server>> {
        auto move = moves::get(c, id);
        if (!move) return fail(ErrorCode::not_found, "no such move");
        auto server = catalog_.server(c, move->from_server);
        if (!server) return fail(ErrorCode::not_found, "the old server is gone");
        return std::make_pair(std::move(*move), std::move(*server));
    });
    if (!loaded) co_return common::unexpected(loaded.error());
    auto& [move, server] = *loaded;
    if (move.state == MoveState::done) co_return move;
    if (move.state != MoveState::told) {
        co_return fail(ErrorCode::invalid_transition,
                       "move #" + std::to_string(id) + " is " + std::string(to_string(move.state)) +
                           "; the old client stays until the customer has the new link");
    }
    auto deleted = co_await gateways_.gateway_for(server).delete_client(move.old_client_email);
    if (!deleted && deleted.error().code != GatewayErrorCode::not_found) {
        auto error = describe(deleted.error());
        co_await failed(id, error);
        co_return fail(ErrorCode::gateway, std::move(error));
    }
    co_return co_await db_.run([&](db::Connection& connection) -> Outcome<AccountMove> {
        return db::in_transaction(connection, [&](db::Connection& c) -> Outcome<AccountMove> {
            auto current = moves::get(c, id);
            if (!current || current->state != MoveState::told) return *current;
            const auto now = to_timestamp(clock_.now());
            c.exec(
                "UPDATE account_moves SET state = 'done', done_at = ?, updated_at = ? WHERE id = ? AND state "
                "= "
                "'told'",
                now, now, id);
            auto after = *moves::get(c, id);
            record_audit(c,
                         {Actor::system().text(), "account.move_finished", "account",
                          std::to_string(after.account.value), std::nullopt, to_json(after)},
                         now);
            return after;
        });
    });
}

}  // namespace nebula::bot::domain
