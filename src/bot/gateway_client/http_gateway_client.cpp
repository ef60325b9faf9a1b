#include "bot/gateway_client/http_gateway_client.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "common/http.hpp"
#include "common/http_client.hpp"
#include "common/signing.hpp"

namespace nebula::bot::gateway_client {

using domain::GatewayError;
using domain::GatewayErrorCode;
using nlohmann::json;

struct HttpGatewayClient::Reply {
    int status = 0;
    json body;
};

namespace {

GatewayError bad_response(const std::string& what) { return {GatewayErrorCode::bad_response, 0, what}; }

domain::GatewayClientInfo parse_client(const json& c) {
    domain::GatewayClientInfo info;
    info.email = c.at("email").get<std::string>();
    info.uuid = c.value("uuid", "");
    info.inbound_id = c.value("inbound_id", 0);
    info.sub_id = c.value("sub_id", "");
    info.up = c.value("up", std::int64_t{0});
    info.down = c.value("down", std::int64_t{0});
    info.total_bytes = c.value("total_bytes", std::int64_t{0});
    info.expiry_ms = c.value("expiry_ms", std::int64_t{0});
    info.limit_ip = c.value("limit_ip", 0);
    info.enable = c.value("enable", true);
    info.comment = c.value("comment", "");
    return info;
}

domain::ClientWithLinks parse_client_with_links(const json& body) {
    domain::ClientWithLinks result;
    result.client = parse_client(body.at("client"));
    if (body.contains("links")) {
        result.links.vless = body["links"].value("vless", "");
        result.links.subscription = body["links"].value("subscription", "");
    }
    return result;
}

std::string client_path(const std::string& email) {
    return "/api/clients/" + common::http::url_encode(email);
}

// Runs a parser over a reply; a body that does not match the protocol is bad_response.
template <typename T, typename F>
domain::GatewayResult<T> parse(const json& body, F&& parser) {
    try {
        return parser(body);
    } catch (const json::exception& error) {
        return common::unexpected(bad_response(std::string("unexpected response body: ") + error.what()));
    }
}

}  // namespace

common::Result<std::unique_ptr<HttpGatewayClient>, std::string> HttpGatewayClient::create(
    boost::asio::any_io_executor executor, HttpGatewayOptions options, const common::Clock& clock) {
    auto url = common::http::Url::parse(options.base_url);
    if (!url) return common::unexpected("gateway URL: " + url.error());
    if (!url->tls()) return common::unexpected(std::string("gateway URL must be https://"));
    common::http::ClientOptions client_options;
    client_options.base = *url;
    client_options.request_timeout = options.timeout;
    client_options.connect_timeout = std::min(options.timeout, std::chrono::milliseconds(5'000));
    client_options.pinned_sha256 = options.pinned_sha256;
    client_options.ca_file = options.ca_file;
    client_options.local_address = options.local_address;
    // Every request carries a one-time nonce: call() retries with a fresh signature instead.
    client_options.resend_idempotent = false;
    auto client = common::http::Client::create(std::move(executor), std::move(client_options));
    if (!client) return common::unexpected(client.error());
    return std::unique_ptr<HttpGatewayClient>(
        new HttpGatewayClient(std::move(client).value(), std::move(options), clock));
}

HttpGatewayClient::HttpGatewayClient(std::unique_ptr<common::http::Client> client, HttpGatewayOptions options,
                                     const common::Clock& clock)
    : client_(std::move(client)), options_(std::move(options)), clock_(clock) {}

HttpGatewayClient::~HttpGatewayClient() = default;

boost::asio::awaitable<domain::GatewayResult<HttpGatewayClient::Reply>> HttpGatewayClient::call(
    std::string method, std::string target, std::string body, bool idempotent) {
    // The whole call, retries included, stays within the one time budget (options_.timeout).
    const auto deadline = std::chrono::steady_clock::now() + options_.timeout;
    const int attempts = idempotent ? std::max(1, options_.max_attempts) : 1;
    common::Result<common::http::Response, common::http::ClientError> response =
        common::unexpected(common::http::ClientError{common::http::ClientErrorCode::io, "not sent"});
    for (int attempt = 1;; ++attempt) {
        // Signed afresh for every attempt: a nonce is good for one request only, and the gateway
        // may have seen the one of an attempt whose answer was lost.
        common::http::Request request;
        request.method = method;
        request.target = target;
        const auto signature =
            common::signing::sign(options_.key, method, target, clock_.unix_seconds(), body);
        request.headers.set(common::signing::kTimestampHeader, signature.timestamp);
        request.headers.set(common::signing::kNonceHeader, signature.nonce);
        request.headers.set(common::signing::kSignatureHeader, signature.signature);
        request.headers.set("Accept", "application/json");
        if (!body.empty()) request.headers.set("Content-Type", "application/json");
        request.body = body;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left <= std::chrono::milliseconds::zero()) break;
        response = co_await client_->send(std::move(request), left);
        if (response) break;
        // Only a gateway that is not there (refused, reset, closed) is worth another attempt: a
        // timeout has used the budget, a TLS or pin failure will not heal by itself.
        const auto code = response.error().code;
        const bool transient =
            code == common::http::ClientErrorCode::connect || code == common::http::ClientErrorCode::io;
        if (!transient || attempt >= attempts) break;
        const auto pause = options_.retry_pause * (1 << (attempt - 1));
        if (std::chrono::steady_clock::now() + pause >= deadline) break;
        spdlog::info("gateway {}: {} {} failed ({}); trying again in {} ms", options_.base_url, method,
                     target, response.error().message, pause.count());
        if (on_retry_) on_retry_();
        boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, pause);
        auto [ec] = co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
        (void)ec;
    }
    if (!response) {
        const auto& failure = response.error();
        if (failure.code == common::http::ClientErrorCode::pin_mismatch) {
            spdlog::error("gateway {}: {}", options_.base_url, failure.message);
            co_return common::unexpected(GatewayError{GatewayErrorCode::unreachable, 0, failure.message});
        }
        const auto code = failure.code == common::http::ClientErrorCode::timeout
                              ? GatewayErrorCode::timeout
                              : GatewayErrorCode::unreachable;
        co_return common::unexpected(GatewayError{
            code, 0, std::string(common::http::to_string(failure.code)) + ": " + failure.message});
    }
    Reply reply;
    reply.status = response->status;
    if (!response->body.empty()) {
        reply.body = json::parse(response->body, nullptr, false);
        if (reply.body.is_discarded()) {
            if (reply.status >= 200 && reply.status < 300)
                co_return common::unexpected(bad_response("response is not JSON"));
            reply.body = json::object();
        }
    }
    if (reply.status >= 200 && reply.status < 300) co_return reply;

    std::string message = common::http::reason(reply.status).empty()
                              ? "HTTP error"
                              : std::string(common::http::reason(reply.status));
    if (reply.body.is_object() && reply.body.contains("error") && reply.body["error"].is_object()) {
        message = reply.body["error"].value("code", "") + ": " + reply.body["error"].value("message", "");
    }
    GatewayErrorCode code = GatewayErrorCode::rejected;
    if (reply.status == 404) code = GatewayErrorCode::not_found;
    if (reply.status == 409) code = GatewayErrorCode::conflict;
    if (reply.status >= 500 || reply.status == 429) code = GatewayErrorCode::server_error;
    co_return common::unexpected(GatewayError{code, reply.status, message});
}

boost::asio::awaitable<domain::GatewayResult<domain::ClientWithLinks>> HttpGatewayClient::create_client(
    domain::NewClient client) {
    json body = {{"inbound_id", client.inbound_id},
                 {"email", client.email},
                 {"uuid", client.uuid},
                 {"total_bytes", client.total_bytes},
                 {"expiry_ms", client.expiry_ms},
                 {"limit_ip", client.limit_ip},
                 {"enable", client.enable}};
    if (!client.sub_id.empty()) body["sub_id"] = client.sub_id;
    if (!client.comment.empty()) body["comment"] = client.comment;
    // The same email with the same uuid is the same client: a repeat after a lost answer is safe.
    auto reply = co_await call("POST", "/api/clients", body.dump(), !client.uuid.empty());
    if (!reply) co_return common::unexpected(reply.error());
    co_return parse<domain::ClientWithLinks>(reply->body, parse_client_with_links);
}

boost::asio::awaitable<domain::GatewayResult<domain::ClientWithLinks>> HttpGatewayClient::get_client(
    std::string email) {
    auto reply = co_await call("GET", client_path(email), "");
    if (!reply) co_return common::unexpected(reply.error());
    co_return parse<domain::ClientWithLinks>(reply->body, parse_client_with_links);
}

boost::asio::awaitable<domain::GatewayResult<domain::GatewayClientInfo>> HttpGatewayClient::update_client(
    std::string email, domain::ClientChange change) {
    json body = json::object();
    if (change.expiry_ms) body["expiry_ms"] = *change.expiry_ms;
    if (change.total_bytes) body["total_bytes"] = *change.total_bytes;
    if (change.limit_ip) body["limit_ip"] = *change.limit_ip;
    if (change.enable) body["enable"] = *change.enable;
    auto reply = co_await call("PATCH", client_path(email), body.dump());
    if (!reply) co_return common::unexpected(reply.error());
    co_return parse<domain::GatewayClientInfo>(reply->body,
                                               [](const json& b) { return parse_client(b.at("client")); });
}

boost::asio::awaitable<domain::GatewayResult<domain::GatewayClientInfo>> HttpGatewayClient::reset_traffic(
    std::string email) {
    auto reply = co_await call("POST", client_path(email) + "/reset-traffic", "", true);
    if (!reply) co_return common::unexpected(reply.error());
    co_return parse<domain::GatewayClientInfo>(reply->body,
                                               [](const json& b) { return parse_client(b.at("client")); });
}

boost::asio::awaitable<common::Status<GatewayError>> HttpGatewayClient::delete_client(std::string email) {
    auto reply = co_await call("DELETE", client_path(email), "");
    if (!reply && reply.error().code != GatewayErrorCode::not_found)
        co_return common::unexpected(reply.error());
    co_return common::Status<GatewayError>{};
}

boost::asio::awaitable<domain::GatewayResult<std::vector<domain::TrafficEntry>>>
HttpGatewayClient::traffic() {
    auto reply = co_await call("GET", "/api/traffic", "");
    if (!reply) co_return common::unexpected(reply.error());
    co_return parse<std::vector<domain::TrafficEntry>>(reply->body, [](const json& b) {
        std::vector<domain::TrafficEntry> entries;
        for (const auto& c : b.at("clients")) {
            entries.push_back({c.at("email").get<std::string>(), c.value("up", std::int64_t{0}),
                               c.value("down", std::int64_t{0}), c.value("total_bytes", std::int64_t{0}),
                               c.value("expiry_ms", std::int64_t{0}), c.value("enable", true)});
        }
        return entries;
    });
}

boost::asio::awaitable<domain::GatewayResult<domain::DisableOutcome>> HttpGatewayClient::disable_clients(
    std::vector<std::string> emails) {
    // Built outside the co_await expression: g++ 12 miscompiles braced temporaries there.
    json body = json::object();
    body["emails"] = std::move(emails);
    auto reply = co_await call("POST", "/api/clients/disable", body.dump(), true);
    if (!reply) co_return common::unexpected(reply.error());
    co_return parse<domain::DisableOutcome>(reply->body, [](const json& b) {
        return domain::DisableOutcome{b.at("disabled").get<std::vector<std::string>>(),
                                      b.at("missing").get<std::vector<std::string>>()};
    });
}

boost::asio::awaitable<domain::GatewayResult<domain::GatewayHealth>> HttpGatewayClient::health() {
    auto reply = co_await call("GET", "/api/health", "");
    if (!reply) co_return common::unexpected(reply.error());
    co_return parse<domain::GatewayHealth>(reply->body, [](const json& b) {
        return domain::GatewayHealth{b.at("status").get<std::string>(), b.value("panel", ""),
                                     b.value("version", ""), b.value("uptime_s", std::int64_t{0})};
    });
}

domain::GatewayClient& HttpGatewayDirectory::gateway_for(const domain::Server& server) {
    const std::string fingerprint =
        server.spec.gateway_url + "\n" + server.spec.gateway_key + "\n" + server.spec.tls_pin_sha256;
    auto& entry = clients_[server.id.value];
    if (!entry.client || entry.fingerprint != fingerprint) {
        HttpGatewayOptions options;
        options.base_url = server.spec.gateway_url;
        options.key = server.spec.gateway_key;
        options.pinned_sha256 = server.spec.tls_pin_sha256;
        options.timeout = timeout_;
        auto client = HttpGatewayClient::create(executor_, std::move(options), clock_);
        if (!client)
            throw std::runtime_error("gateway client for server " + server.spec.name + ": " + client.error());
        entry = Entry{fingerprint, std::move(client).value()};
    }
    return *entry.client;
}

}  // namespace nebula::bot::gateway_client
