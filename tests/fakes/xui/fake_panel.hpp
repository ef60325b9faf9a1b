#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nebula::fakes {

/// Which panel generation the fake imitates.
enum class PanelMode {
    v2,  ///< "G1 legacy": 3x-ui 2.9.x, client routes under panel/api/inbounds, no CSRF, no tokens
    v3,  ///< "G2 clients": 3x-ui 3.6.x, panel/api/clients/*, CSRF, Bearer tokens, login lockout
};

struct FakePanelOptions {
    PanelMode mode = PanelMode::v3;
    std::string base_path = "/";  ///< webBasePath, normalised to begin and end with '/'
    std::string username = "admin";
    std::string password = "admin";
    std::string api_token;  ///< v3 only: accepted as "Authorization: Bearer <token>"; empty = none
    std::string address = "127.0.0.1";
    std::uint16_t port = 0;      ///< 0 = pick a free port
    std::uint16_t sub_port = 0;  ///< subscription server (separate listener, no base path); 0 = free port
    std::chrono::seconds session_max_age{21600};
    bool seed = true;  ///< seed the two inbounds "reality-tcp" (id 1) and "tls-ws" (id 2)
    /// The panel's subDomain setting: the host written into share links. Empty = taken from the
    /// request like the real panel (G1: the Host header; G2: "localhost" for a loopback request).
    std::string sub_domain;
};

/// A faithful stand-in for a 3x-ui panel: real HTTP listeners on loopback that keep the real panel's
/// routes, envelope, cookie session, CSRF, status codes and client fields, for one panel generation.
///
/// All public functions are thread-safe and may be called from any thread except the panel's own
/// I/O thread. Timestamps and expiry use the system clock shifted by advance_clock().
class FakePanel {
  public:
    /// Binds both listeners and starts the panel's own I/O thread. Throws std::runtime_error when a
    /// listener cannot bind (port in use, bad address) or an option is invalid.
    static std::unique_ptr<FakePanel> start(FakePanelOptions options);
    ~FakePanel();  ///< stops both listeners and the I/O thread
    FakePanel(const FakePanel&) = delete;
    FakePanel& operator=(const FakePanel&) = delete;

    std::uint16_t port() const;
    std::uint16_t sub_port() const;
    std::string url() const;      ///< "http://127.0.0.1:<port>" (no base path)
    std::string sub_url() const;  ///< "http://127.0.0.1:<sub_port>"
    const FakePanelOptions& options() const;

    // ---- Control, for tests and the demo ----

    /// Every session cookie issued so far stops working, CSRF token included (as after the session
    /// max age): the next cookie call is unauthenticated and a stale X-CSRF-Token gets 403.
    void expire_sessions();
    /// Logged-in sessions stop being logged in but keep their CSRF token (a LOGIN_EPOCH bump after an
    /// admin credential change, v3.0.2+).
    void bump_login_epoch();
    /// Every answer from either listener is delayed by `delay` (a slow panel). Zero turns it off.
    void set_delay(std::chrono::milliseconds delay);
    /// The next request whose path ends with `path_suffix` is carried out, then its connection
    /// closes without an answer (a reply lost on the way: the caller cannot know it worked).
    void lose_next_answer_to(std::string path_suffix);
    /// Every authenticated panel/api call answers HTTP 200 success:false "Something went wrong (...)".
    void set_failing(bool on);
    /// true: both listeners stop and open connections are dropped (unreachable). false: they listen
    /// again on the same ports. Throws std::runtime_error if a port cannot be bound again.
    void set_down(bool on);
    /// Moves the panel's clock forward (session age, login lockout, expiry), then runs the periodic
    /// traffic job (quota and expiry enforcement).
    void advance_clock(std::chrono::milliseconds by);
    /// Adds to the client's traffic counters like one stats tick: a negative expiryTime becomes
    /// absolute on the first traffic, then quota and expiry disable clients (traffic row and settings
    /// enable both false, as 2.9.4+/v3 do). Unknown emails are ignored (Xray reports no such user).
    void add_traffic(const std::string& email, std::int64_t up, std::int64_t down);
    /// Runs the periodic traffic job alone (quota and expiry enforcement).
    void tick();
    /// Deletes an inbound as the panel's UI does (its clients go with it). False when unknown.
    bool delete_inbound(int id);
    /// Who the `onlines` route reports; empty makes the panel answer null like the real one.
    void set_onlines(std::vector<std::string> emails);

    /// The client's settings object from the first inbound holding it, plus "traffic" (its traffic
    /// row or null) and "inboundIds" (the inbounds whose settings hold it). nullopt when unknown.
    std::optional<nlohmann::json> client(const std::string& email) const;
    /// Every inbound as the mode's list route renders it (settings as strings in v2, objects in v3).
    std::vector<nlohmann::json> inbounds() const;
    int login_count() const;                       ///< successful logins
    int failed_login_count() const;                ///< refused logins (bad credentials or locked out)
    std::vector<std::string> request_log() const;  ///< "METHOD target" of every request received, in order

    struct Impl;

  private:
    explicit FakePanel(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace nebula::fakes
