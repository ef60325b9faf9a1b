#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "common/clock.hpp"
#include "common/http.hpp"
#include "common/result.hpp"
#include "gateway/xui/login_backoff.hpp"
#include "gateway/xui/types.hpp"

namespace nebula::gateway::xui {

struct PanelOptions {
    common::http::Url url;        ///< PANEL_URL, e.g. http://127.0.0.1:2053 (a path here is used as the
                                  ///< base path when `base_path` is left at "/")
    std::string base_path = "/";  ///< PANEL_BASE_PATH (webBasePath); normalised to "/x/"
    std::string username, password;
    std::string api_token;  ///< PANEL_API_TOKEN: 3.x `Authorization: Bearer`; no login then
    std::chrono::milliseconds timeout{10'000};  ///< deadline of each call, logins and retries included
    std::string ca_file;                        ///< CA bundle for an https panel (default: the system store)
    LoginBackoffPolicy login_backoff{};
};

/// The 3x-ui panel's HTTP API, on both API generations, picked by itself after logging in
/// (server/status carries `panelVersion` from 3.1 on, the release that moved clients to
/// panel/api/clients).
///
/// Session: logs in on first use with the CSRF flow when the panel has one ({base}csrf-token),
/// else with a form; keeps the newest session cookie; when a call answers "not logged in" (307,
/// 401, or 404) it logs in again and retries the call once; a 403 on a CSRF panel refreshes the
/// token and retries once. With `api_token` every call carries the bearer token instead and
/// nothing logs in. Failed logins back off (LoginBackoff) so the panel never locks the gateway
/// out; a login refused while backing off is `auth_failed` without touching the panel.
///
/// Errors: every call has a deadline (`timeout`) and returns a PanelError: `unreachable` when
/// the panel cannot be reached, `timeout`, `auth_failed`, `rejected` when the panel says no,
/// `not_found`, `conflict`, `last_client`, `protocol` for answers it does not understand.
/// Messages never contain secrets.
///
/// Updates are read-modify-write of the panel's whole client object, so fields a caller does
/// not change (flow, subId, limits, tgId, comment, enable) are never wiped.
///
/// Thread safety: use from one executor (or strand); several coroutines may call at once — a
/// login in progress is shared by all of them. The object must outlive its calls.
class PanelClient {
  public:
    /// Fails on options that cannot work (no credentials and no token, bad URL scheme, an
    /// unreadable CA file).
    static common::Result<std::unique_ptr<PanelClient>, std::string> create(boost::asio::any_io_executor ex,
                                                                            PanelOptions options,
                                                                            const common::Clock& clock);
    ~PanelClient();
    PanelClient(const PanelClient&) = delete;
    PanelClient& operator=(const PanelClient&) = delete;

    /// Logs in if needed and detects the API generation (once; later calls answer from memory).
    boost::asio::awaitable<common::Result<Generation, PanelError>> generation();
    /// The panel's version as reported by server/status ("" before 3.1); after generation().
    const std::string& panel_version() const;

    boost::asio::awaitable<common::Result<std::vector<Inbound>, PanelError>> list_inbounds();
    /// not_found for an unknown id.
    boost::asio::awaitable<common::Result<Inbound, PanelError>> get_inbound(int id);
    boost::asio::awaitable<common::Result<ServerStatus, PanelError>> server_status();

    /// The client with this email and its traffic, or nullopt. Legacy panels are searched without
    /// regard to case (as they check duplicates); 3.1+ panels look the email up exactly.
    boost::asio::awaitable<common::Result<std::optional<Client>, PanelError>> find_client(std::string email);
    /// Every client on the panel with its traffic.
    boost::asio::awaitable<common::Result<std::vector<Client>, PanelError>> list_clients();
    /// Creates the client on `inbound_id` and returns it as stored. conflict when the email is
    /// taken, not_found when the inbound is. The flow is dropped on inbounds where Vision cannot
    /// run; a client created with enable=false on a 3.1+ panel takes a second call.
    boost::asio::awaitable<common::Result<Client, PanelError>> add_client(int inbound_id, NewClient client);
    /// Read-modify-write of the stored client; returns it as stored afterwards. not_found.
    boost::asio::awaitable<common::Result<Client, PanelError>> update_client(std::string email,
                                                                             ClientPatch patch);
    /// not_found; last_client when a legacy panel refuses to empty an inbound.
    boost::asio::awaitable<common::Status<PanelError>> delete_client(std::string email);
    /// Zeroes the client's up/down counters. not_found.
    boost::asio::awaitable<common::Status<PanelError>> reset_traffic(std::string email);
    /// Disables every listed client: one bulk call on 3.6+, else one update per client. Emails
    /// that do not exist are reported in `missing`, not as an error.
    boost::asio::awaitable<common::Result<BulkResult, PanelError>> disable_clients(
        std::vector<std::string> emails);
    /// Emails that had traffic in the panel's last stats tick (the panel's null is empty).
    boost::asio::awaitable<common::Result<std::vector<std::string>, PanelError>> online_emails();

  private:
    struct Impl;
    explicit PanelClient(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace nebula::gateway::xui
