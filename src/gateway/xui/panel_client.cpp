#include "gateway/xui/panel_client.hpp"

#include <charconv>
#include <climits>
#include <cstdint>

#include <algorithm>
#include <cctype>
#include <limits>
#include <map>
#include <set>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/crypto.hpp"
#include "common/http_client.hpp"
#include "gateway/xui/envelope.hpp"
#include "gateway/xui/links.hpp"

namespace nebula::gateway::xui {

namespace asio = boost::asio;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

common::Unexpected<PanelError> error(PanelErrorCode code, std::string message) {
    return common::unexpected(PanelError{code, std::move(message)});
}

// Network waits are real, so deadlines use the real steady clock; the injected Clock only paces
// login retries, which tests drive by hand.
struct Deadline {
    steady_clock::time_point at;
    static Deadline after(milliseconds d) { return {steady_clock::now() + d}; }
    milliseconds left() const { return std::chrono::duration_cast<milliseconds>(at - steady_clock::now()); }
};

std::string normalise_base(std::string path) {
    if (path.empty() || path.front() != '/') path.insert(path.begin(), '/');
    if (path.back() != '/') path.push_back('/');
    return path;
}

std::string seg(std::string_view text) { return common::http::url_encode(text); }

std::int64_t get_i64(const json& obj, std::string_view key) {
    if (!obj.is_object()) return 0;
    auto it = obj.find(key);
    if (it == obj.end()) return 0;
    // Whatever the panel sends, the result is a number in range: a value beyond int64 means
    // "huge" and reads as the largest one rather than wrapping or, for a double, being undefined
    // behaviour to convert.
    if (it->is_number_unsigned()) {
        const auto value = it->get<std::uint64_t>();
        return value <= static_cast<std::uint64_t>(INT64_MAX) ? static_cast<std::int64_t>(value)
                                                              : std::numeric_limits<std::int64_t>::max();
    }
    if (it->is_number_integer()) return it->get<std::int64_t>();
    if (it->is_number_float()) {
        // A double outside int64's range cannot be converted: such a value means "huge".
        const double value = it->get<double>();
        if (value >= 9223372036854775807.0) return std::numeric_limits<std::int64_t>::max();
        if (value <= -9223372036854775807.0) return std::numeric_limits<std::int64_t>::min();
        return static_cast<std::int64_t>(value);
    }
    if (it->is_string()) {
        // Old panels sent some numbers (tgId) as strings.
        const auto& text = it->get_ref<const std::string&>();
        std::int64_t value = 0;
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
        return error == std::errc{} && end == text.data() + text.size() ? value : 0;
    }
    return 0;
}

int get_int(const json& obj, std::string_view key) {
    const auto value = get_i64(obj, key);
    return value >= INT_MIN && value <= INT_MAX ? static_cast<int>(value) : 0;
}

std::string get_str(const json& obj, std::string_view key) {
    if (!obj.is_object()) return {};
    auto it = obj.find(key);
    return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool get_bool(const json& obj, std::string_view key, bool fallback) {
    if (!obj.is_object()) return fallback;
    auto it = obj.find(key);
    return it != obj.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

// Legacy panels send settings/streamSettings as JSON text, 3.1+ as objects.
json nested_object(const json& obj, std::string_view key) {
    if (!obj.is_object()) return json::object();
    auto it = obj.find(key);
    if (it == obj.end()) return json::object();
    if (it->is_object()) return *it;
    if (it->is_string()) {
        auto parsed = json::parse(it->get<std::string>(), nullptr, false);
        if (!parsed.is_discarded() && parsed.is_object()) return parsed;
    }
    return json::object();
}

Inbound parse_inbound(const json& j) {
    Inbound in;
    in.id = get_int(j, "id");
    in.remark = get_str(j, "remark");
    in.protocol = get_str(j, "protocol");
    in.listen = get_str(j, "listen");
    in.port = get_int(j, "port");
    in.enable = get_bool(j, "enable", false);
    in.settings = nested_object(j, "settings");
    in.stream_settings = nested_object(j, "streamSettings");
    if (auto it = in.settings.find("clients"); it != in.settings.end() && it->is_array()) {
        in.client_count = static_cast<int>(it->size());
    }
    in.disable_flow = get_bool(j, "disableFlow", false);
    return in;
}

// Shared by a legacy settings.clients[] entry and a 3.1+ ClientRecord; they differ in where the
// UUID lives ("id" there, "uuid" here, where "id" is a row number).
Client parse_client(const json& raw, int inbound_id, bool record) {
    Client c;
    c.inbound_id = inbound_id;
    c.email = get_str(raw, "email");
    c.uuid = get_str(raw, record ? "uuid" : "id");
    c.flow = get_str(raw, "flow");
    c.sub_id = get_str(raw, "subId");
    c.comment = get_str(raw, "comment");
    c.total_bytes = get_i64(raw, "totalGB");
    c.expiry_ms = get_i64(raw, "expiryTime");
    c.tg_id = get_i64(raw, "tgId");
    c.limit_ip = get_int(raw, "limitIp");
    c.reset = get_int(raw, "reset");
    c.enable = get_bool(raw, "enable", true);
    c.raw = raw;
    return c;
}

void apply_traffic(Client& c, const json& traffic) {
    c.up = get_i64(traffic, "up");
    c.down = get_i64(traffic, "down");
}

// The credential legacy update/delete routes take in the path, by protocol.
std::string legacy_client_key(const std::string& protocol, const json& raw) {
    if (protocol == "trojan") return get_str(raw, "password");
    if (protocol == "shadowsocks") return get_str(raw, "email");
    if (protocol == "hysteria") return get_str(raw, "auth");
    return get_str(raw, "id");
}

bool valid_email(std::string_view email) {
    if (email.empty() || email.size() > 255) return false;
    return std::none_of(email.begin(), email.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return u <= 0x20 || u == 0x7f || c == '/' || c == '\\';
    });
}

bool version_at_least(std::string_view version, int major, int minor) {
    if (!version.empty() && (version.front() == 'v' || version.front() == 'V')) version.remove_prefix(1);
    int parts[2] = {0, 0};
    std::size_t i = 0;
    for (int& part : parts) {
        if (i >= version.size() || !std::isdigit(static_cast<unsigned char>(version[i]))) break;
        while (i < version.size() && std::isdigit(static_cast<unsigned char>(version[i]))) {
            part = part * 10 + (version[i++] - '0');
        }
        if (i < version.size() && version[i] == '.') ++i;
    }
    return parts[0] != major ? parts[0] > major : parts[1] >= minor;
}

common::Unexpected<PanelError> from_transport(const common::http::ClientError& e) {
    switch (e.code) {
        case common::http::ClientErrorCode::timeout:
            return error(PanelErrorCode::timeout, "panel did not answer in time");
        case common::http::ClientErrorCode::protocol:
        case common::http::ClientErrorCode::too_large:
            return error(PanelErrorCode::protocol,
                         "panel sent a malformed HTTP answer: " + summarise(e.message));
        default:
            return error(PanelErrorCode::unreachable, "panel unreachable: " + summarise(e.message));
    }
}

}  // namespace

struct PanelClient::Impl {
    struct Located {
        Client client;
        std::string protocol;
    };

    Impl(asio::any_io_executor executor, PanelOptions options, const common::Clock& clock,
         std::unique_ptr<common::http::Client> transport)
        : ex(std::move(executor)),
          opt(std::move(options)),
          http(std::move(transport)),
          backoff(clock, opt.login_backoff) {
        base = normalise_base(opt.base_path);
        if (base == "/" && !opt.url.path.empty()) base = normalise_base(opt.url.path);
    }

    asio::any_io_executor ex;
    PanelOptions opt;
    std::unique_ptr<common::http::Client> http;
    LoginBackoff backoff;
    std::string base;

    std::map<std::string, std::string> cookies;
    std::string csrf_token;
    std::optional<bool> csrf_supported;
    bool logged_in = false;
    std::uint64_t epoch = 0;  // bumped by every successful login
    bool login_in_flight = false;
    std::vector<asio::steady_timer*> login_waiters;

    std::optional<Generation> gen;
    std::string panel_version;

    bool bearer() const { return !opt.api_token.empty(); }
    Deadline deadline() const { return Deadline::after(opt.timeout); }

    void absorb_cookies(const common::http::Response& resp) {
        for (const auto& [name, value] : resp.headers.fields()) {
            if (!common::http::iequals(name, "set-cookie")) continue;
            std::string_view text = value;
            auto pair = text.substr(0, text.find(';'));
            auto eq = pair.find('=');
            if (eq == std::string_view::npos || eq == 0) continue;
            std::string cookie_name(pair.substr(0, eq));
            std::string cookie_value(pair.substr(eq + 1));
            std::string attrs(text.substr(pair.size()));
            std::transform(attrs.begin(), attrs.end(), attrs.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            const bool removed = cookie_value.empty() || attrs.find("max-age=0") != std::string::npos ||
                                 attrs.find("max-age=-") != std::string::npos;
            if (removed) {
                cookies.erase(cookie_name);
            } else {
                cookies[cookie_name] = std::move(cookie_value);
            }
        }
    }

    asio::awaitable<common::Result<common::http::Response, PanelError>> send(common::http::Request req,
                                                                             Deadline d) {
        const auto left = d.left();
        if (left <= milliseconds::zero())
            co_return error(PanelErrorCode::timeout, "panel did not answer in time");
        req.headers.set("X-Requested-With", "XMLHttpRequest");
        req.headers.set("Accept", "application/json");
        if (bearer()) {
            req.headers.set("Authorization", "Bearer " + opt.api_token);
        } else if (!cookies.empty()) {
            std::string header;
            for (const auto& [name, value] : cookies) {
                if (!header.empty()) header += "; ";
                header += name + "=" + value;
            }
            req.headers.set("Cookie", std::move(header));
        }
        auto resp = co_await http->send(std::move(req), left);
        if (!resp) co_return from_transport(resp.error());
        absorb_cookies(*resp);
        co_return std::move(resp).value();
    }

    // Asks {base}csrf-token for the session's token; a 404 means a panel without CSRF (before 3.0).
    asio::awaitable<common::Status<PanelError>> fetch_csrf(Deadline d) {
        // A named request: g++ 12 mis-copies a braced prvalue passed as a coroutine argument.
        common::http::Request req{"GET", base + "csrf-token", {}, {}};
        auto resp = co_await send(std::move(req), d);
        if (!resp) co_return common::unexpected(resp.error());
        if (resp->status == 404) {
            csrf_supported = false;
            csrf_token.clear();
            co_return common::Status<PanelError>{};
        }
        auto obj = parse_envelope(resp->status, resp->body);
        if (!obj) co_return common::unexpected(obj.error());
        if (!obj->is_string() || obj->get_ref<const std::string&>().empty()) {
            co_return error(PanelErrorCode::protocol, "panel's csrf-token answer carries no token");
        }
        csrf_supported = true;
        csrf_token = obj->get<std::string>();
        co_return common::Status<PanelError>{};
    }

    asio::awaitable<common::Status<PanelError>> do_login(Deadline d) {
        cookies.clear();
        csrf_token.clear();
        logged_in = false;
        if (csrf_supported != false) {
            auto s = co_await fetch_csrf(d);
            if (!s) co_return s;
        }
        common::http::Request req{"POST", base + "login", {}, {}};
        if (csrf_supported == true) {
            req.headers.set("Content-Type", "application/json");
            req.headers.set("X-CSRF-Token", csrf_token);
            req.body =
                json{{"username", opt.username}, {"password", opt.password}, {"twoFactorCode", ""}}.dump();
        } else {
            req.headers.set("Content-Type", "application/x-www-form-urlencoded");
            req.body = "username=" + common::http::url_encode(opt.username) +
                       "&password=" + common::http::url_encode(opt.password);
        }
        auto resp = co_await send(std::move(req), d);
        if (!resp) co_return common::unexpected(resp.error());
        if (resp->status == 403) {
            co_return error(PanelErrorCode::auth_failed, "panel refused the login's CSRF token (HTTP 403)");
        }
        if (resp->status == 404) {
            co_return error(PanelErrorCode::protocol,
                            "panel has no login page at " + base + "login (check PANEL_BASE_PATH)");
        }
        auto obj = parse_envelope(resp->status, resp->body);
        if (obj) {
            logged_in = true;
            ++epoch;
            backoff.record_success();
            spdlog::info("panel: logged in at {}{}", base, csrf_supported == true ? " (CSRF session)" : "");
            co_return common::Status<PanelError>{};
        }
        if (resp->status != 200 || obj.error().code == PanelErrorCode::protocol)
            co_return common::unexpected(obj.error());
        backoff.record_failure();
        spdlog::warn("panel: login refused ({} in a row): {}", backoff.consecutive_failures(),
                     obj.error().message);
        co_return error(PanelErrorCode::auth_failed, "panel refused the login (" + obj.error().message + ")");
    }

    // One login at a time: coroutines arriving while one runs wait for it and share its result.
    asio::awaitable<common::Status<PanelError>> ensure_login(Deadline d) {
        while (login_in_flight) {
            asio::steady_timer timer(ex, d.at);
            login_waiters.push_back(&timer);
            struct Unregister {
                std::vector<asio::steady_timer*>& list;
                asio::steady_timer* timer;
                ~Unregister() { std::erase(list, timer); }
            } unregister{login_waiters, &timer};
            auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
            if (!ec) co_return error(PanelErrorCode::timeout, "panel login did not finish in time");
        }
        if (logged_in) co_return common::Status<PanelError>{};
        if (auto wait = backoff.wait_before_attempt()) {
            co_return error(PanelErrorCode::auth_failed,
                            "panel login failed " + std::to_string(backoff.consecutive_failures()) +
                                " time(s); next attempt allowed in " +
                                std::to_string(std::chrono::ceil<std::chrono::seconds>(*wait).count()) +
                                " s");
        }
        login_in_flight = true;
        struct Release {
            Impl& self;
            ~Release() {
                self.login_in_flight = false;
                for (auto* waiter : self.login_waiters) waiter->cancel();
            }
        } release{*this};
        co_return co_await do_login(d);
    }

    // An authenticated API call: `path` is relative to the base path; the answer's `obj`.
    asio::awaitable<common::Result<json, PanelError>> api(std::string method, std::string path,
                                                          std::optional<json> body, Deadline d) {
        const bool unsafe = method != "GET";
        bool relogged = false;
        bool refreshed = false;
        for (;;) {
            if (!bearer()) {
                auto s = co_await ensure_login(d);
                if (!s) co_return common::unexpected(s.error());
            }
            const auto used_epoch = epoch;
            common::http::Request req{method, base + path, {}, {}};
            if (body) {
                req.headers.set("Content-Type", "application/json");
                req.body = body->dump();
            }
            if (unsafe && !bearer() && csrf_supported == true) req.headers.set("X-CSRF-Token", csrf_token);
            auto resp = co_await send(std::move(req), d);
            if (!resp) co_return common::unexpected(resp.error());
            const int status = resp->status;
            // "Not logged in", by version: 307 to the login page, 401, or a bare 404.
            if (status == 401 || status == 404 || (status >= 300 && status < 400)) {
                if (bearer()) {
                    co_return error(
                        PanelErrorCode::auth_failed,
                        status == 404 ? "panel answered 404 to the API token (wrong token or base path?)"
                                      : "panel refused the API token (HTTP " + std::to_string(status) + ")");
                }
                if (!relogged) {
                    relogged = true;
                    if (epoch == used_epoch) logged_in = false;
                    continue;
                }
                if (status == 404) {
                    co_return error(PanelErrorCode::protocol,
                                    "panel has no route " + base + path + " (HTTP 404)");
                }
                co_return error(
                    PanelErrorCode::auth_failed,
                    "panel refuses the session right after logging in (HTTP " + std::to_string(status) + ")");
            }
            if (status == 403) {
                if (!bearer() && csrf_supported == true && !refreshed) {
                    refreshed = true;
                    auto s = co_await fetch_csrf(d);
                    if (!s) co_return common::unexpected(s.error());
                    continue;
                }
                auto said = parse_envelope(200, resp->body);
                co_return error(PanelErrorCode::auth_failed,
                                !said && said.error().code != PanelErrorCode::protocol
                                    ? "panel forbids " + path + ": " + said.error().message
                                    : "panel forbids " + path + " (HTTP 403)");
            }
            co_return parse_envelope(status, resp->body);
        }
    }

    void remember_status(const json& obj) {
        panel_version = get_str(obj, "panelVersion");
        gen = panel_version.empty() ? Generation::legacy : Generation::clients;
    }

    asio::awaitable<common::Result<Generation, PanelError>> detect(Deadline d) {
        if (gen) co_return *gen;
        auto obj = co_await api("GET", "panel/api/server/status", std::nullopt, d);
        if (!obj) co_return common::unexpected(obj.error());
        remember_status(*obj);
        spdlog::info("panel: {} client API{}", to_string(*gen),
                     panel_version.empty() ? std::string() : " (version " + panel_version + ")");
        co_return *gen;
    }

    asio::awaitable<common::Result<json, PanelError>> inbounds_json(Deadline d) {
        auto obj = co_await api("GET", "panel/api/inbounds/list", std::nullopt, d);
        if (!obj) co_return obj;
        if (obj->is_null()) co_return json::array();
        if (!obj->is_array()) co_return error(PanelErrorCode::protocol, "panel's inbound list is not a list");
        co_return obj;
    }

    asio::awaitable<common::Result<Inbound, PanelError>> inbound(int id, Deadline d) {
        auto obj = co_await api("GET", "panel/api/inbounds/get/" + std::to_string(id), std::nullopt, d);
        if (!obj) co_return common::unexpected(obj.error());
        if (!obj->is_object()) co_return error(PanelErrorCode::not_found, "no inbound " + std::to_string(id));
        co_return parse_inbound(*obj);
    }

    // The stored client (without traffic) and its inbound's protocol.
    asio::awaitable<common::Result<std::optional<Located>, PanelError>> locate(const std::string& email,
                                                                               Deadline d) {
        auto g = co_await detect(d);
        if (!g) co_return common::unexpected(g.error());
        if (*g == Generation::clients) {
            auto obj = co_await api("GET", "panel/api/clients/get/" + seg(email), std::nullopt, d);
            if (!obj) {
                if (obj.error().code == PanelErrorCode::not_found) co_return std::optional<Located>{};
                co_return common::unexpected(obj.error());
            }
            if (!obj->is_object() || !(*obj)["client"].is_object()) co_return std::optional<Located>{};
            int inbound_id = 0;
            if (auto ids = obj->find("inboundIds");
                ids != obj->end() && ids->is_array() && !ids->empty() && ids->front().is_number_integer()) {
                inbound_id = ids->front().get<int>();
            }
            co_return std::optional<Located>(
                Located{parse_client((*obj)["client"], inbound_id, true), std::string()});
        }
        auto list = co_await inbounds_json(d);
        if (!list) co_return common::unexpected(list.error());
        for (const auto& ib : *list) {
            auto settings = nested_object(ib, "settings");
            auto clients = settings.find("clients");
            if (clients == settings.end() || !clients->is_array()) continue;
            for (const auto& c : *clients) {
                if (common::http::iequals(get_str(c, "email"), email)) {
                    co_return std::optional<Located>(
                        Located{parse_client(c, get_int(ib, "id"), false), get_str(ib, "protocol")});
                }
            }
        }
        co_return std::optional<Located>{};
    }

    asio::awaitable<common::Result<std::optional<Client>, PanelError>> find(const std::string& email,
                                                                            Deadline d) {
        auto loc = co_await locate(email, d);
        if (!loc) co_return common::unexpected(loc.error());
        if (!*loc) co_return std::optional<Client>{};
        Client client = std::move((*loc)->client);
        const std::string path = *gen == Generation::clients
                                     ? "panel/api/clients/traffic/" + seg(client.email)
                                     : "panel/api/inbounds/getClientTraffics/" + seg(client.email);
        auto traffic = co_await api("GET", path, std::nullopt, d);
        // A client without a traffic row yet has used nothing.
        if (!traffic && traffic.error().code != PanelErrorCode::not_found)
            co_return common::unexpected(traffic.error());
        if (traffic && traffic->is_object()) apply_traffic(client, *traffic);
        co_return std::optional<Client>{std::move(client)};
    }

    // Writes the whole client object back (both generations replace rather than merge).
    asio::awaitable<common::Status<PanelError>> write(const Located& loc, json raw, Deadline d) {
        common::Result<json, PanelError> done = json();
        if (*gen == Generation::clients) {
            // A ClientRecord's "id" is its row number; the update body wants the UUID there.
            if (auto uuid = raw.find("uuid"); uuid != raw.end() && uuid->is_string()) {
                raw["id"] = uuid->get<std::string>();
                raw.erase("uuid");
            } else {
                raw.erase("id");
            }
            done =
                co_await api("POST", "panel/api/clients/update/" + seg(loc.client.email), std::move(raw), d);
        } else {
            const std::string key = legacy_client_key(loc.protocol, raw);
            if (key.empty())
                co_return error(PanelErrorCode::protocol, "stored client has no credential to address it by");
            json body{{"id", loc.client.inbound_id},
                      {"settings", json{{"clients", json::array({raw})}}.dump()}};
            done = co_await api("POST", "panel/api/inbounds/updateClient/" + seg(key), std::move(body), d);
        }
        if (!done) co_return common::unexpected(done.error());
        co_return common::Status<PanelError>{};
    }

    asio::awaitable<common::Result<Client, PanelError>> update(const std::string& email,
                                                               const ClientPatch& patch, Deadline d) {
        auto loc = co_await locate(email, d);
        if (!loc) co_return common::unexpected(loc.error());
        if (!*loc) co_return error(PanelErrorCode::not_found, "no client " + email);
        json raw = (*loc)->client.raw;
        if (patch.expiry_ms) raw["expiryTime"] = *patch.expiry_ms;
        if (patch.total_bytes) raw["totalGB"] = *patch.total_bytes;
        if (patch.limit_ip) raw["limitIp"] = *patch.limit_ip;
        if (patch.enable) raw["enable"] = *patch.enable;
        auto written = co_await write(**loc, std::move(raw), d);
        if (!written) co_return common::unexpected(written.error());
        auto fresh = co_await find((*loc)->client.email, d);
        if (!fresh) co_return common::unexpected(fresh.error());
        if (!*fresh)
            co_return error(PanelErrorCode::not_found, "client " + email + " vanished during the update");
        co_return std::move(**fresh);
    }
};

PanelClient::PanelClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PanelClient::~PanelClient() = default;

common::Result<std::unique_ptr<PanelClient>, std::string> PanelClient::create(asio::any_io_executor ex,
                                                                              PanelOptions options,
                                                                              const common::Clock& clock) {
    if (options.url.scheme != "http" && options.url.scheme != "https") {
        return common::unexpected(std::string("panel URL must be http or https"));
    }
    if (options.url.host.empty()) return common::unexpected(std::string("panel URL has no host"));
    if (options.api_token.empty() && (options.username.empty() || options.password.empty())) {
        return common::unexpected(std::string("panel needs a username and password, or an API token"));
    }
    if (options.timeout <= milliseconds::zero())
        return common::unexpected(std::string("panel timeout must be positive"));
    if (options.login_backoff.max_failures_in_window == 0) {
        return common::unexpected(std::string("login backoff must allow at least one failure per window"));
    }
    common::http::ClientOptions client_options;
    client_options.base = options.url;
    client_options.connect_timeout = options.timeout;
    client_options.request_timeout = options.timeout;
    client_options.ca_file = options.ca_file;
    auto transport = common::http::Client::create(ex, std::move(client_options));
    if (!transport) return common::unexpected("panel client: " + transport.error());
    auto impl = std::make_unique<Impl>(ex, std::move(options), clock, std::move(transport).value());
    return std::unique_ptr<PanelClient>(new PanelClient(std::move(impl)));
}

const std::string& PanelClient::panel_version() const { return impl_->panel_version; }

asio::awaitable<common::Result<Generation, PanelError>> PanelClient::generation() {
    co_return co_await impl_->detect(impl_->deadline());
}

asio::awaitable<common::Result<std::vector<Inbound>, PanelError>> PanelClient::list_inbounds() {
    auto list = co_await impl_->inbounds_json(impl_->deadline());
    if (!list) co_return common::unexpected(list.error());
    std::vector<Inbound> out;
    for (const auto& ib : *list) out.push_back(parse_inbound(ib));
    co_return out;
}

asio::awaitable<common::Result<Inbound, PanelError>> PanelClient::get_inbound(int id) {
    co_return co_await impl_->inbound(id, impl_->deadline());
}

asio::awaitable<common::Result<ServerStatus, PanelError>> PanelClient::server_status() {
    auto obj = co_await impl_->api("GET", "panel/api/server/status", std::nullopt, impl_->deadline());
    if (!obj) co_return common::unexpected(obj.error());
    if (!obj->is_object()) co_return error(PanelErrorCode::protocol, "panel status is not an object");
    impl_->remember_status(*obj);
    ServerStatus s;
    if (auto cpu = obj->find("cpu"); cpu != obj->end() && cpu->is_number()) s.cpu = cpu->get<double>();
    const json mem = obj->value("mem", json::object());
    s.mem_current = static_cast<std::uint64_t>(std::max<std::int64_t>(0, get_i64(mem, "current")));
    s.mem_total = static_cast<std::uint64_t>(std::max<std::int64_t>(0, get_i64(mem, "total")));
    const json xray = obj->value("xray", json::object());
    s.xray_state = get_str(xray, "state");
    s.xray_version = get_str(xray, "version");
    s.panel_version = impl_->panel_version;
    co_return s;
}

asio::awaitable<common::Result<std::optional<Client>, PanelError>> PanelClient::find_client(
    std::string email) {
    co_return co_await impl_->find(email, impl_->deadline());
}

asio::awaitable<common::Result<std::vector<Client>, PanelError>> PanelClient::list_clients() {
    const auto d = impl_->deadline();
    auto g = co_await impl_->detect(d);
    if (!g) co_return common::unexpected(g.error());
    std::vector<Client> out;
    if (*g == Generation::clients) {
        auto list = co_await impl_->api("GET", "panel/api/clients/list", std::nullopt, d);
        if (!list) co_return common::unexpected(list.error());
        if (list->is_null()) co_return out;
        if (!list->is_array()) co_return error(PanelErrorCode::protocol, "panel's client list is not a list");
        for (const auto& item : *list) {
            if (!item.is_object()) continue;
            json record = item.contains("client") && item["client"].is_object() ? item["client"] : item;
            int inbound_id = 0;
            if (auto ids = item.find("inboundIds");
                ids != item.end() && ids->is_array() && !ids->empty() && ids->front().is_number_integer()) {
                inbound_id = ids->front().get<int>();
            }
            json traffic = item.value("traffic", json());
            record.erase("inboundIds");
            record.erase("traffic");
            Client c = parse_client(record, inbound_id, true);
            apply_traffic(c, traffic);
            out.push_back(std::move(c));
        }
        co_return out;
    }
    auto list = co_await impl_->inbounds_json(d);
    if (!list) co_return common::unexpected(list.error());
    for (const auto& ib : *list) {
        if (!ib.is_object()) continue;
        const auto settings = nested_object(ib, "settings");
        const auto clients = settings.find("clients");
        if (clients == settings.end() || !clients->is_array()) continue;
        const json stats = ib.value("clientStats", json());
        for (const auto& raw : *clients) {
            Client c = parse_client(raw, get_int(ib, "id"), false);
            if (stats.is_array()) {
                for (const auto& t : stats) {
                    if (common::http::iequals(get_str(t, "email"), c.email)) apply_traffic(c, t);
                }
            }
            out.push_back(std::move(c));
        }
    }
    co_return out;
}

asio::awaitable<common::Result<Client, PanelError>> PanelClient::add_client(int inbound_id, NewClient nc) {
    const auto d = impl_->deadline();
    if (!valid_email(nc.email)) {
        co_return error(PanelErrorCode::rejected,
                        "client email must be non-empty ASCII without spaces or slashes");
    }
    auto g = co_await impl_->detect(d);
    if (!g) co_return common::unexpected(g.error());
    auto in = co_await impl_->inbound(inbound_id, d);
    if (!in) co_return common::unexpected(in.error());
    if (in->protocol != "vless" && in->protocol != "vmess") {
        co_return error(PanelErrorCode::rejected,
                        "inbound " + std::to_string(inbound_id) + " speaks " + in->protocol + ", not vless");
    }
    // Catches a taken email even on panel versions whose own check was broken (3.0.2, #4438), and
    // stops 3.1+ from silently attaching an existing client that shares the subId.
    auto existing = co_await impl_->locate(nc.email, d);
    if (!existing) co_return common::unexpected(existing.error());
    if (*existing) co_return error(PanelErrorCode::conflict, "email already in use: " + nc.email);

    json client{{"id", nc.uuid.empty() ? common::uuid_v4() : nc.uuid},
                {"flow", vision_flow_allowed(*in) ? nc.flow : ""},
                {"email", nc.email},
                {"limitIp", nc.limit_ip},
                {"totalGB", nc.total_bytes},
                {"expiryTime", nc.expiry_ms},
                {"enable", nc.enable},
                {"tgId", 0},
                {"subId", nc.sub_id.empty() ? common::random_alnum(16) : nc.sub_id},
                {"comment", nc.comment},
                {"reset", 0}};
    common::Result<json, PanelError> added = json();
    if (*g == Generation::clients) {
        client["enable"] = true;  // the panel forces it on create anyway
        json body{{"client", client}, {"inboundIds", json::array({inbound_id})}};
        added = co_await impl_->api("POST", "panel/api/clients/add", std::move(body), d);
    } else {
        json body{{"id", inbound_id}, {"settings", json{{"clients", json::array({client})}}.dump()}};
        added = co_await impl_->api("POST", "panel/api/inbounds/addClient", std::move(body), d);
    }
    if (!added && added.error().code == PanelErrorCode::unreachable) {
        // The connection failed after the add was sent: it may have been carried out. The add is
        // never sent twice; the client is looked up instead, and ours (same uuid) is success.
        auto after = co_await impl_->find(nc.email, d);
        if (after && *after && common::http::iequals((*after)->uuid, client["id"].get<std::string>())) {
            spdlog::warn("panel: the answer to adding {} was lost; the client is there", nc.email);
            added = json();
        }
    }
    if (!added) co_return common::unexpected(added.error());
    if (*g == Generation::clients && !nc.enable) {
        ClientPatch disable;
        disable.enable = false;
        co_return co_await impl_->update(nc.email, disable, d);
    }
    auto stored = co_await impl_->find(nc.email, d);
    if (!stored) co_return common::unexpected(stored.error());
    if (!*stored)
        co_return error(PanelErrorCode::protocol,
                        "panel accepted client " + nc.email + " but does not list it");
    co_return std::move(**stored);
}

asio::awaitable<common::Result<Client, PanelError>> PanelClient::update_client(std::string email,
                                                                               ClientPatch patch) {
    co_return co_await impl_->update(email, patch, impl_->deadline());
}

asio::awaitable<common::Status<PanelError>> PanelClient::delete_client(std::string email) {
    const auto d = impl_->deadline();
    auto loc = co_await impl_->locate(email, d);
    if (!loc) co_return common::unexpected(loc.error());
    if (!*loc) co_return error(PanelErrorCode::not_found, "no client " + email);
    const Client& c = (*loc)->client;
    common::Result<json, PanelError> done = json();
    if (*impl_->gen == Generation::clients) {
        done = co_await impl_->api("POST", "panel/api/clients/del/" + seg(c.email), std::nullopt, d);
    } else {
        const std::string key = legacy_client_key((*loc)->protocol, c.raw);
        done = co_await impl_->api(
            "POST", "panel/api/inbounds/" + std::to_string(c.inbound_id) + "/delClient/" + seg(key),
            std::nullopt, d);
    }
    if (!done) co_return common::unexpected(done.error());
    co_return common::Status<PanelError>{};
}

asio::awaitable<common::Status<PanelError>> PanelClient::reset_traffic(std::string email) {
    const auto d = impl_->deadline();
    auto loc = co_await impl_->locate(email, d);
    if (!loc) co_return common::unexpected(loc.error());
    if (!*loc) co_return error(PanelErrorCode::not_found, "no client " + email);
    const Client& c = (*loc)->client;
    const std::string path =
        *impl_->gen == Generation::clients
            ? "panel/api/clients/resetTraffic/" + seg(c.email)
            : "panel/api/inbounds/" + std::to_string(c.inbound_id) + "/resetClientTraffic/" + seg(c.email);
    auto done = co_await impl_->api("POST", path, std::nullopt, d);
    if (!done) co_return common::unexpected(done.error());
    co_return common::Status<PanelError>{};
}

asio::awaitable<common::Result<BulkResult, PanelError>> PanelClient::disable_clients(
    std::vector<std::string> emails) {
    std::vector<std::string> unique;
    std::set<std::string> seen;
    for (auto& e : emails) {
        if (seen.insert(e).second) unique.push_back(std::move(e));
    }
    BulkResult result;
    if (unique.empty()) co_return result;
    auto g = co_await impl_->detect(impl_->deadline());
    if (!g) co_return common::unexpected(g.error());

    std::vector<std::string> one_by_one = unique;
    if (*g == Generation::clients && version_at_least(impl_->panel_version, 3, 6)) {
        json body = json::object();
        body["emails"] = unique;
        auto obj =
            co_await impl_->api("POST", "panel/api/clients/bulkDisable", std::move(body), impl_->deadline());
        if (!obj) co_return common::unexpected(obj.error());
        // Emails the bulk call skipped for a reason other than "not found" get a second chance below.
        std::map<std::string, std::string> skipped;
        if (obj->is_object()) {
            for (const auto& s : obj->value("skipped", json::array()))
                skipped[get_str(s, "email")] = get_str(s, "reason");
        }
        one_by_one.clear();
        for (const auto& e : unique) {
            auto it = skipped.find(e);
            if (it == skipped.end()) {
                result.changed.push_back(e);
            } else if (classify_panel_message(it->second) == PanelErrorCode::not_found) {
                result.missing.push_back(e);
            } else {
                one_by_one.push_back(e);
            }
        }
    }
    for (const auto& e : one_by_one) {
        // Each client gets its own deadline: a long list must not starve the last ones.
        const auto d = impl_->deadline();
        auto loc = co_await impl_->locate(e, d);
        if (!loc) co_return common::unexpected(loc.error());
        if (!*loc) {
            result.missing.push_back(e);
            continue;
        }
        if ((*loc)->client.enable) {
            json raw = (*loc)->client.raw;
            raw["enable"] = false;
            auto written = co_await impl_->write(**loc, std::move(raw), d);
            if (!written) co_return common::unexpected(written.error());
        }
        result.changed.push_back(e);
    }
    co_return result;
}

asio::awaitable<common::Result<std::vector<std::string>, PanelError>> PanelClient::online_emails() {
    const auto d = impl_->deadline();
    auto g = co_await impl_->detect(d);
    if (!g) co_return common::unexpected(g.error());
    const std::string path =
        *g == Generation::clients ? "panel/api/clients/onlines" : "panel/api/inbounds/onlines";
    auto obj = co_await impl_->api("POST", path, std::nullopt, d);
    if (!obj) co_return common::unexpected(obj.error());
    std::vector<std::string> out;
    if (obj->is_array()) {
        for (const auto& e : *obj) {
            if (e.is_string()) out.push_back(e.get<std::string>());
        }
    } else if (!obj->is_null()) {
        co_return error(PanelErrorCode::protocol, "panel's online list is not a list");
    }
    co_return out;
}

}  // namespace nebula::gateway::xui
