#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bot/core/context.hpp"
#include "bot/db/database_url.hpp"
#include "bot/domain/receipts.hpp"
#include "bot/jobs/jobs.hpp"
#include "common/dotenv.hpp"
#include "common/result.hpp"

namespace nebula::bot::app {

/// The default server: the gateway named by API_GATEWAY_URL / API_SECRET_KEY. It is added to the
/// servers table at start-up when no server with that gateway URL exists yet.
struct DefaultServer {
    std::string gateway_url;     ///< API_GATEWAY_URL
    std::string key;             ///< API_SECRET_KEY (secret)
    std::string tls_pin_sha256;  ///< API_GATEWAY_PIN_SHA256; empty = verify with the system CAs
    std::string name;            ///< DEFAULT_SERVER_NAME
    std::string location;        ///< DEFAULT_SERVER_LOCATION
    int inbound_id = 1;          ///< DEFAULT_SERVER_INBOUND_ID
    int capacity = 100;          ///< DEFAULT_SERVER_CAPACITY
};

/// Everything nebula-bot reads from the environment / .env, validated once at start-up.
struct BotConfig {
    std::string discord_token;                   ///< DISCORD_TOKEN (secret)
    std::string discord_api_base;                ///< DISCORD_API_BASE
    std::string discord_gateway_url;             ///< DISCORD_GATEWAY_URL; empty = from GET /gateway/bot
    std::vector<std::string> discord_cdn_hosts;  ///< DISCORD_CDN_HOSTS
    std::string discord_ca_file;                 ///< DISCORD_CA_FILE
    db::DatabaseUrl database;                    ///< DATABASE_URL
    std::string timezone = "Africa/Cairo";       ///< TIMEZONE
    std::string shop_name = "NebulaLinks";       ///< SHOP_NAME
    std::string log_level = "info";              ///< LOG_LEVEL
    std::string log_dir = "logs";                ///< LOG_DIR
    int db_threads = 4;                          ///< DB_THREADS
    /// METRICS_PORT: the Prometheus endpoint's port; none = off (0 in the file). 0 here means
    /// any free port (tests).
    std::optional<std::uint16_t> metrics_port;
    std::string metrics_bind = "127.0.0.1";  ///< METRICS_BIND: a loopback address only
    DefaultServer default_server;
    core::ShopSettings shop;
    domain::ReceiptPolicy receipts;                               ///< MAX_RECEIPT_BYTES
    std::chrono::seconds unpaid_timeout{std::chrono::hours(24)};  ///< ORDER_TIMEOUT_HOURS
    bot::jobs::JobsConfig jobs;  ///< JOBS_ENABLED, JOB_*_INTERVAL_MINUTES, thresholds (bot/jobs/jobs.hpp)

    /// Values that must never appear in logs.
    std::vector<std::string> secrets() const { return {discord_token, default_server.key}; }
};

/// Reads and checks every key; the error names every missing or invalid key, one per line.
common::Result<BotConfig, std::string> load_bot_config(const common::Environment& env);

}  // namespace nebula::bot::app
