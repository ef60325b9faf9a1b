#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "common/http_client.hpp"
#include "fakes/xui/fake_panel.hpp"
#include "support/io_thread.hpp"

namespace nebula::fakes::testing {

/// What came back from one request.
struct Reply {
    int status = 0;
    std::string body;
    common::http::Headers headers;
    std::optional<common::http::ClientError> error;  ///< set when no HTTP answer arrived

    nlohmann::json json() const { return nlohmann::json::parse(body); }
    std::vector<std::string> set_cookies() const {
        std::vector<std::string> out;
        for (const auto& [n, v] : headers.fields()) {
            if (common::http::iequals(n, "Set-Cookie")) out.push_back(v);
        }
        return out;
    }
};

/// A panel client over real sockets with a cookie jar, like a browser or the gateway would be:
/// it keeps the newest `3x-ui` cookie and can send the CSRF token, an XHR marker or a Bearer token.
class PanelBrowser {
  public:
    PanelBrowser(nebula::testing::IoThread& io, const FakePanel& panel, bool subscription = false)
        : io_(io), base_(panel.options().base_path) {
        common::http::ClientOptions options;
        options.base = common::http::Url::parse(subscription ? panel.sub_url() : panel.url()).value();
        options.request_timeout = std::chrono::seconds(5);
        client_ = io_.call([&] { return common::http::Client::create(io_.executor(), options); }).value();
    }
    ~PanelBrowser() {
        io_.call([this] {
            client_.reset();
            return 0;
        });
    }

    /// `path` is relative to the base path unless it starts with '/'.
    Reply send(const std::string& method, const std::string& path, std::string body = {},
               const std::string& content_type = {}, std::map<std::string, std::string> headers = {},
               std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
        common::http::Request request;
        request.method = method;
        request.target = !path.empty() && path.front() == '/' ? path : base_ + path;
        request.body = std::move(body);
        if (!content_type.empty()) request.headers.set("Content-Type", content_type);
        if (!cookie_.empty()) request.headers.set("Cookie", cookie_);
        if (send_csrf && !csrf.empty()) request.headers.set("X-CSRF-Token", csrf);
        if (xhr) request.headers.set("X-Requested-With", "XMLHttpRequest");
        if (bearer) request.headers.set("Authorization", "Bearer " + *bearer);
        for (auto& [k, v] : headers) request.headers.set(k, v);
        auto result = io_.run(client_->send(std::move(request), timeout));
        Reply reply;
        if (!result) {
            reply.error = result.error();
            return reply;
        }
        reply.status = result->status;
        reply.body = result->body;
        reply.headers = result->headers;
        for (const auto& c : reply.set_cookies()) {
            if (c.rfind("3x-ui=", 0) != 0) continue;
            std::string pair = c.substr(0, c.find(';'));
            cookie_ = pair == "3x-ui=" ? std::string() : pair;
        }
        return reply;
    }

    Reply get(const std::string& path) { return send("GET", path); }
    Reply post(const std::string& path) { return send("POST", path); }
    Reply post_json(const std::string& path, const nlohmann::json& body) {
        return send("POST", path, body.dump(), "application/json");
    }
    Reply post_form(const std::string& path, const std::string& body) {
        return send("POST", path, body, "application/x-www-form-urlencoded");
    }

    /// Logs in the way the panel generation requires (v3: fetch the CSRF token first).
    Reply login(PanelMode mode, const std::string& user = "admin", const std::string& password = "admin") {
        if (mode == PanelMode::v3) fetch_csrf();
        return post_json("login", {{"username", user}, {"password", password}, {"twoFactorCode", ""}});
    }
    void fetch_csrf() {
        Reply r = get("csrf-token");
        if (r.status != 200) throw std::runtime_error("csrf-token answered " + std::to_string(r.status));
        csrf = r.json().at("obj").get<std::string>();
    }

    const std::string& cookie() const { return cookie_; }
    void set_cookie(std::string cookie) { cookie_ = std::move(cookie); }

    std::string csrf;
    bool send_csrf = true;
    bool xhr = false;
    std::optional<std::string> bearer;

  private:
    nebula::testing::IoThread& io_;
    std::string base_;
    std::unique_ptr<common::http::Client> client_;
    std::string cookie_;
};

}  // namespace nebula::fakes::testing
