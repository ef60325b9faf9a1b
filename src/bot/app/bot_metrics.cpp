#include "bot/app/bot_metrics.hpp"

#include <map>

#include "bot/domain/analytics.hpp"
#include "bot/domain/catalog.hpp"
#include "bot/domain/types.hpp"
#include "discord/gateway_session.hpp"
#include "discord/rest.hpp"

namespace nebula::bot::app {
namespace asio = boost::asio;
namespace {

std::string interaction_type(discord::InteractionType type) {
    switch (type) {
        case discord::InteractionType::ping:
            return "ping";
        case discord::InteractionType::application_command:
            return "application_command";
        case discord::InteractionType::message_component:
            return "message_component";
        case discord::InteractionType::autocomplete:
            return "autocomplete";
        case discord::InteractionType::modal_submit:
            return "modal_submit";
    }
    return "other";
}

constexpr domain::OrderStatus kOrderStatuses[] = {
    domain::OrderStatus::awaiting_payment, domain::OrderStatus::under_review, domain::OrderStatus::approved,
    domain::OrderStatus::fulfilled,        domain::OrderStatus::declined,     domain::OrderStatus::expired,
    domain::OrderStatus::cancelled};

}  // namespace

BotMetrics::BotMetrics(db::DbExecutor& db)
    : db_(db),
      interactions_(registry_.counter("nebula_bot_interactions_total",
                                      "Discord interactions received, by type.", {"type"})),
      rest_429s_(
          registry_.counter("nebula_bot_discord_rate_limited_total", "Discord REST 429 responses.").get()),
      interaction_failures_(registry_.counter(
          "nebula_bot_interaction_response_failures_total",
          "Interaction responses (initial, edit, follow-up) that failed, by cause: resolve, connect, tls, "
          "io, protocol, timeout, status (an error answer from Discord), expired, invalid_state.",
          {"cause"})),
      interaction_resends_(registry_
                               .counter("nebula_bot_interaction_response_resends_total",
                                        "Initial interaction responses sent again because the first "
                                        "attempt never reached Discord.")
                               .get()),
      write_transactions_(
          registry_
              .counter("nebula_bot_db_write_transactions_total", "Database write transactions committed.")
              .get()),
      db_tasks_(registry_
                    .counter("nebula_bot_db_tasks_total",
                             "Tasks run on the database threads (a customer's click makes at most one).")
                    .get()),
      catalog_reloads_(registry_
                           .counter("nebula_bot_catalog_reloads_total",
                                    "Times the catalogue kept in memory was read again after a change.")
                           .get()),
      checkpoints_(registry_
                       .counter("nebula_bot_db_wal_checkpoints_total",
                                "SQLite WAL checkpoints run in the background (never inside a commit).")
                       .get()),
      reconnects_(registry_
                      .counter("nebula_bot_discord_gateway_reconnects_total",
                               "Discord gateway connections opened after the first one.")
                      .get()),
      resumes_(
          registry_.counter("nebula_bot_discord_gateway_resumes_total", "Discord gateway sessions resumed.")
              .get()),
      orders_(registry_.gauge("nebula_bot_orders", "Orders in the database, by status.", {"status"})),
      job_runs_(registry_.counter("nebula_bot_job_runs_total",
                                  "Background job runs finished, by job and result.", {"job", "result"})),
      job_skipped_(registry_.counter("nebula_bot_job_skipped_total",
                                     "Due job runs skipped because the job was still running.", {"job"})),
      job_seconds_(registry_.counter("nebula_bot_job_duration_seconds_total",
                                     "Time spent in finished job runs, by job.", {"job"})),
      job_last_seconds_(registry_.gauge("nebula_bot_job_last_duration_seconds",
                                        "Duration of each job's last run.", {"job"})),
      job_running_(registry_.gauge("nebula_bot_job_running", "1 while the job runs.", {"job"})),
      discord_connections_(registry_
                               .counter("nebula_bot_discord_rest_connections_total",
                                        "Connections opened to Discord's REST API (each a TLS handshake).")
                               .get()),
      discord_h2_connections_(registry_
                                  .counter("nebula_bot_discord_http2_connections_total",
                                           "Connections to Discord's REST API that speak HTTP/2.")
                                  .get()),
      discord_h2_streams_(registry_
                              .counter("nebula_bot_discord_http2_streams_total",
                                       "Discord REST requests sent as HTTP/2 streams.")
                              .get()),
      handler_(registry_, [this] { return refresh(); }) {
    for (auto status : kOrderStatuses) orders_.labels({std::string(domain::to_string(status))}).set(0);
    registry_.on_collect([this] { collect(); });
}

BotMetrics::~BotMetrics() = default;

common::Status<std::string> BotMetrics::serve(asio::any_io_executor executor, const std::string& bind_address,
                                              std::uint16_t port) {
    auto server = common::metrics::start_server(std::move(executor), bind_address, port, handler_);
    if (!server) return common::unexpected(server.error());
    server_ = std::move(*server);
    return {};
}

std::uint16_t BotMetrics::port() const { return server_ ? server_->port() : 0; }

void BotMetrics::stop() {
    if (server_) server_->shutdown(std::chrono::milliseconds(0));
}

void BotMetrics::count_event(const discord::Event& event) {
    if (const auto* interaction = event.interaction())
        interactions_.labels({interaction_type(interaction->type)}).inc();
}

void BotMetrics::watch_rest(const discord::RestClient& rest) { rest_ = &rest; }
void BotMetrics::watch_catalog(const domain::CatalogService& catalog) { catalog_ = &catalog; }
void BotMetrics::watch_gateway(const discord::GatewaySession* gateway) { gateway_ = gateway; }
void BotMetrics::watch_jobs(std::function<std::vector<JobCounts>()> jobs) { jobs_ = std::move(jobs); }

void BotMetrics::collect() {
    write_transactions_.set_total(static_cast<double>(db_.pool().write_transactions()));
    checkpoints_.set_total(static_cast<double>(db_.pool().checkpoints()));
    db_tasks_.set_total(static_cast<double>(db_.tasks()));
    if (catalog_ != nullptr) catalog_reloads_.set_total(static_cast<double>(catalog_->shop_reloads()));
    if (rest_ != nullptr) {
        const auto stats = rest_->stats();
        rest_429s_.set_total(static_cast<double>(stats.rate_limits.rate_limited));
        for (const auto& [cause, count] : stats.interaction_failures)
            interaction_failures_.labels({cause}).set_total(static_cast<double>(count));
        interaction_resends_.set_total(static_cast<double>(stats.interaction_resends));
        discord_connections_.set_total(static_cast<double>(stats.transport.connections_opened));
        discord_h2_connections_.set_total(static_cast<double>(stats.transport.h2_connections));
        discord_h2_streams_.set_total(static_cast<double>(stats.transport.h2_streams));
    }
    if (gateway_ != nullptr) {
        const auto stats = gateway_->stats();
        if (stats.connections > 1) reconnects_.set_total(static_cast<double>(stats.connections - 1));
        resumes_.set_total(static_cast<double>(stats.resumes));
    }
    if (jobs_) {
        for (const auto& job : jobs_()) {
            const std::vector<std::string> name{job.name};
            job_runs_.labels({job.name, "ok"}).set_total(static_cast<double>(job.runs - job.failures));
            job_runs_.labels({job.name, "failed"}).set_total(static_cast<double>(job.failures));
            job_skipped_.labels(name).set_total(static_cast<double>(job.skipped));
            job_seconds_.labels(name).set_total(std::chrono::duration<double>(job.total_duration).count());
            job_last_seconds_.labels(name).set(std::chrono::duration<double>(job.last_duration).count());
            job_running_.labels(name).set(job.running ? 1 : 0);
        }
    }
}

asio::awaitable<void> BotMetrics::refresh() {
    auto counts = co_await db_.run([](db::Connection& c) { return domain::Analytics::orders_by_status(c); });
    for (auto status : kOrderStatuses) {
        const std::string name(domain::to_string(status));
        const auto it = counts.find(name);
        orders_.labels({name}).set(it == counts.end() ? 0.0 : static_cast<double>(it->second));
    }
}

}  // namespace nebula::bot::app
