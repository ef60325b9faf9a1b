#include "fakes/xui/panel_api.hpp"

#include <ctime>
#include <optional>

#include "common/crypto.hpp"
#include "fakes/xui/go_json.hpp"

namespace nebula::fakes::xui {

struct PanelApi::Context {
    const common::http::Request& request;
    std::string peer_ip;
    std::map<std::string, std::string> params;
    std::map<std::string, std::string> query;
    Session session;
    bool save_session = false;
    bool api_authed = false;
};

namespace {

constexpr const char* kSomethingWentWrong = "Something went wrong";
constexpr const char* kFailingError = "database is locked";

struct Texts {
    const char* success_login;
    const char* invalid_form;
    const char* traffic_get_error;
};
constexpr Texts kTextsV2{" You have successfully logged into your account.",
                         "The Input data format is invalid.", "Error getting traffics."};
constexpr Texts kTextsV3{"You have successfully logged into your account.",
                         "The input data format is invalid.", "Error getting traffic."};
constexpr const char* kWrongCredentials = "Invalid username or password or two-factor code.";

common::http::Response json_response(int status, const OJson& body) {
    common::http::Response r;
    r.status = status;
    r.headers.set("Content-Type", "application/json; charset=utf-8");
    r.body = body.dump();
    return r;
}

common::http::Response empty(int status) {
    common::http::Response r;
    r.status = status;
    return r;
}

// entity.Msg: {"success","msg","obj"}, always HTTP 200.
common::http::Response envelope(bool success, const std::string& msg, OJson obj = nullptr) {
    OJson body;
    body["success"] = success;
    body["msg"] = msg;
    body["obj"] = std::move(obj);
    return json_response(200, body);
}

// jsonMsgObj on failure: "<action> (<err>)".
common::http::Response failure(const std::string& action, const std::string& err) {
    return envelope(false, err.empty() ? action : action + " (" + err + ")");
}

common::http::Response from_result(const common::Result<OJson, Failure>& result, const std::string& ok_msg,
                                   const std::string& fail_action = kSomethingWentWrong) {
    if (!result) return failure(fail_action, result.error());
    return envelope(true, ok_msg, result.value());
}

std::map<std::string, std::string> parse_form(std::string_view text) {
    std::map<std::string, std::string> out;
    while (!text.empty()) {
        auto amp = text.find('&');
        std::string_view pair = text.substr(0, amp);
        text = amp == std::string_view::npos ? std::string_view{} : text.substr(amp + 1);
        if (pair.empty()) continue;
        auto eq = pair.find('=');
        auto key = common::http::url_decode(pair.substr(0, eq), true);
        auto value = common::http::url_decode(
            eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true);
        if (key && value && !out.contains(*key)) out.emplace(*key, *value);
    }
    return out;
}

bool is_json_body(const common::http::Request& request) {
    auto ct = request.headers.find("Content-Type");
    if (!ct) return false;
    std::string_view v = *ct;
    v = v.substr(0, v.find(';'));
    while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
    return common::http::iequals(v, "application/json");
}

// gin's JSON binder decodes with json.Decoder: an empty body is io.EOF.
common::Result<Json, Failure> decode_json_body(const std::string& body) {
    if (body.find_first_not_of(" \t\r\n") == std::string::npos) return common::unexpected(Failure("EOF"));
    Json j = Json::parse(body, nullptr, false);
    if (j.is_discarded()) return common::unexpected(go_syntax_error(body));
    return j;
}

// strconv.Atoi's error text.
std::optional<int> atoi_go(const std::string& text, std::string& err) {
    if (text.empty() || text.size() > 9 || text.find_first_not_of("-0123456789") != std::string::npos ||
        (text.find('-') != std::string::npos && text.rfind('-') != 0) || text == "-") {
        err = "strconv.Atoi: parsing " + go_quote(text) + ": invalid syntax";
        return std::nullopt;
    }
    return std::stoi(text);
}

// 32 random bytes in base64.RawURLEncoding: 43 characters, no padding.
std::string new_csrf_token() {
    std::string token = common::base64_encode(common::random_bytes(32));
    for (char& c : token) {
        if (c == '+') c = '-';
        if (c == '/') c = '_';
    }
    while (!token.empty() && token.back() == '=') token.pop_back();
    return token;
}

std::string http_date(std::int64_t unix_seconds) {
    std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return buf;
}

// Splits "a/b/c" and matches ":param" segments (never empty, as in gin's router).
bool match_route(std::string_view pattern, std::string_view rel, std::map<std::string, std::string>& params) {
    params.clear();
    while (true) {
        auto ps = pattern.find('/');
        auto rs = rel.find('/');
        std::string_view pseg = pattern.substr(0, ps);
        std::string_view rseg = rel.substr(0, rs);
        if (!pseg.empty() && pseg.front() == ':') {
            if (rseg.empty()) return false;
            params[std::string(pseg.substr(1))] = std::string(rseg);
        } else if (pseg != rseg) {
            return false;
        }
        if ((ps == std::string_view::npos) != (rs == std::string_view::npos)) return false;
        if (ps == std::string_view::npos) return true;
        pattern = pattern.substr(ps + 1);
        rel = rel.substr(rs + 1);
    }
}

std::string host_of(const common::http::Request& request) {
    std::string host(request.headers.find("Host").value_or(""));
    if (!host.empty() && host.front() == '[') {
        auto close = host.find(']');
        return close == std::string::npos ? host : host.substr(1, close - 1);
    }
    auto colon = host.rfind(':');
    return colon == std::string::npos ? host : host.substr(0, colon);
}

// G1 handlers bind the body into model.Inbound (form or JSON): only `id` and `settings` matter.
struct InboundBody {
    int id = 0;
    std::string settings;
};

common::Result<InboundBody, Failure> bind_inbound(const common::http::Request& request,
                                                  const std::string& query) {
    InboundBody out;
    if (is_json_body(request)) {
        auto j = decode_json_body(request.body);
        if (!j) return common::unexpected(j.error());
        if (!j->is_object()) {
            return common::unexpected("json: cannot unmarshal " + go_kind(*j) +
                                      " into Go value of type model.Inbound");
        }
        GoDecoder d(*j, "Inbound");
        out.id = static_cast<int>(d.i64("id", "int"));
        out.settings = d.str("settings");
        if (d.error()) return common::unexpected(*d.error());
        return out;
    }
    auto form = parse_form(request.body);
    for (auto& [k, v] : parse_form(query)) form.emplace(k, v);
    if (auto it = form.find("id"); it != form.end() && !it->second.empty()) {
        const std::string& v = it->second;
        if (v.find_first_not_of("-0123456789") != std::string::npos || v == "-") {
            return common::unexpected("strconv.ParseInt: parsing " + go_quote(v) + ": invalid syntax");
        }
        out.id = std::stoi(v);
    }
    if (auto it = form.find("settings"); it != form.end()) out.settings = it->second;
    return out;
}

}  // namespace

std::string PanelApi::normalise_base(std::string base) {
    if (base.empty() || base.front() != '/') base.insert(base.begin(), '/');
    if (base.back() != '/') base.push_back('/');
    return base;
}

PanelApi::PanelApi(FakePanelOptions options, std::function<std::int64_t()> wall_ms,
                   std::function<std::int64_t()> mono_ms)
    : options_(std::move(options)),
      wall_ms_(std::move(wall_ms)),
      mono_ms_(std::move(mono_ms)),
      store_(options_.mode, wall_ms_),
      cookie_key_(common::random_bytes(32)) {
    options_.base_path = normalise_base(options_.base_path);
    if (options_.seed) store_.seed();
    started_ms_ = wall_ms_();
    routes_ = routes();
}

void PanelApi::expire_sessions() { cookie_key_ = common::random_bytes(32); }

// ---------------------------------------------------------------------------------------------
// The cookie store: the whole session lives in a signed cookie (gorilla securecookie), so expiry is
// the signed timestamp against the max age and a new signing key invalidates every cookie.

std::string PanelApi::session_cookie(const Session& s) const {
    nlohmann::json payload = {
        {"t", wall_ms_() / 1000}, {"csrf", s.csrf}, {"uid", s.user_id}, {"epoch", s.epoch}};
    std::string data = payload.dump();
    std::string encoded = common::base64_encode(data);
    for (char& c : encoded) {
        if (c == '+') c = '-';
        if (c == '/') c = '_';
    }
    std::string value = encoded + "|" + common::hmac_sha256_hex(cookie_key_, encoded);
    const auto max_age = options_.session_max_age.count();
    std::string cookie = "3x-ui=" + value + "; Path=" + options_.base_path;
    if (max_age > 0) {
        cookie +=
            "; Expires=" + http_date(wall_ms_() / 1000 + max_age) + "; Max-Age=" + std::to_string(max_age);
    }
    return cookie + "; HttpOnly; SameSite=Lax";
}

std::string PanelApi::clear_cookie() const {
    return "3x-ui=; Path=" + options_.base_path +
           "; Expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=0; HttpOnly; SameSite=Lax";
}

std::optional<PanelApi::Session> PanelApi::read_session(const common::http::Request& request) const {
    for (const auto& [name, header] : request.headers.fields()) {
        if (!common::http::iequals(name, "Cookie")) continue;
        std::string_view rest = header;
        while (!rest.empty()) {
            auto semi = rest.find(';');
            std::string_view part = rest.substr(0, semi);
            rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
            while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
            if (part.substr(0, 6) != "3x-ui=") continue;
            std::string_view value = part.substr(6);
            auto bar = value.find('|');
            if (bar == std::string_view::npos) return std::nullopt;
            std::string encoded(value.substr(0, bar));
            if (!common::constant_time_equal(common::hmac_sha256_hex(cookie_key_, encoded),
                                             value.substr(bar + 1))) {
                return std::nullopt;
            }
            for (char& c : encoded) {
                if (c == '-') c = '+';
                if (c == '_') c = '/';
            }
            // base64 decode
            std::string data;
            int val = 0;
            int bits = -8;
            for (char c : encoded) {
                int d;
                if (c >= 'A' && c <= 'Z')
                    d = c - 'A';
                else if (c >= 'a' && c <= 'z')
                    d = c - 'a' + 26;
                else if (c >= '0' && c <= '9')
                    d = c - '0' + 52;
                else if (c == '+')
                    d = 62;
                else if (c == '/')
                    d = 63;
                else
                    break;
                val = (val << 6) | d;
                bits += 6;
                if (bits >= 0) {
                    data.push_back(static_cast<char>((val >> bits) & 0xFF));
                    bits -= 8;
                }
            }
            auto payload = nlohmann::json::parse(data, nullptr, false);
            if (!payload.is_object()) return std::nullopt;
            const std::int64_t issued = payload.value("t", std::int64_t{0});
            const auto max_age = options_.session_max_age.count();
            if (max_age > 0 && issued < wall_ms_() / 1000 - max_age) return std::nullopt;
            Session s;
            s.csrf = payload.value("csrf", std::string());
            s.user_id = payload.value("uid", 0);
            s.epoch = payload.value("epoch", std::int64_t{0});
            return s;
        }
    }
    return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Login limiter (v3.0+): 5 failures per (ip, username) within 5 minutes block the pair for 15.

bool PanelApi::login_blocked(const std::string& key) {
    auto it = limiter_.find(key);
    if (it == limiter_.end()) return false;
    const std::int64_t now = mono_ms_();
    if (now < it->second.blocked_until) return true;
    it->second.blocked_until = 0;
    while (!it->second.failures.empty() && it->second.failures.front() < now - 5 * 60'000) {
        it->second.failures.pop_front();
    }
    if (it->second.failures.empty()) limiter_.erase(it);
    return false;
}

void PanelApi::register_failure(const std::string& key) {
    const std::int64_t now = mono_ms_();
    auto& rec = limiter_[key];
    while (!rec.failures.empty() && rec.failures.front() < now - 5 * 60'000) rec.failures.pop_front();
    rec.failures.push_back(now);
    if (rec.failures.size() >= 5) {
        rec.failures.clear();
        rec.blocked_until = now + 15 * 60'000;
    }
}

// ---------------------------------------------------------------------------------------------
// Public routes

common::http::Response PanelApi::index(Context& ctx) {
    const bool logged_in = ctx.session.user_id == 1 && ctx.session.epoch == login_epoch_;
    if (logged_in) {
        common::http::Response r = empty(307);
        r.headers.set("Cache-Control", "no-store");
        r.headers.set("Location", options_.mode == PanelMode::v3 ? options_.base_path + "panel/" : "panel/");
        return r;
    }
    std::string meta;
    if (options_.mode == PanelMode::v3) {
        if (ctx.session.csrf.empty()) {
            ctx.session.csrf = new_csrf_token();
            ctx.save_session = true;
        }
        meta = "<meta name=\"csrf-token\" content=\"" + ctx.session.csrf + "\">";
    }
    common::http::Response r;
    r.headers.set("Content-Type", "text/html; charset=utf-8");
    r.body = "<!DOCTYPE html><html><head><meta charset=\"utf-8\">" + meta +
             "<title>Login</title></head><body><div id=\"app\"></div></body></html>";
    return r;
}

common::http::Response PanelApi::csrf_token(Context& ctx) {
    if (ctx.session.csrf.empty()) {
        ctx.session.csrf = new_csrf_token();
        ctx.save_session = true;
    }
    OJson body;
    body["success"] = true;
    body["obj"] = ctx.session.csrf;
    return json_response(200, body);
}

common::http::Response PanelApi::login(Context& ctx) {
    const Texts& texts = options_.mode == PanelMode::v3 ? kTextsV3 : kTextsV2;
    std::string username;
    std::string password;
    if (is_json_body(ctx.request)) {
        auto j = decode_json_body(ctx.request.body);
        if (!j || !j->is_object()) return envelope(false, texts.invalid_form);
        GoDecoder d(*j, "LoginForm");
        username = d.str("username");
        password = d.str("password");
        (void)d.str("twoFactorCode");
        if (d.error()) return envelope(false, texts.invalid_form);
    } else {
        auto form = parse_form(ctx.request.body);
        for (auto& [k, v] : ctx.query) form.emplace(k, v);
        username = form["username"];
        password = form["password"];
    }
    if (username.empty()) return envelope(false, "Username is required");
    if (password.empty()) return envelope(false, "Password is required");

    std::string key = ctx.peer_ip + '\0';
    for (char c : username) key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (options_.mode == PanelMode::v3 && login_blocked(key)) {
        ++failed_login_count_;
        return envelope(false, kWrongCredentials);
    }
    if (!common::constant_time_equal(username, options_.username) ||
        !common::constant_time_equal(password, options_.password)) {
        ++failed_login_count_;
        if (options_.mode == PanelMode::v3) register_failure(key);
        return envelope(false, kWrongCredentials);
    }
    limiter_.erase(key);
    ++login_count_;
    ctx.session.user_id = 1;
    ctx.session.epoch = login_epoch_;
    ctx.save_session = true;
    return envelope(true, texts.success_login);
}

common::http::Response PanelApi::logout(Context& ctx) {
    ctx.session = Session{};
    common::http::Response r;
    if (options_.mode == PanelMode::v3) {
        OJson body;
        body["success"] = true;
        r = json_response(200, body);
    } else {
        r = empty(307);
        r.headers.set("Location", options_.base_path);
    }
    r.headers.set("Cache-Control", "no-store");
    r.headers.add("Set-Cookie", clear_cookie());
    // v3 also clears a cookie an older version may have set at Path=/.
    if (options_.mode == PanelMode::v3 && options_.base_path != "/") {
        r.headers.add(
            "Set-Cookie",
            "3x-ui=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; SameSite=Lax");
    }
    return r;
}

common::http::Response PanelApi::status(Context&) {
    const std::int64_t uptime = (wall_ms_() - started_ms_) / 1000 + 86'400;
    OJson s;
    s["cpu"] = 3.1;
    s["cpuCores"] = 2;
    s["logicalPro"] = 2;
    s["cpuSpeedMhz"] = 2400;
    s["mem"] = {{"current", 512'000'000}, {"total", 2'000'000'000}};
    s["swap"] = {{"current", 0}, {"total", 0}};
    s["disk"] = {{"current", 9'000'000'000LL}, {"total", 40'000'000'000LL}};
    s["xray"] = {{"state", "running"},
                 {"errorMsg", ""},
                 {"version", options_.mode == PanelMode::v3 ? "26.8.1" : "25.10.15"}};
    if (options_.mode == PanelMode::v3) {
        s["panelVersion"] = "3.6.0";
        s["panelGuid"] = "3c9a1f52-7d0e-4b8a-9f61-2e5d8c4b7a90";
    }
    s["uptime"] = uptime;
    s["loads"] = {0.1, 0.2, 0.3};
    s["tcpCount"] = 40;
    s["udpCount"] = 5;
    if (options_.mode == PanelMode::v3) {
        s["netIO"] = {{"up", 1200}, {"down", 3400}, {"pktUp", 10}, {"pktDown", 25}};
        s["netTraffic"] = {
            {"sent", 1'000'000'000}, {"recv", 2'000'000'000}, {"pktSent", 900'000}, {"pktRecv", 1'800'000}};
    } else {
        s["netIO"] = {{"up", 1200}, {"down", 3400}};
        s["netTraffic"] = {{"sent", 1'000'000'000}, {"recv", 2'000'000'000}};
    }
    s["publicIP"] = {{"ipv4", "203.0.113.7"}, {"ipv6", "N/A"}};
    s["appStats"] = {{"threads", 12}, {"mem", 60'000'000}, {"uptime", (wall_ms_() - started_ms_) / 1000}};
    if (options_.mode == PanelMode::v3) {
        s["diskIO"] = {{"read", 0}, {"write", 0}};
        s["diskTraffic"] = {{"read", 0}, {"write", 0}};
    }
    return envelope(true, "", s);
}

// ---------------------------------------------------------------------------------------------
// Routing

std::vector<PanelApi::Route> PanelApi::routes() const {
    std::vector<Route> r;
    const bool v3 = options_.mode == PanelMode::v3;
    auto pub = [&](const char* method, const char* pattern, bool csrf, RouteFn fn) {
        r.push_back(Route{method, pattern, false, csrf, std::move(fn)});
    };
    auto api = [&](const char* method, const char* pattern, RouteFn fn) {
        r.push_back(Route{method, std::string("panel/api/") + pattern, true, false, std::move(fn)});
    };
    const std::string traffic_error = v3 ? kTextsV3.traffic_get_error : kTextsV2.traffic_get_error;

    pub("GET", "", false, [](PanelApi& a, Context& c) { return a.index(c); });
    if (v3) {
        pub("GET", "csrf-token", false, [](PanelApi& a, Context& c) { return a.csrf_token(c); });
        pub("POST", "logout", true, [](PanelApi& a, Context& c) { return a.logout(c); });
    } else {
        pub("GET", "logout", false, [](PanelApi& a, Context& c) { return a.logout(c); });
    }
    pub("POST", "login", true, [](PanelApi& a, Context& c) { return a.login(c); });

    api("GET", "inbounds/list",
        [](PanelApi& a, Context&) { return envelope(true, "", a.store_.inbounds_json()); });
    api("GET", "inbounds/get/:id", [](PanelApi& a, Context& c) {
        std::string err;
        auto id = atoi_go(c.params["id"], err);
        if (!id) return failure("Get", err);
        auto res = a.store_.inbound_by_id(*id);
        return res ? envelope(true, "", *res) : failure("Obtain", res.error());
    });
    api("GET", "server/status", [](PanelApi& a, Context& c) { return a.status(c); });

    if (!v3) {
        api("GET", "inbounds/getClientTraffics/:email", [traffic_error](PanelApi& a, Context& c) {
            auto res = a.store_.g1_client_traffic(c.params["email"]);
            return res ? envelope(true, "", *res) : failure(traffic_error, res.error());
        });
        api("GET", "inbounds/getClientTrafficsById/:id", [](PanelApi& a, Context& c) {
            return envelope(true, "", a.store_.g1_client_traffics_by_uuid(c.params["id"]));
        });
        api("POST", "inbounds/addClient", [](PanelApi& a, Context& c) {
            auto body = bind_inbound(c.request, {});
            if (!body) return failure("Inbound has been successfully updated.", body.error());
            return from_result(a.store_.g1_add_client(body->id, body->settings),
                               "Inbound client(s) have been added.");
        });
        api("POST", "inbounds/updateClient/:clientId", [](PanelApi& a, Context& c) {
            auto body = bind_inbound(c.request, {});
            if (!body) return failure("Inbound has been successfully updated.", body.error());
            return from_result(a.store_.g1_update_client(c.params["clientId"], body->id, body->settings),
                               "Inbound client has been updated.");
        });
        api("POST", "inbounds/:id/delClient/:clientId", [](PanelApi& a, Context& c) {
            std::string err;
            auto id = atoi_go(c.params["id"], err);
            if (!id) return failure("Inbound has been successfully updated.", err);
            return from_result(a.store_.g1_del_client(*id, c.params["clientId"]),
                               "Inbound client has been deleted.");
        });
        api("POST", "inbounds/:id/delClientByEmail/:email", [](PanelApi& a, Context& c) {
            std::string err;
            auto id = atoi_go(c.params["id"], err);
            if (!id) return failure("Invalid inbound ID", err);
            return from_result(a.store_.g1_del_client_by_email(*id, c.params["email"]),
                               "Client deleted successfully", "Failed to delete client by email");
        });
        api("POST", "inbounds/:id/resetClientTraffic/:email", [](PanelApi& a, Context& c) {
            std::string err;
            auto id = atoi_go(c.params["id"], err);
            if (!id) return failure("Inbound has been successfully updated.", err);
            return from_result(a.store_.g1_reset_client_traffic(*id, c.params["email"]),
                               "Traffic has been reset.");
        });
        api("POST", "inbounds/updateClientTraffic/:email", [](PanelApi& a, Context& c) {
            auto j = decode_json_body(c.request.body);
            if (!j) return failure("Inbound has been successfully updated.", j.error());
            GoDecoder d(*j, "TrafficUpdateRequest");
            auto up = d.i64("upload");
            auto down = d.i64("download");
            if (d.error()) return failure("Inbound has been successfully updated.", *d.error());
            return from_result(a.store_.update_traffic(c.params["email"], up, down),
                               "Inbound client has been updated.");
        });
        api("POST", "inbounds/onlines", [](PanelApi& a, Context&) {
            return envelope(true, "", a.onlines_.empty() ? OJson(nullptr) : OJson(a.onlines_));
        });
        api("POST", "inbounds/lastOnline",
            [](PanelApi& a, Context&) { return envelope(true, "", a.store_.last_online()); });
        api("POST", "inbounds/clientIps/:email",
            [](PanelApi&, Context&) { return envelope(true, "", "No IP Record"); });
        api("POST", "inbounds/clearClientIps/:email",
            [](PanelApi&, Context&) { return envelope(true, "The log has been cleared."); });
    } else {
        api("GET", "clients/list",
            [](PanelApi& a, Context&) { return envelope(true, "", a.store_.g2_list()); });
        api("GET", "clients/get/:email", [](PanelApi& a, Context& c) {
            auto res = a.store_.g2_get(c.params["email"]);
            return res ? envelope(true, "", *res) : failure("Obtain", res.error());
        });
        api("GET", "clients/traffic/:email", [](PanelApi& a, Context& c) {
            return envelope(true, "", a.store_.g2_traffic(c.params["email"]));
        });
        api("GET", "clients/subLinks/:subId", [](PanelApi& a, Context& c) {
            std::string host = a.options_.sub_domain.empty() ? host_of(c.request) : a.options_.sub_domain;
            auto sub = a.store_.subscription(c.params["subId"], host);
            return envelope(true, "", sub ? OJson(sub->links) : OJson::array());
        });
        api("POST", "clients/add", [](PanelApi& a, Context& c) {
            auto j = decode_json_body(c.request.body);
            if (!j) return failure(kSomethingWentWrong, j.error());
            return from_result(a.store_.g2_add(*j), "Inbound client(s) have been added.");
        });
        api("POST", "clients/update/:email", [](PanelApi& a, Context& c) {
            auto j = decode_json_body(c.request.body);
            if (!j) return failure(kSomethingWentWrong, j.error());
            std::vector<int> filter;
            std::string ids = c.query["inboundIds"];
            for (std::size_t pos = 0; pos < ids.size();) {
                auto comma = ids.find(',', pos);
                std::string part =
                    ids.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
                std::string err;
                if (auto id = atoi_go(part, err)) filter.push_back(*id);
                pos = comma == std::string::npos ? ids.size() : comma + 1;
            }
            return from_result(a.store_.g2_update(c.params["email"], *j, filter),
                               "Inbound client has been updated.");
        });
        api("POST", "clients/del/:email", [](PanelApi& a, Context& c) {
            return from_result(a.store_.g2_del(c.params["email"], c.query["keepTraffic"] == "1"),
                               "Inbound client has been deleted.");
        });
        api("POST", "clients/resetTraffic/:email", [](PanelApi& a, Context& c) {
            return from_result(a.store_.g2_reset_traffic(c.params["email"]), "Traffic has been reset.");
        });
        api("POST", "clients/updateTraffic/:email", [](PanelApi& a, Context& c) {
            auto j = decode_json_body(c.request.body);
            if (!j) return failure(kSomethingWentWrong, j.error());
            GoDecoder d(*j, "trafficUpdateRequest");
            auto up = d.i64("upload");
            auto down = d.i64("download");
            if (d.error()) return failure(kSomethingWentWrong, *d.error());
            return from_result(a.store_.update_traffic(c.params["email"], up, down),
                               "Inbound client has been updated.");
        });
        for (bool enable : {true, false}) {
            api("POST", enable ? "clients/bulkEnable" : "clients/bulkDisable",
                [enable](PanelApi& a, Context& c) {
                    auto j = decode_json_body(c.request.body);
                    if (!j) return failure(kSomethingWentWrong, j.error());
                    std::vector<std::string> emails;
                    if (const Json* list = go_field(*j, "emails"); list != nullptr && !list->is_null()) {
                        if (!list->is_array()) {
                            return failure(
                                kSomethingWentWrong,
                                "json: cannot unmarshal " + go_kind(*list) +
                                    " into Go struct field bulkEnableRequest.emails of type []string");
                        }
                        for (const auto& e : *list) {
                            if (!e.is_string()) {
                                return failure(
                                    kSomethingWentWrong,
                                    "json: cannot unmarshal " + go_kind(e) +
                                        " into Go struct field bulkEnableRequest.emails of type string");
                            }
                            emails.push_back(e.get<std::string>());
                        }
                    }
                    return envelope(true, "", a.store_.g2_bulk_set_enable(emails, enable));
                });
        }
        api("POST", "clients/onlines", [](PanelApi& a, Context&) {
            return envelope(true, "", a.onlines_.empty() ? OJson(nullptr) : OJson(a.onlines_));
        });
        api("POST", "clients/lastOnline",
            [](PanelApi& a, Context&) { return envelope(true, "", a.store_.last_online()); });
    }
    return r;
}

common::http::Response PanelApi::handle_panel(const common::http::Request& request,
                                              const std::string& peer_ip) {
    const bool v3 = options_.mode == PanelMode::v3;
    std::string_view target = request.target;
    auto qmark = target.find('?');
    auto decoded = common::http::url_decode(target.substr(0, qmark));
    if (!decoded) return empty(400);
    const std::string path = *decoded;
    const std::string query =
        qmark == std::string_view::npos ? std::string() : std::string(target.substr(qmark + 1));

    Context ctx{request, peer_ip, {}, parse_form(query), {}, false, false};
    if (auto s = read_session(request)) ctx.session = *s;

    const std::vector<Route>& all = routes_;
    const Route* found = nullptr;
    auto lookup = [&](const std::string& p, const std::string& method) -> const Route* {
        if (p.compare(0, options_.base_path.size(), options_.base_path) != 0) return nullptr;
        std::string rel = p.substr(options_.base_path.size());
        for (const auto& route : all) {
            if (route.method == method && match_route(route.pattern, rel, ctx.params)) return &route;
        }
        return nullptr;
    };
    found = lookup(path, request.method);
    if (found == nullptr) {
        // gin's RedirectTrailingSlash: 301 for GET, 307 for other methods.
        std::string other =
            !path.empty() && path.back() == '/' ? path.substr(0, path.size() - 1) : path + "/";
        if (other.size() > 1 && lookup(other, request.method) != nullptr) {
            common::http::Response r = empty(request.method == "GET" ? 301 : 307);
            r.headers.set("Location", other + (query.empty() ? "" : "?" + query));
            return r;
        }
        return empty(404);
    }

    common::http::Response response;
    try {
        if (found->api) {
            bool authed = false;
            if (v3 && !options_.api_token.empty()) {
                auto auth = request.headers.find("Authorization");
                if (auth && auth->substr(0, 7) == "Bearer " &&
                    common::constant_time_equal(auth->substr(7), options_.api_token)) {
                    authed = ctx.api_authed = true;
                }
            }
            if (!authed) authed = ctx.session.user_id == 1 && ctx.session.epoch == login_epoch_;
            if (!authed) {
                const bool xhr = request.headers.find("X-Requested-With").value_or("") == "XMLHttpRequest";
                return empty(v3 && xhr ? 401 : 404);
            }
        }
        if (v3 && (found->api || found->csrf) && !ctx.api_authed && request.method != "GET" &&
            request.method != "HEAD" && request.method != "OPTIONS") {
            std::string sent(request.headers.find("X-CSRF-Token").value_or(""));
            if (sent.empty() && !is_json_body(request)) {
                auto form = parse_form(request.body);
                sent = form["_csrf"];
            }
            if (ctx.session.csrf.empty() || !common::constant_time_equal(sent, ctx.session.csrf))
                return empty(403);
        }
        if (found->api && failing_) {
            response = failure(kSomethingWentWrong, kFailingError);
        } else {
            response = found->fn(*this, ctx);
        }
    } catch (const Panic&) {
        return empty(500);
    }
    if (ctx.save_session) response.headers.add("Set-Cookie", session_cookie(ctx.session));
    if (v3) {
        response.headers.set("X-Content-Type-Options", "nosniff");
        response.headers.set("X-Frame-Options", "DENY");
        response.headers.set("Referrer-Policy", "no-referrer");
    }
    return response;
}

common::http::Response PanelApi::handle_sub(const common::http::Request& request) {
    const bool v3 = options_.mode == PanelMode::v3;
    std::string_view target = request.target;
    auto qmark = target.find('?');
    auto path = common::http::url_decode(target.substr(0, qmark));
    std::map<std::string, std::string> params;
    if (!path || request.method != "GET" || !match_route("/sub/:subid", *path, params)) {
        common::http::Response r = empty(404);
        r.headers.set("Content-Type", "text/plain");
        r.body = "404 page not found";
        return r;
    }
    std::string host = options_.sub_domain;
    if (host.empty()) {
        host = host_of(request);
        // HEAD replaces a loopback or unspecified request host.
        if (v3 && (host.rfind("127.", 0) == 0 || host == "::1" || host == "0.0.0.0" || host == "::" ||
                   host.empty())) {
            host = "localhost";
        }
    }
    auto sub = store_.subscription(params["subid"], host);
    if (!sub) {
        if (v3) return empty(404);
        common::http::Response r = empty(400);
        r.headers.set("Content-Type", "text/plain; charset=utf-8");
        r.body = "Error!";
        return r;
    }
    std::string text;
    for (const auto& link : sub->links) text += link + "\n";
    common::http::Response r;
    r.headers.set("Content-Type", "text/plain; charset=utf-8");
    r.headers.set("Subscription-Userinfo", "upload=" + std::to_string(sub->up) +
                                               "; download=" + std::to_string(sub->down) +
                                               "; total=" + std::to_string(sub->total) +
                                               "; expire=" + std::to_string(sub->expire_seconds));
    r.headers.set("Profile-Update-Interval", "12");
    if (v3) {
        r.headers.set("Profile-Web-Page-Url",
                      "http://" + std::string(request.headers.find("Host").value_or("")) + request.target);
    }
    r.body = common::base64_encode(text);
    return r;
}

}  // namespace nebula::fakes::xui
