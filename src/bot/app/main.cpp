// nebula-bot: the Discord bot. `migrate` applies the schema; `run` reads the configuration,
// wires the bot (bot/app/bot.hpp) and serves Discord until SIGINT/SIGTERM.
#include <sys/stat.h>
#include <csignal>

#include <cstdio>
#include <exception>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include <spdlog/spdlog.h>
#include "bot/db/connection.hpp"
#include "bot/db/database_url.hpp"
#include "bot/db/migrations.hpp"
#include "common/dotenv.hpp"
#include "common/logging.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "bot/app/bot.hpp"
#include "bot/app/bot_metrics.hpp"
#include "bot/app/check.hpp"
#include "bot/app/config.hpp"
#include "bot/app/invite.hpp"
#include "common/clock.hpp"
#include "common/config.hpp"

namespace {

using namespace nebula;

int run_migrate(const std::string& env_file, bool check_only) {
    auto environment = common::Environment::load(env_file);
    if (!environment) {
        std::fprintf(stderr, "nebula-bot: %s\n", environment.error().c_str());
        return 2;
    }
    const std::string* configured = environment->find("DATABASE_URL");
    const std::string text = configured != nullptr ? *configured : std::string(bot::db::kDefaultDatabaseUrl);
    auto url = bot::db::parse_database_url(text);
    if (!url) {
        std::fprintf(stderr, "nebula-bot: %s\n", url.error().c_str());
        return 2;
    }
    // Checking only reads: it must not create the database (or its directory) it reports on.
    auto connection =
        bot::db::open_connection(*url, check_only ? bot::db::Access::read_only : bot::db::Access::read_write);
    if (!connection) {
        std::fprintf(stderr, "nebula-bot: %s\n", connection.error().c_str());
        return 1;
    }
    if (check_only) {
        auto status = bot::db::check_schema(**connection);
        if (!status) {
            std::fprintf(stderr, "nebula-bot: %s\n", status.error().message.c_str());
            return 1;
        }
        std::printf("database %s is up to date\n", url->redacted().c_str());
        return 0;
    }
    auto applied = bot::db::migrate(**connection);
    if (!applied) {
        std::fprintf(stderr, "nebula-bot: %s\n", applied.error().message.c_str());
        return 1;
    }
    if (applied->empty()) {
        std::printf("database %s is up to date; nothing to apply\n", url->redacted().c_str());
    } else {
        for (const auto& name : *applied) std::printf("applied %s\n", name.c_str());
        std::printf("database %s: %zu migration(s) applied\n", url->redacted().c_str(), applied->size());
    }
    return 0;
}

int run_invite_url(const std::string& env_file) {
    auto environment = common::Environment::load(env_file);
    if (!environment) {
        std::fprintf(stderr, "nebula-bot: %s\n", environment.error().c_str());
        return 2;
    }
    common::ConfigReader r(*environment);
    const std::string client_id = r.required("DISCORD_CLIENT_ID");
    const std::string subscriber_role = r.optional("SUBSCRIBER_ROLE_ID");
    const auto id = discord::Snowflake::parse(client_id);
    if (!client_id.empty() && (!id || id->empty())) {
        r.fail("DISCORD_CLIENT_ID", "must be the application id (digits only)");
    }
    if (auto status = r.finish(); !status) {
        std::fprintf(stderr, "nebula-bot: %s\n", status.error().c_str());
        return 2;
    }
    std::printf("%s\n", bot::app::invite_url(*id, !subscriber_role.empty()).c_str());
    return 0;
}

int run_check(const std::string& env_file) {
    auto environment = common::Environment::load(env_file);
    if (!environment) {
        std::printf("FAIL configuration: %s\n", environment.error().c_str());
        return 1;
    }
    auto config = bot::app::load_bot_config(*environment);
    if (!config) {
        std::printf("FAIL configuration: %s\n", config.error().c_str());
        return 1;
    }
    std::printf("OK   configuration: %s and the environment are valid\n", env_file.c_str());
    spdlog::set_level(spdlog::level::off);  // one line per check, nothing else
    common::SystemClock clock;
    bool ok = true;
    for (const auto& result : bot::app::check_bot(*config, clock)) {
        std::printf("%s\n", bot::app::format_check(result).c_str());
        ok = ok && result.ok;
    }
    return ok ? 0 : 1;
}

/// Reads the dotenv file and the environment into a BotConfig and starts logging; on a bad
/// configuration prints why and returns nothing (the caller exits 2).
std::optional<bot::app::BotConfig> configure(const std::string& env_file) {
    auto environment = common::Environment::load(env_file);
    if (!environment) {
        std::fprintf(stderr, "nebula-bot: %s\n", environment.error().c_str());
        return std::nullopt;
    }
    auto config = bot::app::load_bot_config(*environment);
    if (!config) {
        std::fprintf(stderr, "nebula-bot: %s\n", config.error().c_str());
        return std::nullopt;
    }
    common::LogOptions log_options;
    log_options.directory = config->log_dir;
    log_options.level = config->log_level;
    common::setup_logging(log_options, config->secrets());
    return std::move(*config);
}

int run_jobs(const std::string& env_file, const std::string& name, bool list_only) {
    auto config = configure(env_file);
    if (!config) return 2;
    boost::asio::io_context io;
    common::SystemClock clock;
    auto bot = bot::app::Bot::create(io.get_executor(), std::move(*config), clock, nullptr);
    if (!bot) {
        std::fprintf(stderr, "nebula-bot: %s\n", bot.error().c_str());
        return 2;
    }
    if (list_only) {
        for (const auto& job : (*bot)->scheduler().stats()) {
            const auto& when = job.schedule;
            if (when.kind == bot::jobs::Schedule::Kind::daily) {
                std::printf("%-14s daily at %02lld:%02lld (shop time)\n", job.name.c_str(),
                            static_cast<long long>(when.time_of_day.count() / 60),
                            static_cast<long long>(when.time_of_day.count() % 60));
            } else {
                std::printf("%-14s every %lld min%s\n", job.name.c_str(),
                            static_cast<long long>(when.interval.count() / 60),
                            when.at_start ? " and at start-up" : "");
            }
        }
        return 0;
    }
    int exit_code = 1;
    auto* runner = bot->get();
    boost::asio::co_spawn(
        io,
        [&, runner]() -> boost::asio::awaitable<void> {
            auto ran = co_await runner->run_job(name);
            if (!ran) {
                std::fprintf(stderr, "nebula-bot: %s\n", ran.error().c_str());
            } else if (!*ran) {
                std::fprintf(stderr, "nebula-bot: job %s failed: %s\n", name.c_str(), ran->error().c_str());
            } else {
                std::printf("job %s: %s\n", name.c_str(), ran->value().c_str());
                exit_code = 0;
            }
        },
        [&](std::exception_ptr error) {
            if (error) {
                try {
                    std::rethrow_exception(error);
                } catch (const std::exception& e) {
                    std::fprintf(stderr, "nebula-bot: job %s: %s\n", name.c_str(), e.what());
                }
            }
            io.stop();
        });
    io.run();
    return exit_code;
}

int run_bot(const std::string& env_file) {
    auto config = configure(env_file);
    if (!config) return 2;

    boost::asio::io_context io;
    common::SystemClock clock;
    const auto metrics_port = config->metrics_port;
    const std::string metrics_bind = config->metrics_bind;
    auto bot = bot::app::Bot::create(io.get_executor(), std::move(*config), clock, nullptr);
    if (!bot) {
        std::fprintf(stderr, "nebula-bot: %s\n", bot.error().c_str());
        return 2;
    }
    if (metrics_port) {
        auto& metrics = (*bot)->metrics();
        if (auto served = metrics.serve(io.get_executor(), metrics_bind, *metrics_port); !served) {
            std::fprintf(stderr, "nebula-bot: %s\n", served.error().c_str());
            return 2;
        }
        spdlog::info("metrics on http://{}:{}/metrics", metrics_bind, metrics.port());
    }
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int) {
        if (!ec) (*bot)->stop();
    });
    int exit_code = 0;
    boost::asio::co_spawn(io, (*bot)->run(),
                          [&](std::exception_ptr error, common::Status<std::string> status) {
                              if (error) {
                                  try {
                                      std::rethrow_exception(error);
                                  } catch (const std::exception& e) {
                                      spdlog::critical("nebula-bot stopped: {}", e.what());
                                  }
                                  exit_code = 1;
                              } else if (!status) {
                                  spdlog::critical("nebula-bot stopped: {}", status.error());
                                  exit_code = 1;
                              }
                              signals.cancel();
                              io.stop();
                          });
    io.run();
    return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
    // Before anything can create a file: the database, its WAL, backups, receipts, exports and
    // logs hold secrets and customers' data, readable by this user only (0600, folders 0700),
    // whatever umask sudo or a shell passed on.
    ::umask(0077);
    CLI::App app{"nebula-bot: sells NebulaLinks VPN access through Discord"};
    app.set_version_flag("--version", std::string("nebula-bot ") + NEBULA_VERSION);
    std::string env_file = ".env";
    app.add_option("--env-file", env_file, "dotenv file read before the environment")->capture_default_str();
    auto* migrate = app.add_subcommand("migrate", "apply pending database migrations and list them");
    bool check_only = false;
    migrate->add_flag("--check", check_only, "only report whether migrations are pending (exit 1 if so)");
    auto* run = app.add_subcommand("run", "connect to Discord and serve the shop until SIGINT/SIGTERM");
    auto* invite = app.add_subcommand(
        "invite-url", "print the OAuth2 link that adds the bot with the permissions it needs");
    auto* check = app.add_subcommand(
        "check",
        "validate the configuration and reach the database, Discord and every gateway; exit 1 on a failure");
    auto* jobs = app.add_subcommand("jobs", "list the background jobs, or run one now");
    jobs->require_subcommand(1);
    auto* jobs_list = jobs->add_subcommand("list", "the jobs and their schedules");
    auto* jobs_run = jobs->add_subcommand(
        "run", "run one job now (also while the bot runs: a job never runs twice at once)");
    std::string job_name;
    jobs_run
        ->add_option("NAME", job_name,
                     "expiry, reminders, traffic, order-timeout, health, reconciler, revenue, backup")
        ->required();
    app.require_subcommand(1);
    CLI11_PARSE(app, argc, argv);
    try {
        if (migrate->parsed()) return run_migrate(env_file, check_only);
        if (run->parsed()) return run_bot(env_file);
        if (jobs_list->parsed()) return run_jobs(env_file, "", true);
        if (jobs_run->parsed()) return run_jobs(env_file, job_name, false);
        if (invite->parsed()) return run_invite_url(env_file);
        if (check->parsed()) return run_check(env_file);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "nebula-bot: %s\n", error.what());
        return 1;
    }
    return 0;
}
