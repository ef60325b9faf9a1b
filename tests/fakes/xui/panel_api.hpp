#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/http.hpp"
#include "fakes/xui/fake_panel.hpp"
#include "fakes/xui/panel_store.hpp"

namespace nebula::fakes::xui {

/// The panel's HTTP surface without sockets: routing under webBasePath, the signed cookie session,
/// CSRF, Bearer tokens, the login limiter, the envelope and the subscription server.
/// Not thread-safe; the owner serialises access.
class PanelApi {
  public:
    /// `wall_ms` is the panel's wall clock (ms since the epoch), `mono_ms` its monotonic clock.
    PanelApi(FakePanelOptions options, std::function<std::int64_t()> wall_ms,
             std::function<std::int64_t()> mono_ms);

    /// Answers one request to the panel listener from `peer_ip`.
    common::http::Response handle_panel(const common::http::Request& request, const std::string& peer_ip);
    /// Answers one request to the subscription listener.
    common::http::Response handle_sub(const common::http::Request& request);

    PanelStore& store() { return store_; }
    const PanelStore& store() const { return store_; }
    const FakePanelOptions& options() const { return options_; }

    void expire_sessions();
    void bump_login_epoch() { ++login_epoch_; }
    void set_failing(bool on) { failing_ = on; }
    void set_onlines(std::vector<std::string> emails) { onlines_ = std::move(emails); }
    int login_count() const { return login_count_; }
    int failed_login_count() const { return failed_login_count_; }

    /// Normalises a webBasePath to begin and end with '/'.
    static std::string normalise_base(std::string base);

    struct Session {
        std::string csrf;
        int user_id = 0;
        std::int64_t epoch = 0;
    };
    struct Context;
    using RouteFn = std::function<common::http::Response(PanelApi&, Context&)>;
    struct Route {
        std::string method;
        std::string pattern;  ///< relative to the base path, ":name" segments are parameters
        bool api = false;     ///< under panel/api: authentication (and in v3 CSRF) applies
        bool csrf = false;    ///< v3 public routes that still check CSRF (login, logout)
        RouteFn fn;
    };

  private:
    std::vector<Route> routes() const;
    std::optional<Session> read_session(const common::http::Request& request) const;
    std::string session_cookie(const Session& session) const;
    std::string clear_cookie() const;
    bool login_blocked(const std::string& key);
    void register_failure(const std::string& key);

    // Handlers
    common::http::Response index(Context& ctx);
    common::http::Response csrf_token(Context& ctx);
    common::http::Response login(Context& ctx);
    common::http::Response logout(Context& ctx);
    common::http::Response status(Context& ctx);

    FakePanelOptions options_;
    std::function<std::int64_t()> wall_ms_;
    std::function<std::int64_t()> mono_ms_;
    PanelStore store_;
    std::string cookie_key_;
    std::int64_t login_epoch_ = 1;
    bool failing_ = false;
    std::vector<std::string> onlines_;
    int login_count_ = 0;
    int failed_login_count_ = 0;
    std::int64_t started_ms_ = 0;
    struct LimitRecord {
        std::deque<std::int64_t> failures;
        std::int64_t blocked_until = 0;
    };
    std::map<std::string, LimitRecord> limiter_;
    std::vector<Route> routes_;
};

}  // namespace nebula::fakes::xui
