#include "bot/app/check.hpp"

#include <exception>
#include <memory>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "bot/db/connection.hpp"
#include "bot/db/migrations.hpp"
#include "bot/domain/catalog.hpp"
#include "bot/gateway_client/http_gateway_client.hpp"
#include "discord/rest.hpp"

namespace nebula::bot::app {
namespace asio = boost::asio;
namespace {

constexpr std::chrono::seconds kNetworkDeadline{10};

struct GatewayTarget {
    std::string name;
    std::string url;
    std::string key;
    std::string pin;
};

CheckResult pass(std::string name, std::string detail) { return {std::move(name), true, std::move(detail)}; }
CheckResult fail(std::string name, std::string detail) { return {std::move(name), false, std::move(detail)}; }

/// The database checks; fills `targets` with the enabled servers when the table can be read.
void check_database(const BotConfig& config, const common::Clock& clock, std::vector<CheckResult>& out,
                    std::vector<GatewayTarget>& targets) {
    const std::string where = config.database.redacted();
    // Read-only: a check never creates a database file or changes one.
    auto connection = db::open_connection(config.database, db::Access::read_only);
    if (!connection) {
        out.push_back(fail("database", where + ": " + connection.error() +
                                           " — fix DATABASE_URL (file path and permissions, or the "
                                           "PostgreSQL host, user and password); a new SQLite database is "
                                           "made by `nebula-bot migrate`"));
        return;
    }
    out.push_back(pass("database", where + " opens"));
    try {
        const auto pending = db::pending_migrations(**connection);
        if (!pending.empty()) {
            out.push_back(fail("migrations", std::to_string(pending.size()) + " pending (first: " +
                                                 pending.front() + ") — run `nebula-bot migrate`"));
            return;
        }
        if (auto schema = db::check_schema(**connection); !schema) {
            out.push_back(fail("migrations", schema.error().message));
            return;
        }
        out.push_back(pass("migrations", "schema is current"));
        domain::CatalogService catalog(clock);
        for (const auto& server : catalog.servers(**connection)) {
            if (!server.enabled) continue;
            targets.push_back({server.spec.name, server.spec.gateway_url, server.spec.gateway_key,
                               server.spec.tls_pin_sha256});
        }
    } catch (const std::exception& e) {
        out.push_back(fail("migrations", std::string("cannot read the schema: ") + e.what()));
    }
}

std::string gateway_fix(const domain::GatewayError& e) {
    switch (e.code) {
        case domain::GatewayErrorCode::unreachable:
            return e.message +
                   " — is nebula-gateway running there, does its firewall let this host reach the port, "
                   "and is the certificate pin (or CA) right?";
        case domain::GatewayErrorCode::timeout:
            return "no answer within " + std::to_string(kNetworkDeadline.count()) +
                   " s — check the route to the gateway and its load";
        case domain::GatewayErrorCode::rejected:
            if (e.status == 401) {
                return "signature refused (401) — the server's key must equal the gateway's API_SECRET_KEY, "
                       "and both clocks must be within 5 minutes";
            }
            if (e.status == 403)
                return "forbidden (403) — add this host's address to the gateway's ALLOWED_IPS";
            return "refused (" + std::to_string(e.status) + "): " + e.message;
        case domain::GatewayErrorCode::server_error:
            return "gateway error (" + std::to_string(e.status) + "): " + e.message +
                   " — run `nebula-gateway check` on that server";
        default:
            return e.message;
    }
}

asio::awaitable<void> check_network(asio::any_io_executor executor, const BotConfig& config,
                                    const common::Clock& clock, std::vector<GatewayTarget> targets,
                                    std::vector<CheckResult>& out) {
    discord::RestOptions options;
    options.api_base = config.discord_api_base;
    options.token = config.discord_token;
    options.ca_file = config.discord_ca_file;
    options.request_timeout = kNetworkDeadline;
    options.max_retries = 1;
    auto rest = discord::RestClient::create(executor, options, clock);
    if (!rest) {
        out.push_back(fail("discord", rest.error() + " — fix DISCORD_API_BASE or DISCORD_CA_FILE"));
    } else {
        auto me = co_await (*rest)->get_current_user();
        if (me) {
            out.push_back(
                pass("discord", "token accepted: logged in as " + me->username + " (" + me->id.str() + ")"));
        } else if (me.error().code == discord::RestErrorCode::unauthorized) {
            out.push_back(fail("discord",
                               "DISCORD_TOKEN rejected (401) — copy the token again from the "
                               "Developer Portal (Bot → Reset Token)"));
        } else {
            out.push_back(fail(
                "discord", me.error().describe() + " — check outbound HTTPS to " + config.discord_api_base));
        }
        rest->reset();
    }

    if (targets.empty()) {
        out.push_back(
            fail("gateways", "no enabled server — add one with /admin server add or set API_GATEWAY_URL"));
    }
    for (const auto& target : targets) {
        const std::string name = "gateway " + target.name + " (" + target.url + ")";
        gateway_client::HttpGatewayOptions o;
        o.base_url = target.url;
        o.key = target.key;
        o.pinned_sha256 = target.pin;
        o.timeout = kNetworkDeadline;
        auto client = gateway_client::HttpGatewayClient::create(executor, o, clock);
        if (!client) {
            out.push_back(fail(name, client.error()));
            continue;
        }
        auto health = co_await (*client)->health();
        if (!health) {
            out.push_back(fail(name, gateway_fix(health.error())));
        } else if (health->status != "ok") {
            out.push_back(fail(name, "gateway " + health->version + " answers, but its panel is " +
                                         health->panel + " — run `nebula-gateway check` on that server"));
        } else {
            out.push_back(
                pass(name, "signed health ok, panel " + health->panel + ", gateway " + health->version));
        }
    }
}

}  // namespace

std::string format_check(const CheckResult& result) {
    return std::string(result.ok ? "OK   " : "FAIL ") + result.name + ": " + result.detail;
}

std::vector<CheckResult> check_bot(const BotConfig& config, const common::Clock& clock) {
    std::vector<CheckResult> out;
    std::vector<GatewayTarget> targets;
    check_database(config, clock, out, targets);
    const auto& def = config.default_server;
    bool listed = false;
    for (const auto& t : targets) listed = listed || t.url == def.gateway_url;
    if (!listed && !def.gateway_url.empty()) {
        targets.push_back(
            {def.name.empty() ? "default" : def.name, def.gateway_url, def.key, def.tls_pin_sha256});
    }

    asio::io_context io;
    std::exception_ptr failure;
    asio::co_spawn(io, check_network(io.get_executor(), config, clock, std::move(targets), out),
                   [&](std::exception_ptr e) { failure = e; });
    io.run();
    if (failure) std::rethrow_exception(failure);
    return out;
}

}  // namespace nebula::bot::app
