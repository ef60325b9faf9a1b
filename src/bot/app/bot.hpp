#pragma once

#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "bot/app/config.hpp"
#include "bot/db/executor.hpp"
#include "bot/domain/gateway_client.hpp"
#include "bot/handlers/dispatcher.hpp"
#include "bot/jobs/scheduler.hpp"
#include "common/clock.hpp"
#include "common/result.hpp"

namespace nebula::bot::app {

class BotMetrics;

/// The whole bot wired together: Discord REST + gateway, the domain services on the database,
/// the handlers and their router. main() runs one; end-to-end tests run one in-process.
/// Everything runs on the executor given to create() (one thread); database work runs on the
/// DbExecutor's own threads.
class Bot {
  public:
    /// Opens nothing on the network yet. `gateways` replaces the HTTPS gateway directory (tests).
    static Result<std::unique_ptr<Bot>, std::string> create(
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
    boost::asio::awaitable<Status<std::string>> run();
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
    boost::asio::awaitable<Result<jobs::JobResult, std::string>> run_job(std::string name);

    handlers::Dispatcher& dispatcher();
    handlers::BotContext& context();
    /// The bot's Prometheus metrics; main() serves them when METRICS_PORT is set.
    BotMetrics& metrics();
    /// True once the commands are registered and the gateway session is being started.
    bool started() const;

  private:
    struct Impl;
    boost::asio::awaitable<Status<std::string>> serve();
    explicit Bot(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace nebula::bot::app
