// nebula-gateway: the signed HTTPS API in front of one 3x-ui panel.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "common/clock.hpp"
#include "common/logging.hpp"
#include "common/metrics.hpp"
#include "gateway/check.hpp"
#include "gateway/config.hpp"
#include "gateway/service.hpp"

namespace asio = boost::asio;
using namespace nebula;

int main(int argc, char** argv) {
    // Before anything can create a file: the database, its WAL, backups, receipts, exports and
    // logs hold secrets and customers' data, readable by this user only (0600, folders 0700),
    // whatever umask sudo or a shell passed on.
    ::umask(0077);
    CLI::App app{"nebula-gateway: the signed HTTPS API in front of a 3x-ui panel"};
    std::string env_file = ".env";
    std::string ready_file;
    bool show_version = false;
    app.add_option("--env", env_file, "configuration file in dotenv syntax (real environment variables win)");
    app.add_option("--ready-file", ready_file, "write {\"port\":N} here once listening");
    app.add_flag("--version", show_version, "print the version and exit");
    auto* check = app.add_subcommand(
        "check",
        "validate the configuration, load the certificate and log in to the panel; exit 1 on a failure");
    CLI11_PARSE(app, argc, argv);
    if (show_version) {
        std::cout << "nebula-gateway " << NEBULA_VERSION << "\n";
        return 0;
    }

    auto env = common::Environment::load(env_file);
    if (!env) {
        std::cerr << "nebula-gateway: " << env.error() << "\n";
        return 2;
    }
    auto config = gateway::load_gateway_config(*env);
    if (config && !config->previous_secret_key.empty() && !config->previous_key_since) {
        // Without API_SECRET_KEY_PREVIOUS_SINCE the rotation began when the file was last edited.
        std::error_code ec;
        const auto written = std::filesystem::last_write_time(env_file, ec);
        if (!ec)
            config->previous_key_since = std::chrono::time_point_cast<std::chrono::system_clock::duration>(
                std::chrono::file_clock::to_sys(written));
    }
    if (check->parsed()) {
        if (!config) {
            std::cout << "FAIL configuration: " << config.error() << "\n";
            return 1;
        }
        std::cout << "OK   configuration: " << env_file << " and the environment are valid\n";
        spdlog::set_level(spdlog::level::off);  // one line per check, nothing else
        common::SystemClock clock;
        bool ok = true;
        for (const auto& result : gateway::check_gateway(*config, clock)) {
            std::cout << gateway::format_check(result) << "\n";
            ok = ok && result.ok;
        }
        return ok ? 0 : 1;
    }
    if (!config) {
        std::cerr << "nebula-gateway: " << config.error() << "\n";
        return 2;
    }
    const gateway::GatewayConfig& cfg = *config;

    try {
        common::setup_logging({.directory = cfg.log_dir, .level = cfg.log_level}, cfg.secrets());
    } catch (const std::exception& e) {
        std::cerr << "nebula-gateway: cannot open the log files in " << cfg.log_dir << ": " << e.what()
                  << "\n";
        return 2;
    }

    asio::io_context io(1);
    common::SystemClock clock;

    auto panel = gateway::xui::PanelClient::create(io.get_executor(), gateway::panel_options(cfg), clock);
    if (!panel) {
        spdlog::critical("cannot set up the panel client: {}", panel.error());
        return 2;
    }

    common::metrics::Registry registry;
    gateway::GatewayMetrics metrics(registry);
    gateway::GatewayService service(cfg, **panel, clock, &metrics);
    auto server = http::Server::create(io.get_executor(), gateway::server_options(cfg), service);
    if (!server) {
        spdlog::critical("cannot start: {}", server.error());
        return 1;
    }
    (*server)->start();
    const auto port = (*server)->port();
    common::metrics::Handler metrics_handler(registry);
    std::unique_ptr<http::Server> metrics_server;
    if (cfg.metrics_port) {
        auto started = common::metrics::start_server(io.get_executor(), cfg.metrics_bind, *cfg.metrics_port,
                                                     metrics_handler);
        if (!started) {
            spdlog::critical("cannot start: {}", started.error());
            return 1;
        }
        metrics_server = std::move(*started);
        spdlog::info("metrics on http://{}:{}/metrics", cfg.metrics_bind, metrics_server->port());
    }
    if (!ready_file.empty()) {
        // Written whole, then renamed, so a watcher never reads half a file.
        const std::string tmp = ready_file + ".tmp";
        std::ofstream(tmp) << "{\"port\":" << port << "}\n";
        std::rename(tmp.c_str(), ready_file.c_str());
    }
    spdlog::info(
        "nebula-gateway {} listening on {}://{}:{} (panel {}, allowlist {} entries, {} req/min per client)",
        NEBULA_VERSION, cfg.plain_http ? "http" : "https", cfg.bind_address, port, cfg.panel_url,
        cfg.allowed_ips.size(), cfg.rate_limit_per_minute);
    if (cfg.plain_http) spdlog::warn("PLAIN_HTTP is on: serving without TLS on loopback only");
    if (auto notice = gateway::previous_key_notice(cfg, clock.now())) spdlog::warn("{}", *notice);
    if (cfg.panel_allow_remote && !gateway::is_loopback_url(cfg.panel_url)) {
        spdlog::warn("PANEL_URL {} is on another host (PANEL_ALLOW_REMOTE=true)", cfg.panel_url);
    }

    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int signal) {
        if (ec) return;
        spdlog::info("signal {} received: finishing in-flight requests (up to {} s)", signal,
                     cfg.shutdown_grace.count());
        if (metrics_server) metrics_server->shutdown(std::chrono::milliseconds(0));
        (*server)->shutdown(cfg.shutdown_grace, [&] {
            spdlog::info("stopped");
            io.stop();
        });
    });
    io.run();
    spdlog::default_logger()->flush();
    return 0;
}
