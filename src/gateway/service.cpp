#include "gateway/service.hpp"

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <set>

#include "common/crypto.hpp"
#include "common/signing.hpp"
#include "gateway/xui/links.hpp"

namespace nebula::gateway {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

constexpr std::size_t kMaxBulkEmails = 1000;
constexpr std::size_t kMaxEmailLength = 64;
constexpr std::size_t kMaxCommentLength = 256;
constexpr std::int64_t kMaxLimitIp = 10'000;
constexpr std::string_view kVisionFlow = "xtls-rprx-vision";

common::http::Response body_response(int status, std::string body) {
    common::http::Response r;
    r.status = status;
    r.headers.set("Content-Type", "application/json");
    r.headers.set("Cache-Control", "no-store");
    r.body = std::move(body);
    return r;
}

common::http::Response json_response(int status, const json& body) {
    return body_response(status, body.dump());
}

common::http::Response error_response(int status, std::string_view code, std::string_view message) {
    return json_response(status, json{{"error", {{"code", code}, {"message", message}}}});
}

common::http::Response panel_error_response(const xui::PanelError& e) {
    switch (e.code) {
        case xui::PanelErrorCode::unreachable:
            return error_response(503, "panel_unreachable", "the 3x-ui panel cannot be reached");
        case xui::PanelErrorCode::timeout:
            return error_response(503, "panel_timeout", "the 3x-ui panel did not answer in time");
        case xui::PanelErrorCode::auth_failed:
            return error_response(502, "panel_auth_failed", "the gateway cannot log in to the 3x-ui panel");
        case xui::PanelErrorCode::rejected:
            return error_response(502, "panel_error", e.message);
        case xui::PanelErrorCode::not_found:
            return error_response(404, "not_found", e.message);
        case xui::PanelErrorCode::conflict:
            return error_response(409, "conflict", e.message);
        case xui::PanelErrorCode::last_client:
            return error_response(409, "last_client",
                                  "this panel version refuses to delete the last client of an inbound; "
                                  "disable it instead");
        case xui::PanelErrorCode::protocol:
            return error_response(502, "panel_protocol",
                                  "the 3x-ui panel gave an answer the gateway does not understand");
    }
    return error_response(502, "panel_error", e.message);
}

/// Emails become path segments and panel keys: keep them to a safe ASCII set.
bool valid_email(std::string_view email) {
    if (email.empty() || email.size() > kMaxEmailLength) return false;
    if (email == "online" || email == "disable") return false;  // reserved route names
    // Emails become panel URL path segments: ".", ".." and other names made of dots would walk
    // the panel's paths; no email may start with one.
    if (email.front() == '.') return false;
    for (char c : email) {
        bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '@';
        if (!ok) return false;
    }
    return true;
}

bool valid_sub_id(std::string_view sub_id) {
    if (sub_id.empty() || sub_id.size() > 64) return false;
    for (char c : sub_id) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
    }
    return true;
}

/// Reads an integer field strictly: JSON integers only, within [min, max].
std::optional<std::string> read_int(const json& body, const char* name, std::int64_t min, std::int64_t max,
                                    std::optional<std::int64_t>& out) {
    auto it = body.find(name);
    if (it == body.end()) return std::nullopt;
    if (!it->is_number_integer()) return std::string(name) + " must be an integer";
    std::int64_t v = 0;
    if (it->is_number_unsigned()) {
        if (it->get<std::uint64_t>() > static_cast<std::uint64_t>(max)) {
            return std::string(name) + " must be at most " + std::to_string(max);
        }
        v = static_cast<std::int64_t>(it->get<std::uint64_t>());
    } else {
        v = it->get<std::int64_t>();
    }
    if (v < min || v > max) {
        return std::string(name) + " must be between " + std::to_string(min) + " and " + std::to_string(max);
    }
    out = v;
    return std::nullopt;
}

/// At most `max_bytes` of `text` (valid UTF-8), never ending inside a multi-byte sequence, so
/// the result stays valid UTF-8 for the JSON writer.
std::string utf8_prefix(std::string_view text, std::size_t max_bytes) {
    if (text.size() <= max_bytes) return std::string(text);
    std::size_t cut = max_bytes;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    return std::string(text.substr(0, cut));
}

std::optional<std::string> unknown_fields(const json& body, std::initializer_list<const char*> allowed) {
    std::set<std::string> names(allowed.begin(), allowed.end());
    for (const auto& [key, value] : body.items()) {
        if (!names.contains(key)) return "unknown field \"" + utf8_prefix(key, 64) + "\"";
    }
    return std::nullopt;
}

json client_json(const xui::Client& c) {
    return {{"email", c.email},
            {"uuid", c.uuid},
            {"inbound_id", c.inbound_id},
            {"sub_id", c.sub_id},
            {"up", c.up},
            {"down", c.down},
            {"total_bytes", c.total_bytes},
            {"expiry_ms", c.expiry_ms},
            {"limit_ip", c.limit_ip},
            {"enable", c.enable},
            {"comment", c.comment},
            {"flow", c.flow}};
}

std::optional<json> parse_object(const std::string& body, std::string& error) {
    json parsed = json::parse(body, nullptr, false);
    if (parsed.is_discarded()) {
        error = "the body is not valid JSON";
        return std::nullopt;
    }
    if (!parsed.is_object()) {
        error = "the body must be a JSON object";
        return std::nullopt;
    }
    return parsed;
}

std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> parts;
    while (!path.empty()) {
        if (path.front() == '/') {
            path.remove_prefix(1);
            continue;
        }
        auto slash = path.find('/');
        parts.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash);
    }
    return parts;
}

/// The route template a request matched, so metrics have a bounded set of label values.
std::string route_label(std::string_view path) {
    const auto parts = split_path(path);
    if (parts.size() < 2 || parts[0] != "api") return "other";
    if (parts.size() == 2 &&
        (parts[1] == "health" || parts[1] == "inbounds" || parts[1] == "traffic" || parts[1] == "clients")) {
        return "/api/" + std::string(parts[1]);
    }
    if (parts.size() == 3 && parts[1] == "server" && parts[2] == "status") return "/api/server/status";
    if (parts[1] != "clients") return "other";
    if (parts.size() == 3 && (parts[2] == "online" || parts[2] == "disable")) {
        return "/api/clients/" + std::string(parts[2]);
    }
    if (parts.size() == 3) return "/api/clients/{email}";
    if (parts.size() == 4 && parts[3] == "reset-traffic") return "/api/clients/{email}/reset-traffic";
    return "other";
}

std::string method_label(std::string_view method) {
    for (std::string_view known : {"GET", "POST", "PATCH", "DELETE", "PUT", "HEAD"}) {
        if (method == known) return std::string(known);
    }
    return "other";
}

common::http::Response method_not_allowed(std::string_view allow) {
    auto r = error_response(405, "method_not_allowed", "this route does not accept that method");
    r.headers.set("Allow", std::string(allow));
    return r;
}

}  // namespace

GatewayMetrics::GatewayMetrics(common::metrics::Registry& registry)
    : requests(registry.counter("nebula_gateway_requests_total",
                                "HTTP requests answered, by route, method and status.",
                                {"route", "method", "status"})),
      auth_failures(
          registry.counter("nebula_gateway_auth_failures_total",
                           "Requests refused before routing (forbidden, rate_limited, missing_signature, "
                           "stale_timestamp, bad_signature, replayed), by code.",
                           {"code"})),
      panel_latency(
          registry.histogram("nebula_gateway_panel_request_duration_seconds",
                             "Latency of 3x-ui panel calls, logins and retries included, by operation.",
                             {"operation"}, common::metrics::default_latency_buckets())) {}

GatewayService::GatewayService(const GatewayConfig& config, xui::PanelClient& panel,
                               const common::Clock& clock, GatewayMetrics* metrics)
    : config_(config),
      panel_(panel),
      clock_(clock),
      metrics_(metrics),
      verifier_(std::vector<std::string>{config.secret_key, config.previous_secret_key}),
      rate_limiter_(clock, config.rate_limit_per_minute),
      refusal_log_(clock),
      replay_cache_(common::signing::kReplaySeconds, config.replay_cache_size),
      started_(clock.steady_now()) {}

std::optional<asio::ip::address> GatewayService::client_address(const common::http::Request& head,
                                                                const common::http::Peer& peer) const {
    if (!config_.trusted_proxies.contains(peer.address)) return peer.address;
    // Proxies append to the last line or add a line of their own (HAProxy's option forwardfor):
    // the lines joined in order form one list. The right-most address that is not one of our
    // proxies is the client; anything to its left was written by the client and is not trusted.
    std::string list;
    for (const auto& [name, value] : head.headers.fields()) {
        if (!common::http::iequals(name, "X-Forwarded-For")) continue;
        if (!list.empty()) list += ',';
        list += value;
    }
    std::string_view rest = list;
    while (!rest.empty()) {
        const auto comma = rest.rfind(',');
        std::string_view item = comma == std::string_view::npos ? rest : rest.substr(comma + 1);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
        boost::system::error_code ec;
        auto address = asio::ip::make_address(std::string(item), ec);
        if (ec) return std::nullopt;
        if (!config_.trusted_proxies.contains(address)) return address;
        if (comma == std::string_view::npos) break;
        rest = rest.substr(0, comma);
    }
    return std::nullopt;
}

bool GatewayService::allowed(const asio::ip::address& address) const {
    return config_.allowed_ips.empty() ? is_loopback(address) : config_.allowed_ips.contains(address);
}

common::http::Admission GatewayService::admit(const common::http::Peer& peer) {
    if (config_.trusted_proxies.contains(peer.address)) return common::http::Admission::admit;
    if (allowed(peer.address)) return common::http::Admission::reserved;
    const auto source = peer.address.to_string();
    refusal_log_.note("forbidden", source, "connection from " + source + " refused: not in ALLOWED_IPS");
    refused("forbidden");
    return common::http::Admission::refuse;
}

template <typename T>
asio::awaitable<T> GatewayService::timed(const char* operation, asio::awaitable<T> call) {
    const auto started = clock_.steady_now();
    T result = co_await std::move(call);
    if (metrics_ != nullptr) {
        const std::chrono::duration<double> took = clock_.steady_now() - started;
        metrics_->panel_latency.labels({operation}).observe(took.count());
    }
    co_return result;
}

void GatewayService::count(const common::http::Request& request, int status) {
    if (metrics_ == nullptr) return;
    const std::string_view path = std::string_view(request.target).substr(0, request.target.find('?'));
    metrics_->requests.labels({route_label(path), method_label(request.method), std::to_string(status)})
        .inc();
}

void GatewayService::refused(std::string_view code) {
    if (metrics_ != nullptr) metrics_->auth_failures.labels({std::string(code)}).inc();
}

std::optional<common::http::Response> GatewayService::screen(const common::http::Request& head,
                                                             const common::http::Peer& peer) {
    auto response = screen_request(head, peer);
    if (response) count(head, response->status);
    return response;
}

std::optional<common::http::Response> GatewayService::screen_request(const common::http::Request& head,
                                                                     const common::http::Peer& peer) {
    const auto what = [&] { return head.method + " " + head.target.substr(0, 128); };  // refusals only
    auto client = client_address(head, peer);
    if (!client) {
        refusal_log_.note("forbidden", peer.address.to_string(),
                          "trusted proxy " + peer.address.to_string() +
                              " sent no usable X-Forwarded-For client (" + what() + ")");
        refused("forbidden");
        return error_response(403, "forbidden", "this address is not allowed");
    }
    const auto source = client->to_string();
    if (!allowed(*client)) {
        refusal_log_.note("forbidden", source, source + " is not in ALLOWED_IPS (" + what() + ")");
        refused("forbidden");
        return error_response(403, "forbidden", "this address is not allowed");
    }
    // Only looked at here: the allowance is spent once the signature has been checked.
    if (auto wait = rate_limiter_.check(source); wait.count() > 0) return rate_limited(source, what(), wait);
    return std::nullopt;
}

common::http::Response GatewayService::rate_limited(const std::string& source, const std::string& what,
                                                    std::chrono::seconds wait) {
    refusal_log_.note("rate limited", source, source + " is over RATE_LIMIT_PER_MINUTE (" + what + ")");
    refused("rate_limited");
    auto r = error_response(429, "rate_limited", "too many requests; retry later");
    r.headers.set("Retry-After", std::to_string(wait.count()));
    return r;
}

asio::awaitable<common::http::Response> GatewayService::handle(common::http::Request request,
                                                               common::http::Peer peer) {
    auto response = co_await respond(request, peer);
    count(request, response.status);
    co_return response;
}

asio::awaitable<common::http::Response> GatewayService::respond(const common::http::Request& request,
                                                                const common::http::Peer& peer) {
    const auto path = std::string_view(request.target).substr(0, request.target.find('?'));
    if (config_.bench_baseline_route && path == "/bench/baseline") {
        co_return json_response(200, json{{"status", "ok"}});
    }

    const auto verdict = verifier_.verify(
        request.method, request.target, request.body, request.headers.find(common::signing::kTimestampHeader),
        request.headers.find(common::signing::kNonceHeader),
        request.headers.find(common::signing::kSignatureHeader), clock_.unix_seconds());
    refusal_log_.flush_due();
    const auto source = client_address(request, peer).value_or(peer.address).to_string();
    const auto what = [&] { return request.method + " " + request.target.substr(0, 128); };  // refusals only
    if (verdict) {
        const auto code = common::signing::to_string(*verdict);
        refusal_log_.note("unauthorized (" + std::string(code) + ")", source, what() + " from " + source);
        refused(code);
        std::string_view message = *verdict == common::signing::VerifyError::missing_signature
                                       ? "signature headers are missing or malformed"
                                   : *verdict == common::signing::VerifyError::stale_timestamp
                                       ? "the request timestamp is outside the allowed window"
                                       : "the signature does not match";
        co_return error_response(401, code, message);
    }
    // Generations rotate on the steady clock: a wall-clock step must neither stop rotation nor
    // forget every nonce at once.
    const auto steady_seconds =
        std::chrono::duration_cast<std::chrono::seconds>(clock_.steady_now().time_since_epoch()).count();
    switch (replay_cache_.check_and_insert(*request.headers.find(common::signing::kNonceHeader),
                                           steady_seconds)) {
        case ReplayCache::Outcome::accepted:
            break;
        case ReplayCache::Outcome::replayed:
            refusal_log_.note("unauthorized (replayed)", source, what() + " from " + source);
            refused("replayed");
            co_return error_response(401, "replayed", "this nonce was already used");
        case ReplayCache::Outcome::full:
            spdlog::error("replay cache full ({} nonces): refusing requests until old nonces age out",
                          replay_cache_.size());
            co_return error_response(503, "busy", "too many requests in the replay window; retry later");
    }
    if (auto wait = rate_limiter_.acquire(source); wait.count() > 0)
        co_return rate_limited(source, what(), wait);

    const auto started = clock_.steady_now();
    common::http::Response response;
    if (request.method == "GET" && path == "/api/health") {
        response = co_await health();  // the monitoring probe skips the general router
    } else {
        response = co_await route(request);
    }
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_.steady_now() - started).count();
    if (response.status >= 500) {
        spdlog::warn("{} {} -> {} ({} ms)", request.method, path, response.status, ms);
    } else {
        spdlog::debug("{} {} -> {} ({} ms)", request.method, path, response.status, ms);
    }
    co_return response;
}

asio::awaitable<common::http::Response> GatewayService::route(const common::http::Request& request) {
    const std::string_view path = std::string_view(request.target).substr(0, request.target.find('?'));
    const auto parts = split_path(path);
    const std::string& m = request.method;
    auto not_found = [] { return error_response(404, "not_found", "no such route"); };
    if (parts.size() < 2 || parts[0] != "api") co_return not_found();

    if (parts.size() == 2 && parts[1] == "health") {
        if (m != "GET") co_return method_not_allowed("GET");
        co_return co_await health();
    }
    if (parts.size() == 2 && parts[1] == "inbounds") {
        if (m != "GET") co_return method_not_allowed("GET");
        co_return co_await inbounds();
    }
    if (parts.size() == 3 && parts[1] == "server" && parts[2] == "status") {
        if (m != "GET") co_return method_not_allowed("GET");
        co_return co_await server_status();
    }
    if (parts.size() == 2 && parts[1] == "traffic") {
        if (m != "GET") co_return method_not_allowed("GET");
        co_return co_await traffic();
    }
    if (parts[1] != "clients") co_return not_found();
    if (parts.size() == 2) {
        if (m != "POST") co_return method_not_allowed("POST");
        co_return co_await create_client(request.body);
    }
    if (parts.size() == 3 && parts[2] == "online") {
        if (m != "GET") co_return method_not_allowed("GET");
        co_return co_await online();
    }
    if (parts.size() == 3 && parts[2] == "disable") {
        if (m != "POST") co_return method_not_allowed("POST");
        co_return co_await disable_clients(request.body);
    }
    if (parts.size() > 4) co_return not_found();
    auto email = common::http::url_decode(parts[2]);
    if (!email || !valid_email(*email)) {
        co_return error_response(400, "invalid_email", "the email in the path is not a valid client email");
    }
    if (parts.size() == 4) {
        if (parts[3] != "reset-traffic") co_return not_found();
        if (m != "POST") co_return method_not_allowed("POST");
        co_return co_await reset_traffic(*email);
    }
    if (m == "GET") co_return co_await get_client(*email);
    if (m == "PATCH") co_return co_await patch_client(*email, request.body);
    if (m == "DELETE") co_return co_await delete_client(*email);
    co_return method_not_allowed("GET, PATCH, DELETE");
}

asio::awaitable<common::http::Response> GatewayService::health() {
    const auto now = clock_.steady_now();
    const bool fresh = health_.valid && now - health_.checked < config_.health_cache;
    // One panel call at a time refreshes the cached state; concurrent checks use the last answer.
    if (!fresh && !(health_refreshing_ && health_.valid)) {
        health_refreshing_ = true;
        auto status = co_await timed("server_status", panel_.server_status());
        health_refreshing_ = false;
        health_.panel_up = status.has_value();
        if (status) health_.panel_version = status->panel_version;
        health_.checked = clock_.steady_now();
        health_.valid = true;
    }
    const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(now - started_).count();
    // The body changes at most once a second; monitoring may ask far more often.
    if (health_body_.empty() || health_body_uptime_ != uptime || health_body_up_ != health_.panel_up) {
        health_body_ = json{
            {"status", health_.panel_up ? "ok" : "degraded"},
            {"panel", health_.panel_up ? "up" : "down"},
            {"version", NEBULA_VERSION},
            {"uptime_s",
             uptime}}.dump();
        health_body_uptime_ = uptime;
        health_body_up_ = health_.panel_up;
    }
    co_return body_response(200, health_body_);
}

asio::awaitable<common::http::Response> GatewayService::inbounds() {
    auto list = co_await timed("list_inbounds", panel_.list_inbounds());
    if (!list) co_return panel_error_response(list.error());
    json out = json::array();
    for (const auto& in : *list) {
        out.push_back({{"id", in.id},
                       {"remark", in.remark},
                       {"protocol", in.protocol},
                       {"port", in.port},
                       {"enable", in.enable},
                       {"client_count", in.client_count}});
    }
    co_return json_response(200, json{{"inbounds", out}});
}

asio::awaitable<common::http::Response> GatewayService::server_status() {
    auto status = co_await timed("server_status", panel_.server_status());
    if (!status) co_return panel_error_response(status.error());
    auto clients = co_await timed("list_clients", panel_.list_clients());
    if (!clients) co_return panel_error_response(clients.error());
    auto online = co_await timed("online_emails", panel_.online_emails());
    if (!online) co_return panel_error_response(online.error());
    co_return json_response(200,
                            json{{"cpu", status->cpu},
                                 {"memory", {{"current", status->mem_current}, {"total", status->mem_total}}},
                                 {"xray", {{"state", status->xray_state}, {"version", status->xray_version}}},
                                 {"panel_version", status->panel_version},
                                 {"clients", {{"total", clients->size()}, {"online", online->size()}}}});
}

asio::awaitable<common::http::Response> GatewayService::client_response(int status,
                                                                        const xui::Client& client) {
    json links = {{"vless", nullptr}, {"subscription", nullptr}};
    auto inbound = co_await timed("get_inbound", panel_.get_inbound(client.inbound_id));
    if (!inbound) co_return panel_error_response(inbound.error());
    auto link = xui::vless_link(*inbound, client, config_.public_host);
    if (link) {
        links["vless"] = *link;
    } else {
        spdlog::warn("no share link for client {} on inbound {}: {}", client.email, client.inbound_id,
                     link.error());
    }
    if (!client.sub_id.empty() && !config_.sub_url_base.empty()) {
        links["subscription"] = xui::subscription_url(config_.sub_url_base, client.sub_id);
    }
    co_return json_response(status, json{{"client", client_json(client)}, {"links", links}});
}

asio::awaitable<common::http::Response> GatewayService::create_client(const std::string& body) {
    std::string error;
    auto parsed = parse_object(body, error);
    if (!parsed) co_return error_response(400, "invalid_json", error);
    const json& b = *parsed;
    if (auto bad = unknown_fields(b, {"inbound_id", "email", "uuid", "total_bytes", "expiry_ms", "limit_ip",
                                      "sub_id", "comment", "enable", "flow"})) {
        co_return error_response(400, "invalid_request", *bad);
    }
    std::optional<std::int64_t> inbound_id, total, expiry, limit_ip;
    for (auto problem :
         {read_int(b, "inbound_id", 1, INT32_MAX, inbound_id),
          read_int(b, "total_bytes", 0, INT64_MAX, total), read_int(b, "expiry_ms", 0, INT64_MAX, expiry),
          read_int(b, "limit_ip", 0, kMaxLimitIp, limit_ip)}) {
        if (problem) co_return error_response(400, "invalid_request", *problem);
    }
    if (!inbound_id) co_return error_response(400, "invalid_request", "inbound_id is required");
    if (!b.contains("email") || !b["email"].is_string() || !valid_email(b["email"].get<std::string>())) {
        co_return error_response(400, "invalid_request",
                                 "email is required: 1-64 characters of letters, digits, '.', '_', '-', '@'");
    }
    xui::NewClient nc;
    nc.email = b["email"].get<std::string>();
    if (b.contains("uuid")) {
        if (!b["uuid"].is_string() || !common::is_uuid(b["uuid"].get<std::string>())) {
            co_return error_response(400, "invalid_request", "uuid must be a UUID");
        }
        nc.uuid = b["uuid"].get<std::string>();
        for (auto& ch : nc.uuid) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    } else {
        nc.uuid = common::uuid_v4();
    }
    if (b.contains("sub_id")) {
        if (!b["sub_id"].is_string() || !valid_sub_id(b["sub_id"].get<std::string>())) {
            co_return error_response(400, "invalid_request",
                                     "sub_id must be 1-64 letters, digits, '-' or '_'");
        }
        nc.sub_id = b["sub_id"].get<std::string>();
    }
    if (b.contains("comment")) {
        if (!b["comment"].is_string() || b["comment"].get<std::string>().size() > kMaxCommentLength) {
            co_return error_response(400, "invalid_request", "comment must be a string of at most 256 bytes");
        }
        nc.comment = b["comment"].get<std::string>();
    }
    if (b.contains("enable")) {
        if (!b["enable"].is_boolean())
            co_return error_response(400, "invalid_request", "enable must be true or false");
        nc.enable = b["enable"].get<bool>();
    }
    std::optional<std::string> flow;
    if (b.contains("flow")) {
        if (!b["flow"].is_string() || (b["flow"] != "" && b["flow"] != kVisionFlow)) {
            co_return error_response(400, "invalid_request", "flow must be \"\" or \"xtls-rprx-vision\"");
        }
        flow = b["flow"].get<std::string>();
    }
    nc.total_bytes = total.value_or(0);
    nc.expiry_ms = expiry.value_or(0);
    nc.limit_ip = static_cast<int>(limit_ip.value_or(0));

    // Idempotent create: the same email with the same UUID is the same request repeated.
    auto same_request = [&](const xui::Client& existing) {
        return b.contains("uuid") && common::http::iequals(existing.uuid, nc.uuid) &&
               existing.inbound_id == *inbound_id;
    };
    auto existing = co_await timed("find_client", panel_.find_client(nc.email));
    if (!existing) co_return panel_error_response(existing.error());
    if (existing->has_value()) {
        if (same_request(**existing)) co_return co_await client_response(200, **existing);
        co_return error_response(409, "conflict",
                                 "a client with this email already exists with another uuid or inbound");
    }
    auto inbound = co_await timed("get_inbound", panel_.get_inbound(static_cast<int>(*inbound_id)));
    if (!inbound) {
        if (inbound.error().code == xui::PanelErrorCode::not_found) {
            co_return error_response(404, "inbound_not_found",
                                     "no inbound with id " + std::to_string(*inbound_id));
        }
        co_return panel_error_response(inbound.error());
    }
    if (inbound->protocol != "vless") {
        co_return error_response(400, "invalid_request",
                                 "inbound " + std::to_string(*inbound_id) + " is not a VLESS inbound");
    }
    // Vision is what clients expect wherever the panel lets it run.
    nc.flow = flow.value_or(xui::vision_flow_allowed(*inbound) ? std::string(kVisionFlow) : std::string());
    auto created = co_await timed("add_client", panel_.add_client(static_cast<int>(*inbound_id), nc));
    if (!created) {
        if (created.error().code == xui::PanelErrorCode::conflict) {
            // Lost a race with an identical request: answer as the repeat it is.
            auto again = co_await timed("find_client", panel_.find_client(nc.email));
            if (again && again->has_value() && same_request(**again))
                co_return co_await client_response(200, **again);
        }
        co_return panel_error_response(created.error());
    }
    spdlog::info("client {} created on inbound {}", created->email, created->inbound_id);
    co_return co_await client_response(201, *created);
}

asio::awaitable<common::http::Response> GatewayService::get_client(const std::string& email) {
    auto found = co_await timed("find_client", panel_.find_client(email));
    if (!found) co_return panel_error_response(found.error());
    if (!found->has_value()) co_return error_response(404, "not_found", "no client with this email");
    co_return co_await client_response(200, **found);
}

asio::awaitable<common::http::Response> GatewayService::patch_client(const std::string& email,
                                                                     const std::string& body) {
    std::string error;
    auto parsed = parse_object(body, error);
    if (!parsed) co_return error_response(400, "invalid_json", error);
    const json& b = *parsed;
    if (auto bad = unknown_fields(b, {"expiry_ms", "total_bytes", "limit_ip", "enable"})) {
        co_return error_response(400, "invalid_request", *bad);
    }
    if (b.empty()) co_return error_response(400, "invalid_request", "nothing to change");
    std::optional<std::int64_t> total, expiry, limit_ip;
    for (auto problem :
         {read_int(b, "total_bytes", 0, INT64_MAX, total), read_int(b, "expiry_ms", 0, INT64_MAX, expiry),
          read_int(b, "limit_ip", 0, kMaxLimitIp, limit_ip)}) {
        if (problem) co_return error_response(400, "invalid_request", *problem);
    }
    xui::ClientPatch patch;
    patch.total_bytes = total;
    patch.expiry_ms = expiry;
    if (limit_ip) patch.limit_ip = static_cast<int>(*limit_ip);
    if (b.contains("enable")) {
        if (!b["enable"].is_boolean())
            co_return error_response(400, "invalid_request", "enable must be true or false");
        patch.enable = b["enable"].get<bool>();
    }
    auto updated = co_await timed("update_client", panel_.update_client(email, patch));
    if (!updated) co_return panel_error_response(updated.error());
    spdlog::info("client {} updated", email);
    co_return co_await client_response(200, *updated);
}

asio::awaitable<common::http::Response> GatewayService::delete_client(const std::string& email) {
    auto done = co_await timed("delete_client", panel_.delete_client(email));
    if (!done) co_return panel_error_response(done.error());
    spdlog::info("client {} deleted", email);
    common::http::Response r;
    r.status = 204;
    co_return r;
}

asio::awaitable<common::http::Response> GatewayService::reset_traffic(const std::string& email) {
    auto done = co_await timed("reset_traffic", panel_.reset_traffic(email));
    if (!done) co_return panel_error_response(done.error());
    auto found = co_await timed("find_client", panel_.find_client(email));
    if (!found) co_return panel_error_response(found.error());
    if (!found->has_value()) co_return error_response(404, "not_found", "no client with this email");
    spdlog::info("client {} traffic reset", email);
    co_return co_await client_response(200, **found);
}

asio::awaitable<common::http::Response> GatewayService::traffic() {
    auto clients = co_await timed("list_clients", panel_.list_clients());
    if (!clients) co_return panel_error_response(clients.error());
    json out = json::array();
    for (const auto& c : *clients) {
        out.push_back({{"email", c.email},
                       {"up", c.up},
                       {"down", c.down},
                       {"total_bytes", c.total_bytes},
                       {"expiry_ms", c.expiry_ms},
                       {"enable", c.enable}});
    }
    co_return json_response(200, json{{"clients", out}});
}

asio::awaitable<common::http::Response> GatewayService::disable_clients(const std::string& body) {
    std::string error;
    auto parsed = parse_object(body, error);
    if (!parsed) co_return error_response(400, "invalid_json", error);
    const json& b = *parsed;
    if (auto bad = unknown_fields(b, {"emails"})) co_return error_response(400, "invalid_request", *bad);
    if (!b.contains("emails") || !b["emails"].is_array() || b["emails"].empty() ||
        b["emails"].size() > kMaxBulkEmails) {
        co_return error_response(400, "invalid_request", "emails must be a list of 1 to 1000 client emails");
    }
    std::vector<std::string> emails;
    for (const auto& e : b["emails"]) {
        if (!e.is_string() || !valid_email(e.get<std::string>())) {
            co_return error_response(400, "invalid_request", "emails must contain only valid client emails");
        }
        emails.push_back(e.get<std::string>());
    }
    auto result = co_await timed("disable_clients", panel_.disable_clients(std::move(emails)));
    if (!result) co_return panel_error_response(result.error());
    spdlog::info("bulk disable: {} disabled, {} missing", result->changed.size(), result->missing.size());
    co_return json_response(200, json{{"disabled", result->changed}, {"missing", result->missing}});
}

asio::awaitable<common::http::Response> GatewayService::online() {
    auto emails = co_await timed("online_emails", panel_.online_emails());
    if (!emails) co_return panel_error_response(emails.error());
    co_return json_response(200, json{{"emails", *emails}});
}

}  // namespace nebula::gateway
