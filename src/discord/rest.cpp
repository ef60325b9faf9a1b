#include "discord/rest.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <random>
#include <unordered_map>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/crypto.hpp"
#include "common/http_client.hpp"
#include "discord/text.hpp"

namespace nebula::discord {

namespace asio = boost::asio;
using nlohmann::json;

std::string_view to_string(RestErrorCode code) {
    switch (code) {
        case RestErrorCode::network:
            return "network";
        case RestErrorCode::timeout:
            return "timeout";
        case RestErrorCode::rate_limited:
            return "rate_limited";
        case RestErrorCode::unauthorized:
            return "unauthorized";
        case RestErrorCode::forbidden:
            return "forbidden";
        case RestErrorCode::not_found:
            return "not_found";
        case RestErrorCode::bad_request:
            return "bad_request";
        case RestErrorCode::server:
            return "server";
        case RestErrorCode::invalid_budget:
            return "invalid_budget";
        case RestErrorCode::bad_response:
            return "bad_response";
        case RestErrorCode::too_large:
            return "too_large";
        case RestErrorCode::bad_content_type:
            return "bad_content_type";
        case RestErrorCode::bad_url:
            return "bad_url";
        case RestErrorCode::expired:
            return "expired";
        case RestErrorCode::invalid_state:
            return "invalid_state";
    }
    return "unknown";
}

std::string RestError::describe() const {
    std::string out(to_string(code));
    if (status != 0) out += " (HTTP " + std::to_string(status) + ")";
    if (discord_code != 0) out += " code " + std::to_string(discord_code);
    if (!message.empty()) out += ": " + message;
    return out;
}

std::string_view failure_cause(const RestError& error) {
    if (error.code == RestErrorCode::timeout) return "timeout";
    if (error.transport) return common::http::to_string(*error.transport);
    if (error.status != 0) return "status";
    return to_string(error.code);
}

std::string encode_multipart(std::string_view boundary, std::string_view payload_json,
                             const std::vector<FileData>& files) {
    auto quoted = [](std::string_view text) {
        // Quotes and line breaks cannot appear inside a quoted header parameter.
        std::string out;
        for (const char c : text) {
            if (c == '"')
                out += "%22";
            else if (c == '\r')
                out += "%0D";
            else if (c == '\n')
                out += "%0A";
            else
                out += c;
        }
        return out;
    };
    std::string body;
    body += "--";
    body += boundary;
    body +=
        "\r\nContent-Disposition: form-data; name=\"payload_json\"\r\nContent-Type: application/json\r\n\r\n";
    body += payload_json;
    for (std::size_t i = 0; i < files.size(); ++i) {
        body += "\r\n--";
        body += boundary;
        body += "\r\nContent-Disposition: form-data; name=\"files[" + std::to_string(i) + "]\"; filename=\"" +
                quoted(files[i].filename) + "\"\r\nContent-Type: " + quoted(files[i].content_type) +
                "\r\n\r\n";
        body += files[i].data;
    }
    body += "\r\n--";
    body += boundary;
    body += "--\r\n";
    return body;
}

namespace {

bool is_loopback_host(const std::string& host) {
    if (host == "localhost") return true;
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(host, ec);
    if (ec) return false;
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
        return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).is_loopback();
    }
    return address.is_loopback();
}

/// Connections to one Discord origin: ordinary REST calls, and interaction callbacks apart.
/// 64 callback connections carry 1,000 acknowledgements a second when Discord answers in 60 ms
/// (each connection about 16 a second), at no more than 64 TLS handshakes for a burst.
constexpr std::size_t kRestConnections = 16;
constexpr std::size_t kCallbackConnections = 64;

class ClientTransport final : public RestTransport {
  public:
    ClientTransport(asio::any_io_executor executor, std::string ca_file, std::string user_agent,
                    std::size_t max_response_bytes)
        : executor_(std::move(executor)),
          ca_file_(std::move(ca_file)),
          user_agent_(std::move(user_agent)),
          max_response_bytes_(max_response_bytes) {}

    asio::awaitable<common::Result<common::http::Response, common::http::ClientError>> send(
        const common::http::Url& origin, common::http::Request request,
        std::chrono::milliseconds timeout) override {
        return fetch(origin, std::move(request), timeout, max_response_bytes_);
    }

    asio::awaitable<common::Result<common::http::Response, common::http::ClientError>> fetch(
        const common::http::Url& origin, common::http::Request request, std::chrono::milliseconds timeout,
        std::size_t max_bytes) override {
        // One client per origin and size limit (the limit is enforced by the client's parser).
        // Interaction callbacks have a pool of their own, so a queue of ordinary REST calls never
        // delays an acknowledgement.
        const bool callback = request.target.find("/interactions/") != std::string::npos;
        const std::string key = origin.scheme + "://" + origin.authority() + " " + std::to_string(max_bytes) +
                                (callback ? " callbacks" : "");
        auto it = clients_.find(key);
        if (it == clients_.end()) {
            common::http::ClientOptions options;
            options.base = origin;
            options.request_timeout = timeout;
            options.ca_file = ca_file_;
            options.user_agent = user_agent_;
            options.max_response_bytes = max_bytes;
            options.max_connections = callback ? kCallbackConnections : kRestConnections;
            options.max_idle_connections = options.max_connections;
            // HTTP/2 when Discord offers it (it does): every request of this pool a stream on one
            // connection, so a burst of acknowledgements needs no connection per request.
            options.http2 = true;
            auto client = common::http::Client::create(executor_, std::move(options));
            if (!client)
                co_return common::unexpected(
                    common::http::ClientError{common::http::ClientErrorCode::connect, client.error()});
            it = clients_.emplace(key, std::move(*client)).first;
        }
        co_return co_await it->second->send(std::move(request), timeout);
    }

    common::http::ClientStats stats() const override {
        common::http::ClientStats total;
        for (const auto& [key, client] : clients_) {
            const auto s = client->stats();
            total.connections_opened += s.connections_opened;
            total.tls_full_handshakes += s.tls_full_handshakes;
            total.tls_resumed += s.tls_resumed;
            total.queued += s.queued;
            total.open += s.open;
            total.h2_connections += s.h2_connections;
            total.h2_streams += s.h2_streams;
            total.h2_retries += s.h2_retries;
        }
        return total;
    }

  private:
    asio::any_io_executor executor_;
    std::string ca_file_;
    std::string user_agent_;
    std::size_t max_response_bytes_;
    std::map<std::string, std::unique_ptr<common::http::Client>> clients_;
};

/// One request at a time per rate-limit queue, in arrival order.
struct QueueLock {
    bool busy = false;
    std::deque<std::shared_ptr<asio::steady_timer>> waiters;
};

RestErrorCode code_for_status(int status) {
    if (status == 401) return RestErrorCode::unauthorized;
    if (status == 403) return RestErrorCode::forbidden;
    if (status == 404) return RestErrorCode::not_found;
    if (status == 429) return RestErrorCode::rate_limited;
    if (status >= 500) return RestErrorCode::server;
    return RestErrorCode::bad_request;
}

RestError error_from_response(const common::http::Response& response) {
    RestError error{code_for_status(response.status), response.status, 0, {}};
    const auto body = json::parse(response.body, nullptr, false);
    if (body.is_object()) {
        if (const auto it = body.find("code"); it != body.end() && it->is_number_integer()) {
            error.discord_code = it->get<int>();
        }
        if (const auto it = body.find("message"); it != body.end() && it->is_string()) {
            error.message = truncate_text(it->get_ref<const std::string&>(), 500, "");
        }
        if (const auto it = body.find("errors"); it != body.end())
            error.message += " " + truncate_text(it->dump(), 1000, "");
    } else {
        error.message = std::string(common::http::reason(response.status));
    }
    return error;
}

template <typename T>
RestResult<T> parse_as(const RestResult<json>& raw, Parsed<T> (*parse)(const json&)) {
    if (!raw) return common::unexpected(raw.error());
    auto parsed = parse(*raw);
    if (!parsed)
        return common::unexpected(RestError{RestErrorCode::bad_response, 200, 0, parsed.error().describe()});
    return std::move(*parsed);
}

std::optional<json> no_body() { return std::nullopt; }

RestStatus to_status(const RestResult<json>& raw) {
    if (!raw) return common::unexpected(raw.error());
    return {};
}

}  // namespace

struct RestClient::Impl {
    asio::any_io_executor executor;
    RestOptions options;
    common::http::Url base;
    const common::Clock& clock;
    std::unique_ptr<common::Sleeper> sleeper;
    std::unique_ptr<RestTransport> transport;
    RateLimiter limiter;
    std::unordered_map<std::string, QueueLock> queues;
    std::mt19937_64 random{std::random_device{}()};
    bool unauthorized = false;
    std::size_t requests_sent = 0;
    std::size_t retries = 0;
    std::map<std::string, std::uint64_t, std::less<>> interaction_failures;
    std::uint64_t interaction_resends = 0;

    Impl(asio::any_io_executor ex, RestOptions opts, common::http::Url url, const common::Clock& c,
         std::unique_ptr<common::Sleeper> s, std::unique_ptr<RestTransport> t)
        : executor(std::move(ex)),
          options(std::move(opts)),
          base(std::move(url)),
          clock(c),
          sleeper(std::move(s)),
          transport(std::move(t)),
          limiter(c, options.rate_limits) {}

    asio::awaitable<void> lock(const std::string& id) {
        auto& queue = queues[id];
        if (!queue.busy) {
            queue.busy = true;
            co_return;
        }
        auto timer = std::make_shared<asio::steady_timer>(executor, asio::steady_timer::time_point::max());
        queue.waiters.push_back(timer);
        // unlock() hands the lock over by cancelling our timer.
        co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
    }

    void unlock(const std::string& id) {
        auto it = queues.find(id);
        if (it == queues.end()) return;
        if (it->second.waiters.empty()) {
            queues.erase(it);
            return;
        }
        auto next = std::move(it->second.waiters.front());
        it->second.waiters.pop_front();
        next->cancel();
    }

    std::chrono::steady_clock::time_point backoff(int attempt) {
        const auto base_ms = options.retry_base.count() << std::min(attempt, 16);
        const auto capped = std::min<long long>(base_ms, options.retry_cap.count());
        std::uniform_real_distribution<double> jitter(0.5, 1.0);
        return clock.steady_now() + std::chrono::milliseconds(
                                        static_cast<long long>(static_cast<double>(capped) * jitter(random)));
    }

    asio::awaitable<RestResult<json>> run(std::string method, std::string path, std::optional<json> body,
                                          RequestOptions request_options) {
        if (unauthorized) {
            co_return common::unexpected(
                RestError{RestErrorCode::unauthorized, 401, 0, "token rejected earlier; not sending"});
        }
        const RouteKey key = route_key(method, path);
        const bool safe =
            method == "GET" || method == "PUT" || method == "DELETE" || request_options.idempotent;

        common::http::Request request;
        request.method = method;
        request.target = base.path + path;
        if (!base.path.empty() && base.path.back() == '/') request.target = base.path + path.substr(1);
        request.headers.set("User-Agent", options.user_agent);
        if (!key.global_exempt) request.headers.set("Authorization", "Bot " + options.token);
        if (!request_options.audit_log_reason.empty()) {
            request.headers.set("X-Audit-Log-Reason",
                                common::http::url_encode(request_options.audit_log_reason));
        }
        if (!request_options.files.empty()) {
            const std::string boundary = "nebula-" + common::random_hex(16);
            request.headers.set("Content-Type", "multipart/form-data; boundary=" + boundary);
            request.body = encode_multipart(boundary, body ? body->dump() : "{}", request_options.files);
        } else if (body) {
            request.headers.set("Content-Type", "application/json");
            request.body = body->dump();
        }

        const std::string queue_id = limiter.queue_id(key);
        co_await lock(queue_id);
        struct Unlock {
            Impl* impl;
            std::string id;
            ~Unlock() { impl->unlock(id); }
        } unlock_guard{this, queue_id};

        int failures = 0;
        int limited = 0;
        while (true) {
            // Re-check after every wait: a global 429 elsewhere may have extended the pause.
            for (auto ready = limiter.ready_at(key); ready > clock.steady_now();
                 ready = limiter.ready_at(key)) {
                co_await sleeper->sleep_until(ready);
            }
            if (unauthorized) {
                co_return common::unexpected(
                    RestError{RestErrorCode::unauthorized, 401, 0, "token rejected; not sending"});
            }
            if (limiter.invalid_budget_exhausted()) {
                spdlog::error("discord: invalid-request budget spent; refusing {}", key.route);
                co_return common::unexpected(RestError{RestErrorCode::invalid_budget, 0, 0,
                                                       "too many 401/403/429 responses recently"});
            }
            limiter.on_send(key);
            ++requests_sent;
            auto sent = co_await transport->send(base, request, options.request_timeout);
            if (!sent) {
                const RestErrorCode code = sent.error().code == common::http::ClientErrorCode::timeout
                                               ? RestErrorCode::timeout
                                               : RestErrorCode::network;
                if (safe && failures < options.max_retries) {
                    spdlog::warn("discord: {} failed ({}); retrying", key.route, sent.error().message);
                    co_await sleeper->sleep_until(backoff(failures++));
                    ++retries;
                    continue;
                }
                co_return common::unexpected(RestError{code, 0, 0, sent.error().message, sent.error().code,
                                                       sent.error().request_written});
            }
            const common::http::Response& response = *sent;
            limiter.on_response(key, response.status, RateLimitInfo::from(response));
            if (response.status == 429) {
                if (++limited > options.max_429_retries)
                    co_return common::unexpected(error_from_response(response));
                spdlog::warn("discord: 429 on {} (global={}); waiting", key.route,
                             response.headers.find("X-RateLimit-Global").has_value());
                ++retries;
                continue;
            }
            if (response.status >= 500) {
                if (safe && failures < options.max_retries) {
                    spdlog::warn("discord: {} answered {}; retrying", key.route, response.status);
                    co_await sleeper->sleep_until(backoff(failures++));
                    ++retries;
                    continue;
                }
                co_return common::unexpected(error_from_response(response));
            }
            if (response.status == 401 && !key.global_exempt) {
                // Only a 401 on a bot-token route means the token is bad; webhook routes answer
                // 401 for an expired interaction token.
                unauthorized = true;
                spdlog::critical("discord: the bot token was rejected (401); all REST calls are stopped");
                co_return common::unexpected(error_from_response(response));
            }
            if (response.status < 200 || response.status >= 300)
                co_return common::unexpected(error_from_response(response));
            if (response.status == 204 || response.body.empty()) co_return json(nullptr);
            auto parsed = json::parse(response.body, nullptr, false);
            if (parsed.is_discarded()) {
                co_return common::unexpected(
                    RestError{RestErrorCode::bad_response, response.status, 0, "body is not JSON"});
            }
            co_return parsed;
        }
    }
};

common::Result<std::unique_ptr<RestClient>, std::string> RestClient::create(
    asio::any_io_executor executor, RestOptions options, const common::Clock& clock,
    std::unique_ptr<common::Sleeper> sleeper, std::unique_ptr<RestTransport> transport) {
    auto base = common::http::Url::parse(options.api_base);
    if (!base) return common::unexpected("DISCORD_API_BASE: " + base.error());
    if (options.token.empty()) return common::unexpected(std::string("the bot token is empty"));
    if (!sleeper) sleeper = common::make_asio_sleeper(executor, clock);
    if (!transport) {
        // API answers; attachment downloads pass their own, smaller limit (fetch).
        transport =
            std::make_unique<ClientTransport>(executor, options.ca_file, options.user_agent, 16 << 20);
    }
    auto impl = std::make_shared<Impl>(std::move(executor), std::move(options), std::move(*base), clock,
                                       std::move(sleeper), std::move(transport));
    return std::unique_ptr<RestClient>(new RestClient(std::move(impl)));
}

RestClient::RestClient(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
RestClient::~RestClient() = default;

asio::awaitable<RestResult<json>> RestClient::request(std::string method, std::string path,
                                                      std::optional<json> body, RequestOptions options) {
    auto impl = impl_;
    co_return co_await impl->run(std::move(method), std::move(path), std::move(body), std::move(options));
}

asio::awaitable<RestResult<GatewayBotInfo>> RestClient::get_gateway_bot() {
    auto raw = co_await request("GET", "/gateway/bot");
    if (!raw) co_return common::unexpected(raw.error());
    const json& j = *raw;
    try {
        GatewayBotInfo info;
        info.url = j.at("url").get<std::string>();
        info.shards = j.value("shards", 1);
        const json& limit = j.at("session_start_limit");
        info.session_start_total = limit.at("total").get<int>();
        info.session_start_remaining = limit.at("remaining").get<int>();
        info.session_start_reset_after =
            std::chrono::milliseconds(limit.at("reset_after").get<std::int64_t>());
        info.max_concurrency = limit.value("max_concurrency", 1);
        co_return info;
    } catch (const json::exception& e) {
        co_return common::unexpected(RestError{RestErrorCode::bad_response, 200, 0, e.what()});
    }
}

asio::awaitable<RestResult<User>> RestClient::get_current_user() {
    co_return parse_as<User>(co_await request("GET", "/users/@me"), &parse_user);
}

asio::awaitable<RestResult<Message>> RestClient::create_message(Snowflake channel, MessagePayload payload) {
    if (payload.nonce.empty()) payload.nonce = common::random_hex(12).substr(0, limits::kNonce);
    RequestOptions options;
    options.idempotent = true;
    options.files = payload.files;
    co_return parse_as<Message>(co_await request("POST", "/channels/" + channel.str() + "/messages",
                                                 payload.to_json(), std::move(options)),
                                &parse_message);
}

asio::awaitable<RestResult<Message>> RestClient::edit_message(Snowflake channel, Snowflake message,
                                                              MessagePayload payload) {
    payload.nonce.clear();
    RequestOptions options;
    options.files = payload.files;
    co_return parse_as<Message>(
        co_await request("PATCH", "/channels/" + channel.str() + "/messages/" + message.str(),
                         payload.to_json(), std::move(options)),
        &parse_message);
}

asio::awaitable<RestStatus> RestClient::delete_message(Snowflake channel, Snowflake message,
                                                       std::string reason) {
    RequestOptions options;
    options.audit_log_reason = std::move(reason);
    co_return to_status(co_await request("DELETE",
                                         "/channels/" + channel.str() + "/messages/" + message.str(),
                                         no_body(), std::move(options)));
}

asio::awaitable<RestResult<Channel>> RestClient::create_guild_channel(Snowflake guild, ChannelCreate channel,
                                                                      std::string reason) {
    json body{{"name", channel.name}, {"type", static_cast<int>(channel.type)}};
    if (channel.parent_id) body["parent_id"] = channel.parent_id->str();
    if (!channel.topic.empty()) body["topic"] = channel.topic;
    json overwrites = json::array();
    for (const auto& o : channel.permission_overwrites) overwrites.push_back(to_json(o));
    body["permission_overwrites"] = std::move(overwrites);
    RequestOptions options;
    options.audit_log_reason = std::move(reason);
    co_return parse_as<Channel>(
        co_await request("POST", "/guilds/" + guild.str() + "/channels", std::move(body), std::move(options)),
        &parse_channel);
}

asio::awaitable<RestResult<Channel>> RestClient::edit_channel(Snowflake channel, ChannelEdit edit,
                                                              std::string reason) {
    json body = json::object();
    if (edit.name) body["name"] = *edit.name;
    if (edit.topic) body["topic"] = *edit.topic;
    if (edit.parent_id) body["parent_id"] = edit.parent_id->str();
    if (edit.permission_overwrites) {
        json overwrites = json::array();
        for (const auto& o : *edit.permission_overwrites) overwrites.push_back(to_json(o));
        body["permission_overwrites"] = std::move(overwrites);
    }
    RequestOptions options;
    options.audit_log_reason = std::move(reason);
    co_return parse_as<Channel>(
        co_await request("PATCH", "/channels/" + channel.str(), std::move(body), std::move(options)),
        &parse_channel);
}

asio::awaitable<RestResult<Channel>> RestClient::delete_channel(Snowflake channel, std::string reason) {
    RequestOptions options;
    options.audit_log_reason = std::move(reason);
    co_return parse_as<Channel>(
        co_await request("DELETE", "/channels/" + channel.str(), no_body(), std::move(options)),
        &parse_channel);
}

asio::awaitable<RestResult<Channel>> RestClient::create_dm(Snowflake user) {
    std::optional<json> body = json::object();
    (*body)["recipient_id"] = user.str();
    RequestOptions options;
    co_return parse_as<Channel>(
        co_await request("POST", "/users/@me/channels", std::move(body), std::move(options)), &parse_channel);
}

asio::awaitable<RestResult<Member>> RestClient::get_member(Snowflake guild, Snowflake user) {
    co_return parse_as<Member>(co_await request("GET", "/guilds/" + guild.str() + "/members/" + user.str()),
                               &parse_member);
}

asio::awaitable<RestStatus> RestClient::add_member_role(Snowflake guild, Snowflake user, Snowflake role,
                                                        std::string reason) {
    RequestOptions options;
    options.audit_log_reason = std::move(reason);
    co_return to_status(
        co_await request("PUT", "/guilds/" + guild.str() + "/members/" + user.str() + "/roles/" + role.str(),
                         no_body(), std::move(options)));
}

asio::awaitable<RestStatus> RestClient::remove_member_role(Snowflake guild, Snowflake user, Snowflake role,
                                                           std::string reason) {
    RequestOptions options;
    options.audit_log_reason = std::move(reason);
    co_return to_status(co_await request(
        "DELETE", "/guilds/" + guild.str() + "/members/" + user.str() + "/roles/" + role.str(), no_body(),
        std::move(options)));
}

asio::awaitable<RestStatus> RestClient::interaction_callback(Snowflake interaction, std::string token,
                                                             CallbackType type, std::optional<json> data,
                                                             std::vector<FileData> files) {
    json body{{"type", static_cast<int>(type)}};
    if (data) body["data"] = std::move(*data);
    RequestOptions options;
    options.files = std::move(files);
    co_return to_status(co_await request("POST",
                                         "/interactions/" + interaction.str() + "/" + token + "/callback",
                                         std::move(body), std::move(options)));
}

asio::awaitable<RestResult<Message>> RestClient::edit_original_response(Snowflake application,
                                                                        std::string token,
                                                                        MessagePayload payload) {
    payload.nonce.clear();
    RequestOptions options;
    options.files = payload.files;
    co_return parse_as<Message>(
        co_await request("PATCH", "/webhooks/" + application.str() + "/" + token + "/messages/@original",
                         payload.to_json(), std::move(options)),
        &parse_message);
}

asio::awaitable<RestResult<Message>> RestClient::create_followup(Snowflake application, std::string token,
                                                                 MessagePayload payload) {
    payload.nonce.clear();
    RequestOptions options;
    options.files = payload.files;
    co_return parse_as<Message>(co_await request("POST", "/webhooks/" + application.str() + "/" + token,
                                                 payload.to_json(), std::move(options)),
                                &parse_message);
}

asio::awaitable<RestResult<json>> RestClient::bulk_overwrite_guild_commands(
    Snowflake application, Snowflake guild, const std::vector<Command>& commands) {
    std::optional<json> body = commands_to_json(commands);
    RequestOptions options;
    co_return co_await request("PUT",
                               "/applications/" + application.str() + "/guilds/" + guild.str() + "/commands",
                               std::move(body), std::move(options));
}

asio::awaitable<RestResult<Download>> RestClient::download(std::string url, std::size_t max_bytes,
                                                           std::vector<std::string> allowed_types) {
    auto impl = impl_;
    auto parsed = common::http::Url::parse(url);
    if (!parsed) co_return common::unexpected(RestError{RestErrorCode::bad_url, 0, 0, parsed.error()});
    const auto& hosts = impl->options.cdn_hosts;
    if (std::find(hosts.begin(), hosts.end(), parsed->host) == hosts.end()) {
        co_return common::unexpected(
            RestError{RestErrorCode::bad_url, 0, 0, "host not allowed: " + parsed->host});
    }
    if (!parsed->tls() && !is_loopback_host(parsed->host)) {
        co_return common::unexpected(
            RestError{RestErrorCode::bad_url, 0, 0, "attachments are fetched over https only"});
    }
    max_bytes = std::min(max_bytes, impl->options.max_download_bytes);
    common::http::Request request;
    request.method = "GET";
    // Url::parse keeps the path; the query (signed expiry parameters) follows it in `url`.
    const auto query_at = url.find('?');
    request.target = parsed->path + (query_at == std::string::npos ? "" : url.substr(query_at));
    request.headers.set("User-Agent", impl->options.user_agent);
    auto response = co_await impl->transport->fetch(*parsed, std::move(request),
                                                    impl->options.request_timeout, max_bytes);
    if (!response) {
        const bool too_large = response.error().code == common::http::ClientErrorCode::too_large;
        co_return common::unexpected(RestError{
            too_large                                                         ? RestErrorCode::too_large
            : response.error().code == common::http::ClientErrorCode::timeout ? RestErrorCode::timeout
                                                                              : RestErrorCode::network,
            0, 0, response.error().message});
    }
    if (response->status < 200 || response->status >= 300) {
        co_return common::unexpected(RestError{code_for_status(response->status), response->status, 0,
                                               response->status == 403 || response->status == 404
                                                   ? "attachment expired or gone"
                                                   : std::string(common::http::reason(response->status))});
    }
    if (response->body.size() > max_bytes) {
        co_return common::unexpected(RestError{RestErrorCode::too_large, response->status, 0,
                                               std::to_string(response->body.size()) + " bytes"});
    }
    const std::string type(response->headers.find("Content-Type").value_or(""));
    if (!allowed_types.empty() &&
        std::none_of(allowed_types.begin(), allowed_types.end(), [&](const std::string& allowed) {
            return type.size() >= allowed.size() &&
                   common::http::iequals(type.substr(0, allowed.size()), allowed);
        })) {
        co_return common::unexpected(RestError{RestErrorCode::bad_content_type, response->status, 0, type});
    }
    co_return Download{type, std::move(response->body)};
}

void RestClient::count_interaction_failure(const RestError& error) {
    ++impl_->interaction_failures[std::string(failure_cause(error))];
}

void RestClient::count_interaction_resend() { ++impl_->interaction_resends; }

RestStats RestClient::stats() const {
    return RestStats{impl_->requests_sent,        impl_->retries,
                     impl_->limiter.stats(),      impl_->unauthorized,
                     impl_->interaction_failures, impl_->interaction_resends,
                     impl_->transport->stats()};
}

const RestOptions& RestClient::options() const { return impl_->options; }

}  // namespace nebula::discord
