#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bot/db/connection.hpp"
#include "bot/domain/types.hpp"

namespace nebula::bot::domain {

struct Account {
    AccountId id;
    UserId user_id;
    ServerId server_id;
    OrderId order_id;  ///< the order that created it
    std::optional<PlanId> plan_id;
    std::string client_email;
    std::string client_uuid;
    std::string sub_id;
    int inbound_id = 0;
    std::int64_t traffic_limit_bytes = 0;  ///< 0 = unlimited
    int device_limit = 1;
    std::int64_t used_up_bytes = 0;
    std::int64_t used_down_bytes = 0;
    Timestamp expires_at;
    AccountStatus status = AccountStatus::active;
    int traffic_alert_level = 0;  ///< highest usage percentage already announced (0, 80, 95, 100)
    int expiry_alert_level = 0;   ///< smallest hours-before-expiry already announced (0 = none yet)
    Timestamp created_at;
    /// When the usage above was read from the panel (nothing: never since it was created).
    std::optional<Timestamp> traffic_synced_at;
};

nlohmann::json to_json(const Account& account);

/// Reads and plain database updates of VPN accounts. Operations that also change the panel
/// (extend, enable, disable, delete, reset traffic) are AccountOperations in provisioning.hpp.
namespace accounts {

std::optional<Account> get(db::Connection& connection, AccountId id);
std::optional<Account> by_email(db::Connection& connection, std::string_view client_email);
std::optional<Account> by_order(db::Connection& connection, OrderId order);
std::vector<Account> for_user(db::Connection& connection, UserId user);
/// Active accounts whose expiry falls in [from, to), soonest first (the expiry job's query).
std::vector<Account> expiring_between(db::Connection& connection, Timestamp from, Timestamp to);
/// Active accounts already past their expiry.
std::vector<Account> expired_but_active(db::Connection& connection, Timestamp now, int limit = 1000);
/// Records usage read from the gateway's traffic report.
void record_usage(db::Connection& connection, AccountId id, std::int64_t up, std::int64_t down, Timestamp at);
/// Remembers that an alert level was announced, so it is sent once.
void set_alert_levels(db::Connection& connection, AccountId id, int traffic_level, int expiry_level);

/// Renewal arithmetic: the new expiry extends from the later of now and the current expiry.
Timestamp renewed_expiry(Timestamp now, Timestamp current_expiry, int days);

}  // namespace accounts
}  // namespace nebula::bot::domain
