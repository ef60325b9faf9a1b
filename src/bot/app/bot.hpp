#pragma once

#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "bot/app/config.hpp"
#include "bot/db/executor.hpp"
#include "bot/domain/catalog.hpp"
#include "bot/domain/gateway_client.hpp"
#include "bot/handlers/dispatcher.hpp"
#include "bot/jobs/scheduler.hpp"
#include "common/clock.hpp"
#include "common/result.hpp"

namespace nebula::bot::app {

class BotMetrics;

/// Makes the servers table follow the default server's bot.env values (API_GATEWAY_URL,
/// API_SECRET_KEY, API_GATEWAY_PIN_SHA256, DEFAULT_SERVER_*): adds it when no server has that
/// gateway URL; otherwise applies each value that changed in bot.env since the last start (on
/// the first start with this record: the key and the pin when they differ), audited like an
/// admin's edit (never the key itself) plus a "server.env_applied" record of what bot.env said.
/// Returns what it did ("added", "applied from bot.env: API_SECRET_KEY", or empty).
domain::Outcome<std::string> sync_default_server(db::Connection& connection, domain::CatalogService& catalog,
                                                 const DefaultServer& server, domain::Timestamp now);

/// The whole bot wired together: Discord REST + gateway, the domain services on the database,
/// the handlers and their router. main() runs one; end-to-end tests run one in-process.
/// Everything runs on the executor given to create() (one thread); database work runs on the
/// DbExecutor's own threads.
class Bot {
  public:
    /// Opens nothing on the network yet. `gateways` replaces the HTTPS gateway directory (tests).
    static common::Result<std::unique_ptr<Bot>, std::string> create(
        boost::asio::any_io_executor executor, BotConfig config, const common::Clock& clock,
        std::unique_ptr<domain::GatewayDirectory> gateways);
    ~Bot();
    Bot(const Bot&) = delete;
    Bot& operator=(const Bot&) = delete;

    /// Refuses a database with pending migrations, adds the default server when missing, learns
    /// the bot's user id, registers the slash commands (one bulk PUT for the guild), resumes
    /// channel-closing timers and then stays connected to the Discord gateway until stop() or a
    /// fatal gateway error. Returns the reason when it could not start or had to stop, after the
    /// events being handled have finished and the background timers are cancelled: once it has
    /// returned, nothing uses the Bot and it may be destroyed.
    boost::asio::awaitable<common::Status<std::string>> run();
    /// Leaves the gateway; run() then returns.
    void stop();

    /// Finishes approved orders whose account is not made yet (what the reconciler job does).
    boost::asio::awaitable<domain::ReconcileReport> reconcile();

    /// The background jobs (bot/jobs): started by run() unless JOBS_ENABLED=false, stopped and
    /// joined before run() returns. stats() feeds the job metrics.
    jobs::Scheduler& scheduler();
    /// Runs one job now (`nebula-bot jobs run NAME`), without connecting to the Discord gateway:
    /// the schema is checked first; background work the job started (channel closers) is
    /// cancelled before it returns (their schedule is stored, the running bot picks it up at its
    /// next start). The job's result, or why it could not run.
    boost::asio::awaitable<common::Result<jobs::JobResult, std::string>> run_job(std::string name);

    handlers::Dispatcher& dispatcher();
    core::BotContext& context();
    /// The bot's Prometheus metrics; main() serves them when METRICS_PORT is set.
    BotMetrics& metrics();
    /// True once the commands are registered and the gateway session is being started.
    bool started() const;

  private:
    struct Impl;
    boost::asio::awaitable<common::Status<std::string>> serve();
    explicit Bot(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace nebula::bot::app
