#pragma once

#include <map>
#include <string>
#include <vector>

#include "bot/db/connection.hpp"
#include "bot/domain/catalog.hpp"
#include "bot/domain/gateway_client.hpp"
#include "bot/domain/types.hpp"

namespace nebula::bot::domain {

/// An account a background sweep acts on.
struct DueAccount {
    AccountId id;
    UserId user;
    std::string email;
    Timestamp expires_at;
};

/// Accounts of one server, so its gateway is called once per batch.
struct ServerBatch {
    Server server;
    std::vector<DueAccount> accounts;
};

/// What one server's traffic figures changed.
struct TrafficUpdate {
    int accounts_updated = 0;
    int alerts = 0;                     ///< traffic alerts queued
    std::vector<DueAccount> exhausted;  ///< active accounts that used their whole quota
};

/// The database side of the expiry, reminder and traffic jobs, in bulk (multi-row statements:
/// 100,000 accounts in a handful of round trips). Every change is guarded by the state it expects
/// (an account renewed meanwhile is left alone), queues its customer notice and is audited as
/// the system's, in one transaction. Functions run on the connection given.
namespace account_sweeps {

/// Active accounts whose expiry has come (`now`), by server.
std::vector<ServerBatch> expired_active(db::Connection& connection, CatalogService& catalog, Timestamp now,
                                        int limit);
/// Expired accounts whose expiry is before `cutoff` (the grace period is over), by server.
std::vector<ServerBatch> past_grace(db::Connection& connection, CatalogService& catalog, Timestamp cutoff,
                                    int limit);

/// Marks these accounts expired (those still active and due), queues their account_expired
/// notices and audits them. How many were marked.
int mark_expired(db::Connection& connection, const std::vector<DueAccount>& accounts, Timestamp now);
/// Marks an expired account deleted (its panel client is gone), audited. 1 when it was marked.
int mark_deleted(db::Connection& connection, const DueAccount& account, Timestamp now);

/// Queues the expiry reminder due for each active account `hours` (ascending) before its expiry,
/// once per account, term and threshold (an earlier threshold missed is skipped). How many.
int queue_reminders(db::Connection& connection, const std::vector<int>& hours, Timestamp now);

/// Stores the usage of the server's active accounts from `usage` (by client email), queues a
/// traffic alert for each account that reached a new level of `levels` (ascending percentages)
/// and returns the accounts that used their whole quota. The readings also go into the daily
/// usage history under `day` (usage_history::record, YYYY-MM-DD in the shop's time zone).
TrafficUpdate record_traffic(db::Connection& connection, ServerId server,
                             const std::map<std::string, const TrafficEntry*, std::less<>>& usage,
                             const std::vector<int>& levels, Timestamp now, std::string_view day);
/// Suspends these accounts (still active) whose panel clients were disabled for using their
/// quota, queues their notices and audits them. How many.
int suspend_exhausted(db::Connection& connection, const std::vector<DueAccount>& accounts, Timestamp now);

}  // namespace account_sweeps
}  // namespace nebula::bot::domain
