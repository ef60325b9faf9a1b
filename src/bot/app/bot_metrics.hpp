#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "bot/db/executor.hpp"
#include "common/metrics.hpp"
#include "common/result.hpp"
#include "discord/events.hpp"

namespace nebula::discord {
class RestClient;
class GatewaySession;
}  // namespace nebula::discord

namespace nebula::bot::domain {
class CatalogService;
}  // namespace nebula::bot::domain

namespace nebula::bot::app {

/// One background job's counts, as the scheduler keeps them.
struct JobCounts {
    std::string name;
    std::uint64_t runs = 0;
    std::uint64_t failures = 0;
    std::uint64_t skipped = 0;
    bool running = false;
    std::chrono::milliseconds last_duration{0};
    std::chrono::milliseconds total_duration{0};
};

/// nebula-bot's Prometheus metrics: interactions by type, interaction responses that failed (by
/// cause) or were sent again, database write transactions and WAL checkpoints
/// (SQLite), Discord REST 429s, gateway
/// (re)connections, orders by status (queried from the database before each scrape) and the
/// background jobs' runs and durations. The watched clients' statistics are read while
/// rendering, so render and refresh() must run on the bot's executor (the metrics server does).
class BotMetrics {
  public:
    explicit BotMetrics(db::DbExecutor& db);
    ~BotMetrics();
    BotMetrics(const BotMetrics&) = delete;
    BotMetrics& operator=(const BotMetrics&) = delete;

    /// Serves GET /metrics on `bind_address` (a loopback address; anything else is refused)
    /// and `port` (0 = a free one) on `executor`, which must be the bot's executor.
    common::Status<std::string> serve(boost::asio::any_io_executor executor, const std::string& bind_address,
                                      std::uint16_t port);
    /// The bound port once serving, else 0.
    std::uint16_t port() const;
    /// Stops serving (call from the bot's executor).
    void stop();

    common::metrics::Registry& registry() { return registry_; }

    /// Counts an INTERACTION_CREATE by interaction type; other events are ignored.
    void count_event(const discord::Event& event);
    /// Mirrors the REST client's 429 count; it must outlive the metrics.
    void watch_rest(const discord::RestClient& rest);
    /// Reports how often the catalogue kept in memory was read again.
    void watch_catalog(const domain::CatalogService& catalog);
    /// Mirrors the gateway's connection count (reconnects = connections after the first) and
    /// resumes; nullptr stops watching.
    void watch_gateway(const discord::GatewaySession* gateway);
    /// Mirrors the background jobs' counts; the function is called while rendering.
    void watch_jobs(std::function<std::vector<JobCounts>()> jobs);

    /// Counts orders by status through the DbExecutor (never on the network thread).
    boost::asio::awaitable<void> refresh();

  private:
    void collect();

    db::DbExecutor& db_;
    common::metrics::Registry registry_;
    common::metrics::Family<common::metrics::Counter>& interactions_;
    common::metrics::Counter& rest_429s_;
    common::metrics::Family<common::metrics::Counter>& interaction_failures_;
    common::metrics::Counter& interaction_resends_;
    common::metrics::Counter& write_transactions_;
    common::metrics::Counter& db_tasks_;
    common::metrics::Counter& catalog_reloads_;
    common::metrics::Counter& checkpoints_;
    common::metrics::Counter& reconnects_;
    common::metrics::Counter& resumes_;
    common::metrics::Family<common::metrics::Gauge>& orders_;
    common::metrics::Family<common::metrics::Counter>& job_runs_;
    common::metrics::Family<common::metrics::Counter>& job_skipped_;
    common::metrics::Family<common::metrics::Counter>& job_seconds_;
    common::metrics::Family<common::metrics::Gauge>& job_last_seconds_;
    common::metrics::Family<common::metrics::Gauge>& job_running_;
    common::metrics::Counter& discord_connections_;
    common::metrics::Counter& discord_h2_connections_;
    common::metrics::Counter& discord_h2_streams_;
    common::metrics::Handler handler_;
    std::unique_ptr<common::http::Server> server_;
    const discord::RestClient* rest_ = nullptr;
    const domain::CatalogService* catalog_ = nullptr;
    const discord::GatewaySession* gateway_ = nullptr;
    std::function<std::vector<JobCounts>()> jobs_;
};

}  // namespace nebula::bot::app
