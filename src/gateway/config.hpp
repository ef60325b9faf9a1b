#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/dotenv.hpp"
#include "common/http_server.hpp"
#include "common/result.hpp"
#include "gateway/auth/ip_allowlist.hpp"

namespace nebula::gateway {

/// nebula-gateway's configuration, read once at start-up (see README "Configuration").
struct GatewayConfig {
    std::string bind_address = "0.0.0.0";
    std::uint16_t port = 8443;
    bool plain_http = false;  ///< only with a loopback bind address
    std::string cert_path, key_path;

    std::string secret_key;
    std::string previous_secret_key;
    /// When the rotation began (API_SECRET_KEY_PREVIOUS_SINCE, a date YYYY-MM-DD); unset = the
    /// modification time of the configuration file (see previous_key_notice).
    std::optional<std::chrono::system_clock::time_point> previous_key_since;

    std::string panel_url;
    bool panel_allow_remote = false;  ///< PANEL_ALLOW_REMOTE: a PANEL_URL on another host is allowed
    std::string panel_base_path = "/";
    std::string panel_username, panel_password, panel_api_token, panel_ca_file;
    std::chrono::milliseconds panel_timeout{10'000};

    std::string public_host;
    std::string sub_url_base;

    IpAllowlist allowed_ips;
    IpAllowlist trusted_proxies;
    int rate_limit_per_minute = 100;
    std::size_t max_connections = 256;
    /// Connections one address may hold; allowlisted peers also have this many slots kept for them.
    std::size_t max_connections_per_ip = 64;
    std::size_t replay_cache_size = 200'000;
    std::chrono::seconds health_cache{5};
    std::chrono::seconds shutdown_grace{10};
    bool bench_baseline_route = false;  ///< unsigned GET /bench/baseline, loopback only

    /// METRICS_PORT: the Prometheus endpoint's port; none = off (0 in the file). 0 here means
    /// any free port (tests).
    std::optional<std::uint16_t> metrics_port;
    std::string metrics_bind = "127.0.0.1";  ///< METRICS_BIND: a loopback address only

    std::string log_dir = "logs";
    std::string log_level = "info";

    /// Values that must never reach a log line.
    std::vector<std::string> secrets() const;
};

/// The HTTP server's options for `config`: TLS, the connection caps and the reserve.
common::http::ServerOptions server_options(const GatewayConfig& config);

/// Reads and validates every key; the error names each missing or invalid key.
common::Result<GatewayConfig, std::string> load_gateway_config(const common::Environment& env);

/// A key rotation left half done is a second key that never dies: after this long with
/// API_SECRET_KEY_PREVIOUS set, start-up and `check` say so.
inline constexpr std::chrono::days kPreviousKeyGrace{7};

/// The warning to give while API_SECRET_KEY_PREVIOUS is still set `kPreviousKeyGrace` or more
/// after `config.previous_key_since`; nullopt when there is none to give (no previous key, or
/// the rotation is recent, or its start is unknown).
std::optional<std::string> previous_key_notice(const GatewayConfig& config,
                                               std::chrono::system_clock::time_point now);

/// True for a URL whose host is this machine: a loopback IP literal or "localhost".
bool is_loopback_url(const std::string& url);

}  // namespace nebula::gateway
