#include "gateway/config.hpp"

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <filesystem>

#include "common/config.hpp"
#include "common/http.hpp"
#include "common/metrics.hpp"

namespace nebula::gateway {
namespace {

constexpr std::size_t kMinSecretLength = 32;

bool readable_file(const std::string& path) {
    std::error_code ec;
    return std::filesystem::is_regular_file(path, ec);
}

}  // namespace

std::vector<std::string> GatewayConfig::secrets() const {
    return {secret_key, previous_secret_key, panel_password, panel_api_token};
}

http::ServerOptions server_options(const GatewayConfig& config) {
    http::ServerOptions o;
    o.address = config.bind_address;
    o.port = config.port;
    if (!config.plain_http) o.tls = http::TlsFiles{config.cert_path, config.key_path};
    o.max_connections = config.max_connections;
    o.max_connections_per_ip = std::min(config.max_connections_per_ip, config.max_connections);
    // Allowlisted peers always find at least their own per-address allowance free, whatever the
    // others (connections through a trusted proxy) hold; never more than half of all slots.
    o.reserved_connections = std::min(o.max_connections_per_ip, config.max_connections / 2);
    return o;
}

Result<GatewayConfig, std::string> load_gateway_config(const common::Environment& env) {
    common::ConfigReader r(env);
    GatewayConfig c;
    c.port = static_cast<std::uint16_t>(r.integer("PORT", 8443, 0, 65535));  // 0: any free port (tests, demo)
    c.bind_address = r.optional("BIND_ADDRESS", "0.0.0.0");
    c.plain_http = r.boolean("PLAIN_HTTP", false);
    c.cert_path = r.optional("SSL_CERT_PATH");
    c.key_path = r.optional("SSL_KEY_PATH");

    c.secret_key = r.secret("API_SECRET_KEY", kMinSecretLength);
    c.previous_secret_key = r.secret("API_SECRET_KEY_PREVIOUS", kMinSecretLength, false);

    c.panel_url = r.url("PANEL_URL");
    c.panel_base_path = r.optional("PANEL_BASE_PATH", "/");
    c.panel_api_token = r.secret("PANEL_API_TOKEN", 1, false);
    c.panel_username = r.optional("PANEL_USERNAME");
    c.panel_password = r.secret("PANEL_PASSWORD", 1, false);
    if (c.panel_api_token.empty()) {
        if (c.panel_username.empty()) r.fail("PANEL_USERNAME", "is required (or set PANEL_API_TOKEN)");
        if (c.panel_password.empty()) r.fail("PANEL_PASSWORD", "is required (or set PANEL_API_TOKEN)");
    }
    c.panel_ca_file = r.optional("PANEL_CA_FILE");
    c.panel_timeout = std::chrono::milliseconds{r.integer("PANEL_TIMEOUT_MS", 10'000, 100, 120'000)};

    c.public_host = r.required("PUBLIC_HOST");
    if (!c.public_host.empty()) {
        boost::system::error_code host_ec;
        const bool has_colon = c.public_host.find(':') != std::string::npos;
        if (c.public_host.find_first_of("/ ?#@[]") != std::string::npos ||
            (has_colon && (boost::asio::ip::make_address_v6(c.public_host, host_ec), host_ec))) {
            r.fail("PUBLIC_HOST",
                   "must be a bare host name or IP address, without scheme, port or path (got \"" +
                       c.public_host + "\")");
        }
    }
    const std::string host_for_url =
        c.public_host.find(':') != std::string::npos ? "[" + c.public_host + "]" : c.public_host;
    c.sub_url_base =
        r.url("SUB_URL_BASE", c.public_host.empty() ? "" : "https://" + host_for_url + ":2096/sub/");

    c.rate_limit_per_minute = static_cast<int>(r.integer("RATE_LIMIT_PER_MINUTE", 100, 1, 1'000'000));
    c.max_connections = static_cast<std::size_t>(r.integer("MAX_CONNECTIONS", 256, 1, 100'000));
    c.max_connections_per_ip = static_cast<std::size_t>(r.integer("MAX_CONNECTIONS_PER_IP", 64, 1, 100'000));
    c.replay_cache_size =
        static_cast<std::size_t>(r.integer("REPLAY_CACHE_SIZE", 200'000, 1'000, 50'000'000));
    c.health_cache = r.seconds("HEALTH_CACHE_SECONDS", std::chrono::seconds{5});
    c.shutdown_grace = r.seconds("SHUTDOWN_GRACE_SECONDS", std::chrono::seconds{10});
    c.bench_baseline_route = r.boolean("BENCH_BASELINE_ROUTE", false);
    if (const auto metrics_port = r.integer("METRICS_PORT", 0, 0, 65535); metrics_port != 0) {
        c.metrics_port = static_cast<std::uint16_t>(metrics_port);
    }
    c.metrics_bind = r.optional("METRICS_BIND", "127.0.0.1");
    if (!common::metrics::is_loopback_literal(c.metrics_bind)) {
        r.fail("METRICS_BIND",
               "must be a loopback address (127.0.0.1 or ::1): metrics have no authentication");
    }
    c.log_dir = r.optional("LOG_DIR", "logs");
    c.log_level = r.optional("LOG_LEVEL", "info");
    if (c.log_level != "trace" && c.log_level != "debug" && c.log_level != "info" && c.log_level != "warn" &&
        c.log_level != "error") {
        r.fail("LOG_LEVEL", "must be one of trace, debug, info, warn, error");
    }

    auto allowed = IpAllowlist::parse(r.list("ALLOWED_IPS"));
    if (allowed) {
        c.allowed_ips = std::move(allowed.value());
    } else {
        r.fail("ALLOWED_IPS", allowed.error());
    }
    auto proxies = IpAllowlist::parse(r.list("TRUSTED_PROXIES"));
    if (proxies) {
        c.trusted_proxies = std::move(proxies.value());
    } else {
        r.fail("TRUSTED_PROXIES", proxies.error());
    }

    boost::system::error_code ec;
    auto bind = boost::asio::ip::make_address(c.bind_address, ec);
    const bool loopback = !ec && is_loopback(bind);
    if (ec) r.fail("BIND_ADDRESS", "is not an IP address (got \"" + c.bind_address + "\")");

    if (c.plain_http) {
        if (!ec && !loopback) {
            r.fail("PLAIN_HTTP",
                   "is only allowed with a loopback BIND_ADDRESS (127.0.0.1 or ::1); "
                   "use SSL_CERT_PATH and SSL_KEY_PATH for anything else");
        }
    } else {
        if (c.cert_path.empty()) {
            r.fail("SSL_CERT_PATH", "is required (HTTPS is mandatory unless PLAIN_HTTP=true on loopback)");
        } else if (!readable_file(c.cert_path)) {
            r.fail("SSL_CERT_PATH", "does not name a readable file (" + c.cert_path + ")");
        }
        if (c.key_path.empty()) {
            r.fail("SSL_KEY_PATH", "is required (HTTPS is mandatory unless PLAIN_HTTP=true on loopback)");
        } else if (!readable_file(c.key_path)) {
            r.fail("SSL_KEY_PATH", "does not name a readable file (" + c.key_path + ")");
        }
    }
    if (c.allowed_ips.empty() && !ec && !loopback) {
        r.fail("ALLOWED_IPS", "is empty: list the bot's address (an empty list is only allowed on loopback)");
    }
    if (c.bench_baseline_route && !ec && !loopback) {
        r.fail("BENCH_BASELINE_ROUTE", "is only allowed with a loopback BIND_ADDRESS");
    }
    if (!c.previous_secret_key.empty() && c.previous_secret_key == c.secret_key) {
        r.fail("API_SECRET_KEY_PREVIOUS", "must differ from API_SECRET_KEY");
    }

    if (auto status = r.finish(); !status) return unexpected(status.error());
    return c;
}

}  // namespace nebula::gateway
