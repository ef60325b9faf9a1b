#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bot/db/connection.hpp"
#include "bot/domain/types.hpp"
#include "common/clock.hpp"

namespace nebula::bot::domain {

// ---- plans ----

struct PlanInput {
    std::string name;
    int duration_days = 30;
    std::int64_t traffic_bytes = 0;  ///< 0 = unlimited
    int device_limit = 1;            ///< simultaneous IPs; 0 = unlimited
    Piasters price;
    int sort_order = 0;
    std::string name_ar;  ///< shown to Arabic customers; empty: the English name
};

struct Plan {
    PlanId id;
    PlanInput spec;
    bool active = true;
};

nlohmann::json to_json(const Plan& plan);

// ---- servers ----

struct ServerInput {
    std::string name;
    std::string location;
    std::string gateway_url;     ///< https://host:port of the server's nebula-gateway
    std::string gateway_key;     ///< the shared HMAC key (secret; never logged or audited)
    std::string tls_pin_sha256;  ///< hex SHA-256 of the gateway's certificate, or empty to use CAs
    int inbound_id = 1;
    int capacity = 100;  ///< accounts this server may hold
    int weight = 1;      ///< breaks load ties: higher first
};

struct Server {
    ServerId id;
    ServerInput spec;
    bool enabled = true;
    ServerHealth health = ServerHealth::unknown;
    std::optional<Timestamp> last_seen_at;
};

/// The audit view: everything except the key.
nlohmann::json to_json(const Server& server);

// ---- payment methods ----

struct PaymentMethod {
    PaymentMethodId id;
    std::string code;  ///< vodafone_cash, orange_cash, etisalat_cash, we_pay, instapay
    std::string name_en;
    std::string name_ar;
    std::string account;  ///< wallet number or InstaPay handle; empty until an admin sets it
    std::string instructions_en;
    std::string instructions_ar;
    bool enabled = true;
    int sort_order = 0;
};

nlohmann::json to_json(const PaymentMethod& method);

struct PaymentMethodUpdate {
    std::optional<std::string> account;
    std::optional<std::string> instructions_en;
    std::optional<std::string> instructions_ar;
};

/// What every customer click reads of the catalogue, kept in memory (CatalogService::shop). Built
/// from the database at `version` of the catalog_version row; never changed once built.
struct ShopSnapshot {
    std::int64_t version = 0;
    std::vector<Plan> active_plans;                ///< by sort order, then id
    std::vector<PaymentMethod> available_methods;  ///< what a customer may pick
    bool server_enabled = false;                   ///< an enabled server exists to make accounts on
    std::map<std::string, std::string, std::less<>> settings;  ///< the settings table
};

/// Plans, servers and payment methods: what admins configure. Validation errors name the
/// field and the rule. Every change is audited with the acting admin. Methods run on the given
/// connection and are safe from several connections at once.
class CatalogService {
  public:
    explicit CatalogService(const common::Clock& clock) : clock_(clock) {}

    Outcome<Plan> create_plan(db::Connection& connection, const Actor& actor, const PlanInput& input);
    Outcome<Plan> update_plan(db::Connection& connection, const Actor& actor, PlanId id,
                              const PlanInput& input);
    Outcome<Plan> set_plan_active(db::Connection& connection, const Actor& actor, PlanId id, bool active);
    std::optional<Plan> plan(db::Connection& connection, PlanId id);
    /// By sort order, then id.
    std::vector<Plan> plans(db::Connection& connection, bool active_only);

    Outcome<Server> create_server(db::Connection& connection, const Actor& actor, const ServerInput& input);
    Outcome<Server> update_server(db::Connection& connection, const Actor& actor, ServerId id,
                                  const ServerInput& input);
    Outcome<Server> set_server_enabled(db::Connection& connection, const Actor& actor, ServerId id,
                                       bool enabled);
    /// Recorded by the health job; `up` also stamps last_seen_at. Not audited (it is not an
    /// admin action) unless the state changes.
    Outcome<Server> set_server_health(db::Connection& connection, ServerId id, ServerHealth health);
    std::optional<Server> server(db::Connection& connection, ServerId id);
    std::vector<Server> servers(db::Connection& connection);

    std::optional<PaymentMethod> payment_method(db::Connection& connection, PaymentMethodId id);
    std::vector<PaymentMethod> payment_methods(db::Connection& connection);
    /// What a customer may pick: enabled and with an account number filled in.
    std::vector<PaymentMethod> available_payment_methods(db::Connection& connection);
    Outcome<PaymentMethod> update_payment_method(db::Connection& connection, const Actor& actor,
                                                 PaymentMethodId id, const PaymentMethodUpdate& update);
    Outcome<PaymentMethod> set_payment_method_enabled(db::Connection& connection, const Actor& actor,
                                                      PaymentMethodId id, bool enabled);

    /// The catalogue as customers see it, from memory. One cheap read of the catalog_version row
    /// on `connection` tells whether anything changed since it was read (an admin, another process,
    /// anyone writing those tables bumps it in the same transaction); then it is read again. So a
    /// change is seen by the next call that starts after it committed. Thread-safe.
    std::shared_ptr<const ShopSnapshot> shop(db::Connection& connection);
    /// How often shop() read the catalogue from the database (the first time included).
    std::uint64_t shop_reloads() const { return shop_reloads_.load(std::memory_order_relaxed); }

  private:
    const common::Clock& clock_;
    std::mutex shop_mutex_;
    std::shared_ptr<const ShopSnapshot> shop_;
    std::atomic<std::uint64_t> shop_reloads_{0};
};

/// The validation rules, exposed for tests and for forms that check before submitting.
std::optional<std::string> validate(const PlanInput& input);
std::optional<std::string> validate(const ServerInput& input);

}  // namespace nebula::bot::domain
