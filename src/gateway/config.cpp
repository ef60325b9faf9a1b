#include "gateway/config.hpp"

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "common/config.hpp"
#include "common/http.hpp"

namespace nebula::gateway {
namespace {

constexpr std::size_t kMinSecretLength = 32;

bool readable_file(const std::string& path) {
    std::error_code ec;
    return std::filesystem::is_regular_file(path, ec);
}

/// "YYYY-MM-DD" as midnight UTC of that day.
std::optional<std::chrono::system_clock::time_point> parse_date(const std::string& text) {
    int y = 0;
    unsigned m = 0, d = 0;
    char dash1 = 0, dash2 = 0, extra = 0;
    if (std::sscanf(text.c_str(), "%4d%c%2u%c%2u%c", &y, &dash1, &m, &dash2, &d, &extra) != 5 ||
        dash1 != '-' || dash2 != '-') {
        return std::nullopt;
    }
    const std::chrono::year_month_day day{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
    if (!day.ok()) return std::nullopt;
    return std::chrono::sys_days{day};
}

}  // namespace

bool is_loopback_url(const std::string& url) {
    auto parsed = common::http::Url::parse(url);
    if (!parsed) return false;
    if (common::http::iequals(parsed->host, "localhost")) return true;
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(parsed->host, ec);
    return !ec && is_loopback(address);
}

std::optional<std::string> previous_key_notice(const GatewayConfig& config,
                                               std::chrono::system_clock::time_point now) {
    if (config.previous_secret_key.empty() || !config.previous_key_since) return std::nullopt;
    const auto days = std::chrono::floor<std::chrono::days>(now - *config.previous_key_since);
    if (days < kPreviousKeyGrace) return std::nullopt;
    return "API_SECRET_KEY_PREVIOUS is still set " + std::to_string(days.count()) +
           " days into the key rotation: once the bot uses the new key (/admin server test), remove "
           "it and restart, or the old key keeps working (docs/operations.md, Key rotation)";
}

std::vector<std::string> GatewayConfig::secrets() const {
    return {secret_key, previous_secret_key, panel_password, panel_api_token};
}

common::http::ServerOptions server_options(const GatewayConfig& config) {
    common::http::ServerOptions o;
    o.address = config.bind_address;
    o.port = config.port;
    if (!config.plain_http) o.tls = common::http::TlsFiles{config.cert_path, config.key_path};
    o.max_connections = config.max_connections;
    o.max_connections_per_ip = std::min(config.max_connections_per_ip, config.max_connections);
    // Allowlisted peers always find at least their own per-address allowance free, whatever the
    // others (connections through a trusted proxy) hold; never more than half of all slots.
    o.reserved_connections = std::min(o.max_connections_per_ip, config.max_connections / 2);
    return o;
}

common::Result<GatewayConfig, std::string> load_gateway_config(const common::Environment& env) {
    common::ConfigReader r(env);
    GatewayConfig c;
    c.port = static_cast<std::uint16_t>(r.integer("PORT", 8443, 0, 65535));  // 0: any free port (tests, demo)
    c.bind_address = r.optional("BIND_ADDRESS", "0.0.0.0");
    c.plain_http = r.boolean("PLAIN_HTTP", false);
    c.cert_path = r.optional("SSL_CERT_PATH");
    c.key_path = r.optional("SSL_KEY_PATH");

    c.secret_key = r.secret("API_SECRET_KEY", kMinSecretLength);
    c.previous_secret_key = r.secret("API_SECRET_KEY_PREVIOUS", kMinSecretLength, false);
    if (const std::string since = r.optional("API_SECRET_KEY_PREVIOUS_SINCE"); !since.empty()) {
        if (auto day = parse_date(since)) {
            c.previous_key_since = *day;
        } else {
            r.fail("API_SECRET_KEY_PREVIOUS_SINCE", "must be a date YYYY-MM-DD (got \"" + since + "\")");
        }
    }

    c.panel_url = r.url("PANEL_URL");
    c.panel_allow_remote = r.boolean("PANEL_ALLOW_REMOTE", false);
    if (!c.panel_url.empty() && !c.panel_allow_remote && common::http::Url::parse(c.panel_url) &&
        !is_loopback_url(c.panel_url)) {
        r.fail("PANEL_URL",
               "is not on this machine (got \"" + c.panel_url +
                   "\"): the panel belongs on 127.0.0.1 next to the gateway; set PANEL_ALLOW_REMOTE=true "
                   "only if it must be reached over the network (then use https)");
    }
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
    const auto shared = common::read_shared_settings(r);
    c.metrics_port = shared.metrics_port;
    c.metrics_bind = shared.metrics_bind;
    c.log_dir = shared.log_dir;
    c.log_level = shared.log_level;

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

    if (auto status = r.finish(); !status) return common::unexpected(status.error());
    return c;
}

}  // namespace nebula::gateway
