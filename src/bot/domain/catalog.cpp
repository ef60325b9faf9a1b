#include "bot/domain/catalog.hpp"

#include <cctype>

#include "bot/domain/audit.hpp"
#include "common/crypto.hpp"

namespace nebula::bot::domain {
namespace {

constexpr std::int64_t kMaxTrafficBytes = std::int64_t{1} << 50;  // 1 PiB

constexpr std::string_view kPlanSelect =
    "SELECT id, name, duration_days, traffic_bytes, device_limit, price_piasters, sort_order, active, "
    "name_ar FROM plans ";
constexpr std::string_view kServerSelect =
    "SELECT id, name, location, gateway_url, gateway_key, tls_pin_sha256, inbound_id, capacity, weight, "
    "enabled, "
    "health, last_seen_at FROM servers ";
constexpr std::string_view kMethodSelect =
    "SELECT id, code, name_en, name_ar, account, instructions_en, instructions_ar, enabled, sort_order "
    "FROM payment_methods ";

std::vector<Plan> read_plans(db::Statement& rows) {
    std::vector<Plan> plans;
    while (rows.step()) {
        Plan plan;
        plan.id = rows.get<PlanId>(0);
        plan.spec.name = rows.get<std::string>(1);
        plan.spec.duration_days = rows.get<int>(2);
        plan.spec.traffic_bytes = rows.get<std::int64_t>(3);
        plan.spec.device_limit = rows.get<int>(4);
        plan.spec.price = rows.get<Piasters>(5);
        plan.spec.sort_order = rows.get<int>(6);
        plan.active = rows.get<bool>(7);
        plan.spec.name_ar = rows.get<std::string>(8);
        plans.push_back(std::move(plan));
    }
    return plans;
}

std::vector<Server> read_servers(db::Statement& rows) {
    std::vector<Server> servers;
    while (rows.step()) {
        Server server;
        server.id = rows.get<ServerId>(0);
        server.spec.name = rows.get<std::string>(1);
        server.spec.location = rows.get<std::string>(2);
        server.spec.gateway_url = rows.get<std::string>(3);
        server.spec.gateway_key = rows.get<std::string>(4);
        server.spec.tls_pin_sha256 = rows.get<std::string>(5);
        server.spec.inbound_id = rows.get<int>(6);
        server.spec.capacity = rows.get<int>(7);
        server.spec.weight = rows.get<int>(8);
        server.enabled = rows.get<bool>(9);
        server.health = parse_server_health(rows.get<std::string>(10));
        server.last_seen_at = rows.get<std::optional<Timestamp>>(11);
        servers.push_back(std::move(server));
    }
    return servers;
}

std::vector<PaymentMethod> read_methods(db::Statement& rows) {
    std::vector<PaymentMethod> methods;
    while (rows.step()) {
        PaymentMethod method;
        method.id = rows.get<PaymentMethodId>(0);
        method.code = rows.get<std::string>(1);
        method.name_en = rows.get<std::string>(2);
        method.name_ar = rows.get<std::string>(3);
        method.account = rows.get<std::string>(4);
        method.instructions_en = rows.get<std::string>(5);
        method.instructions_ar = rows.get<std::string>(6);
        method.enabled = rows.get<bool>(7);
        method.sort_order = rows.get<int>(8);
        methods.push_back(std::move(method));
    }
    return methods;
}

// https://host[:port][/] — the gateway's origin. Plain http is refused: the key signs requests
// but does not hide the VLESS links in responses.
bool is_gateway_url(std::string_view url) {
    if (!url.starts_with("https://")) return false;
    auto rest = url.substr(8);
    if (rest.ends_with('/')) rest.remove_suffix(1);
    if (rest.empty() || rest.find_first_of("/?#@ ") != std::string_view::npos) return false;
    const auto colon = rest.rfind(':');
    if (colon != std::string_view::npos && rest.front() != '[') {
        const auto port = rest.substr(colon + 1);
        if (port.empty() || port.size() > 5 ||
            port.find_first_not_of("0123456789") != std::string_view::npos) {
            return false;
        }
        if (std::stoi(std::string(port)) == 0 || std::stoi(std::string(port)) > 65535) return false;
        if (colon == 0) return false;
    }
    return true;
}

/// The input as stored: the pin in its one normal form (validated inputs only).
ServerInput normalized(ServerInput input) {
    input.tls_pin_sha256 = common::normalize_sha256_pin(input.tls_pin_sha256).value_or("");
    return input;
}

bool is_unique_violation(const db::DbError& error) {
    return error.code() == db::DbErrorCode::unique_violation;
}

}  // namespace

nlohmann::json to_json(const Plan& plan) {
    return {{"id", plan.id.value},
            {"name", plan.spec.name},
            {"name_ar", plan.spec.name_ar},
            {"duration_days", plan.spec.duration_days},
            {"traffic_bytes", plan.spec.traffic_bytes},
            {"device_limit", plan.spec.device_limit},
            {"price_piasters", plan.spec.price.value},
            {"sort_order", plan.spec.sort_order},
            {"active", plan.active}};
}

nlohmann::json to_json(const Server& server) {
    return {{"id", server.id.value},
            {"name", server.spec.name},
            {"location", server.spec.location},
            {"gateway_url", server.spec.gateway_url},
            {"tls_pin_sha256", server.spec.tls_pin_sha256},
            {"inbound_id", server.spec.inbound_id},
            {"capacity", server.spec.capacity},
            {"weight", server.spec.weight},
            {"enabled", server.enabled},
            {"health", to_string(server.health)}};
}

nlohmann::json to_json(const PaymentMethod& method) {
    return {{"id", method.id.value},
            {"code", method.code},
            {"account", method.account},
            {"instructions_en", method.instructions_en},
            {"instructions_ar", method.instructions_ar},
            {"enabled", method.enabled}};
}

std::optional<std::string> validate(const PlanInput& input) {
    if (input.name.empty() || input.name.size() > 64) return "plan name must be 1 to 64 characters";
    if (input.name_ar.size() > 64) return "the Arabic plan name must be at most 64 characters";
    if (input.duration_days <= 0) return "plan duration must be at least 1 day";
    if (input.duration_days > 3650) return "plan duration must be at most 3650 days";
    if (input.traffic_bytes < 0) return "plan traffic cannot be negative (0 means unlimited)";
    if (input.traffic_bytes > kMaxTrafficBytes) return "plan traffic is larger than 1 PiB";
    if (input.device_limit < 0 || input.device_limit > 100)
        return "device limit must be 0 (unlimited) to 100";
    if (input.price.value < 0) return "plan price cannot be negative";
    return std::nullopt;
}

std::optional<std::string> validate(const ServerInput& input) {
    if (input.name.empty() || input.name.size() > 64) return "server name must be 1 to 64 characters";
    if (!is_gateway_url(input.gateway_url)) return "gateway URL must look like https://host:port";
    if (input.gateway_key.size() < 32) return "gateway key must be at least 32 characters";
    if (!common::normalize_sha256_pin(input.tls_pin_sha256)) {
        return "TLS pin must be " + std::string(common::kPinFormatHint) + " (or empty to trust CAs)";
    }
    if (input.inbound_id <= 0) return "inbound id must be positive";
    if (input.capacity <= 0) return "capacity must be at least 1";
    if (input.weight <= 0) return "weight must be at least 1";
    return std::nullopt;
}

Outcome<Plan> CatalogService::create_plan(db::Connection& connection, const Actor& actor,
                                          const PlanInput& input) {
    if (auto problem = validate(input)) return fail(ErrorCode::validation, *problem);
    try {
        return db::in_transaction(connection, [&](db::Connection& c) -> Outcome<Plan> {
            const auto now = to_timestamp(clock_.now());
            const auto id = c.scalar<PlanId>(
                "INSERT INTO plans (name, duration_days, traffic_bytes, device_limit, price_piasters, "
                "sort_order, "
                "active, created_at, updated_at, name_ar) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?) RETURNING id",
                input.name, input.duration_days, input.traffic_bytes, input.device_limit, input.price,
                input.sort_order, now, now, input.name_ar);
            auto created = *plan(c, *id);
            record_audit(c,
                         {actor.text(), "plan.created", "plan", std::to_string(id->value), std::nullopt,
                          to_json(created)},
                         now);
            return created;
        });
    } catch (const db::DbError& error) {
        if (is_unique_violation(error))
            return fail(ErrorCode::validation, "a plan named " + input.name + " already exists");
        throw;
    }
}

Outcome<Plan> CatalogService::update_plan(db::Connection& connection, const Actor& actor, PlanId id,
                                          const PlanInput& input) {
    if (auto problem = validate(input)) return fail(ErrorCode::validation, *problem);
    try {
        return db::in_transaction(connection, [&](db::Connection& c) -> Outcome<Plan> {
            auto before = plan(c, id);
            if (!before) return fail(ErrorCode::not_found, "no such plan");
            const auto now = to_timestamp(clock_.now());
            c.exec(
                "UPDATE plans SET name = ?, duration_days = ?, traffic_bytes = ?, device_limit = ?, "
                "price_piasters = ?, "
                "sort_order = ?, name_ar = ?, updated_at = ? WHERE id = ?",
                input.name, input.duration_days, input.traffic_bytes, input.device_limit, input.price,
                input.sort_order, input.name_ar, now, id);
            auto after = *plan(c, id);
            record_audit(c,
                         {actor.text(), "plan.updated", "plan", std::to_string(id.value), to_json(*before),
                          to_json(after)},
                         now);
            return after;
        });
    } catch (const db::DbError& error) {
        if (is_unique_violation(error))
            return fail(ErrorCode::validation, "a plan named " + input.name + " already exists");
        throw;
    }
}

Outcome<Plan> CatalogService::set_plan_active(db::Connection& connection, const Actor& actor, PlanId id,
                                              bool active) {
    return db::in_transaction(connection, [&](db::Connection& c) -> Outcome<Plan> {
        auto before = plan(c, id);
        if (!before) return fail(ErrorCode::not_found, "no such plan");
        const auto now = to_timestamp(clock_.now());
        c.exec("UPDATE plans SET active = ?, updated_at = ? WHERE id = ?", active, now, id);
        auto after = *plan(c, id);
        record_audit(c,
                     {actor.text(), active ? "plan.enabled" : "plan.disabled", "plan",
                      std::to_string(id.value), to_json(*before), to_json(after)},
                     now);
        return after;
    });
}

std::optional<Plan> CatalogService::plan(db::Connection& connection, PlanId id) {
    auto rows = connection.query(std::string(kPlanSelect) + "WHERE id = ?", id);
    auto plans = read_plans(*rows);
    if (plans.empty()) return std::nullopt;
    return plans.front();
}

std::vector<Plan> CatalogService::plans(db::Connection& connection, bool active_only) {
    auto rows = connection.query(std::string(kPlanSelect) + (active_only ? "WHERE active = 1 " : "") +
                                 "ORDER BY sort_order, id");
    return read_plans(*rows);
}

Outcome<Server> CatalogService::create_server(db::Connection& connection, const Actor& actor,
                                              const ServerInput& pasted) {
    if (auto problem = validate(pasted)) return fail(ErrorCode::validation, *problem);
    const ServerInput input = normalized(pasted);
    try {
        return db::in_transaction(connection, [&](db::Connection& c) -> Outcome<Server> {
            const auto now = to_timestamp(clock_.now());
            const auto id = c.scalar<ServerId>(
                "INSERT INTO servers (name, location, gateway_url, gateway_key, tls_pin_sha256, inbound_id, "
                "capacity, "
                "weight, enabled, health, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, "
                "'unknown', ?, ?) "
                "RETURNING id",
                input.name, input.location, input.gateway_url, input.gateway_key, input.tls_pin_sha256,
                input.inbound_id, input.capacity, input.weight, now, now);
            auto created = *server(c, *id);
            record_audit(c,
                         {actor.text(), "server.created", "server", std::to_string(id->value), std::nullopt,
                          to_json(created)},
                         now);
            return created;
        });
    } catch (const db::DbError& error) {
        if (is_unique_violation(error)) {
            return fail(ErrorCode::validation, "a server named " + input.name + " already exists");
        }
        throw;
    }
}

Outcome<Server> CatalogService::update_server(db::Connection& connection, const Actor& actor, ServerId id,
                                              const ServerInput& pasted) {
    if (auto problem = validate(pasted)) return fail(ErrorCode::validation, *problem);
    const ServerInput input = normalized(pasted);
    try {
        return db::in_transaction(connection, [&](db::Connection& c) -> Outcome<Server> {
            auto before = server(c, id);
            if (!before) return fail(ErrorCode::not_found, "no such server");
            const auto now = to_timestamp(clock_.now());
            c.exec(
                "UPDATE servers SET name = ?, location = ?, gateway_url = ?, gateway_key = ?, tls_pin_sha256 "
                "= ?, "
                "inbound_id = ?, capacity = ?, weight = ?, updated_at = ? WHERE id = ?",
                input.name, input.location, input.gateway_url, input.gateway_key, input.tls_pin_sha256,
                input.inbound_id, input.capacity, input.weight, now, id);
            auto after = *server(c, id);
            auto after_json = to_json(after);
            if (before->spec.gateway_key != after.spec.gateway_key) after_json["gateway_key_changed"] = true;
            record_audit(c,
                         {actor.text(), "server.updated", "server", std::to_string(id.value),
                          to_json(*before), after_json},
                         now);
            return after;
        });
    } catch (const db::DbError& error) {
        if (is_unique_violation(error)) {
            return fail(ErrorCode::validation, "a server named " + input.name + " already exists");
        }
        throw;
    }
}

Outcome<Server> CatalogService::set_server_enabled(db::Connection& connection, const Actor& actor,
                                                   ServerId id, bool enabled) {
    return db::in_transaction(connection, [&](db::Connection& c) -> Outcome<Server> {
        auto before = server(c, id);
        if (!before) return fail(ErrorCode::not_found, "no such server");
        const auto now = to_timestamp(clock_.now());
        c.exec("UPDATE servers SET enabled = ?, updated_at = ? WHERE id = ?", enabled, now, id);
        auto after = *server(c, id);
        record_audit(c,
                     {actor.text(), enabled ? "server.enabled" : "server.disabled", "server",
                      std::to_string(id.value), to_json(*before), to_json(after)},
                     now);
        return after;
    });
}

Outcome<Server> CatalogService::set_server_health(db::Connection& connection, ServerId id,
                                                  ServerHealth health) {
    return db::in_transaction(connection, [&](db::Connection& c) -> Outcome<Server> {
        auto before = server(c, id);
        if (!before) return fail(ErrorCode::not_found, "no such server");
        const auto now = to_timestamp(clock_.now());
        if (health == ServerHealth::up) {
            c.exec("UPDATE servers SET health = ?, last_seen_at = ?, updated_at = ? WHERE id = ?", health,
                   now, now, id);
        } else {
            c.exec("UPDATE servers SET health = ?, updated_at = ? WHERE id = ?", health, now, id);
        }
        auto after = *server(c, id);
        if (before->health != health) {
            record_audit(c,
                         {Actor::system().text(), "server.health", "server", std::to_string(id.value),
                          to_json(*before), to_json(after)},
                         now);
        }
        return after;
    });
}

std::optional<Server> CatalogService::server(db::Connection& connection, ServerId id) {
    auto rows = connection.query(std::string(kServerSelect) + "WHERE id = ?", id);
    auto servers = read_servers(*rows);
    if (servers.empty()) return std::nullopt;
    return servers.front();
}

std::vector<Server> CatalogService::servers(db::Connection& connection) {
    auto rows = connection.query(std::string(kServerSelect) + "ORDER BY id");
    return read_servers(*rows);
}

std::optional<PaymentMethod> CatalogService::payment_method(db::Connection& connection, PaymentMethodId id) {
    auto rows = connection.query(std::string(kMethodSelect) + "WHERE id = ?", id);
    auto methods = read_methods(*rows);
    if (methods.empty()) return std::nullopt;
    return methods.front();
}

std::vector<PaymentMethod> CatalogService::payment_methods(db::Connection& connection) {
    auto rows = connection.query(std::string(kMethodSelect) + "ORDER BY sort_order, id");
    return read_methods(*rows);
}

std::vector<PaymentMethod> CatalogService::available_payment_methods(db::Connection& connection) {
    auto rows = connection.query(std::string(kMethodSelect) +
                                 "WHERE enabled = 1 AND account <> '' ORDER BY sort_order, id");
    return read_methods(*rows);
}

Outcome<PaymentMethod> CatalogService::update_payment_method(db::Connection& connection, const Actor& actor,
                                                             PaymentMethodId id,
                                                             const PaymentMethodUpdate& update) {
    if (update.account && update.account->size() > 100) {
        return fail(ErrorCode::validation, "account number or handle must be at most 100 characters");
    }
    for (const auto* text : {&update.instructions_en, &update.instructions_ar}) {
        if (*text && (*text)->size() > 1000)
            return fail(ErrorCode::validation, "instructions must be at most 1000 characters");
    }
    return db::in_transaction(connection, [&](db::Connection& c) -> Outcome<PaymentMethod> {
        auto before = payment_method(c, id);
        if (!before) return fail(ErrorCode::not_found, "no such payment method");
        const auto now = to_timestamp(clock_.now());
        c.exec(
            "UPDATE payment_methods SET account = ?, instructions_en = ?, instructions_ar = ?, updated_at = "
            "? "
            "WHERE id = ?",
            update.account.value_or(before->account),
            update.instructions_en.value_or(before->instructions_en),
            update.instructions_ar.value_or(before->instructions_ar), now, id);
        auto after = *payment_method(c, id);
        record_audit(c,
                     {actor.text(), "payment_method.updated", "payment_method", std::to_string(id.value),
                      to_json(*before), to_json(after)},
                     now);
        return after;
    });
}

Outcome<PaymentMethod> CatalogService::set_payment_method_enabled(db::Connection& connection,
                                                                  const Actor& actor, PaymentMethodId id,
                                                                  bool enabled) {
    return db::in_transaction(connection, [&](db::Connection& c) -> Outcome<PaymentMethod> {
        auto before = payment_method(c, id);
        if (!before) return fail(ErrorCode::not_found, "no such payment method");
        const auto now = to_timestamp(clock_.now());
        c.exec("UPDATE payment_methods SET enabled = ?, updated_at = ? WHERE id = ?", enabled, now, id);
        auto after = *payment_method(c, id);
        record_audit(c,
                     {actor.text(), enabled ? "payment_method.enabled" : "payment_method.disabled",
                      "payment_method", std::to_string(id.value), to_json(*before), to_json(after)},
                     now);
        return after;
    });
}

std::shared_ptr<const ShopSnapshot> CatalogService::shop(db::Connection& connection) {
    // The version first, then the tables: what is read is at least as new as the version it is
    // kept under, so a change made in between only costs one more read later.
    const auto version = connection.scalar<std::int64_t>("SELECT version FROM catalog_version WHERE id = 1");
    if (!version) throw db::DbError(db::DbErrorCode::other, "catalog_version has no row");
    {
        std::lock_guard lock(shop_mutex_);
        if (shop_ && shop_->version == *version) return shop_;
    }
    auto fresh = std::make_shared<ShopSnapshot>();
    fresh->version = *version;
    fresh->active_plans = plans(connection, true);
    fresh->available_methods = available_payment_methods(connection);
    fresh->server_enabled =
        connection.scalar<std::int64_t>("SELECT COUNT(*) FROM servers WHERE enabled = 1").value_or(0) > 0;
    auto rows = connection.query("SELECT key, value FROM settings");
    while (rows->step()) fresh->settings.emplace(rows->get<std::string>(0), rows->get<std::string>(1));
    shop_reloads_.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(shop_mutex_);
    // Several threads may read the same change at once: any of their copies will do, the version
    // decides which one stays.
    if (!shop_ || shop_->version != *version) shop_ = fresh;
    return fresh;
}

}  // namespace nebula::bot::domain
