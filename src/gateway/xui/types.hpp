#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nebula::gateway::xui {

/// The two 3x-ui client APIs: `legacy` is 2.x–3.0.x (client routes under panel/api/inbounds,
/// `settings` as a JSON string), `clients` is 3.1+ (panel/api/clients, keyed by email).
enum class Generation { legacy, clients };

enum class PanelErrorCode {
    unreachable,  ///< connection refused, reset or TLS failure: the panel is not there (503)
    timeout,      ///< the call's deadline passed
    auth_failed,  ///< credentials or token refused, or logging in is backing off
    rejected,     ///< the panel answered success:false for a reason not listed below (502)
    not_found,    ///< no such client or inbound
    conflict,     ///< email or subscription id already taken
    last_client,  ///< legacy panels refuse to delete the last client of an inbound
    protocol,     ///< the panel answered something this client does not understand
};

/// A failed panel call. `message` is a one-line summary that is safe to show to an operator:
/// it never contains the password, the token or the session cookie.
struct PanelError {
    PanelErrorCode code;
    std::string message;
};

std::string_view to_string(PanelErrorCode code);
std::string_view to_string(Generation generation);

/// One inbound as the panel stores it. `settings` and `stream_settings` are always parsed JSON
/// objects (legacy panels send them as strings; an unparsable string becomes an empty object).
struct Inbound {
    int id = 0;
    std::string remark, protocol, listen;
    int port = 0;
    bool enable = false;
    nlohmann::json settings = nlohmann::json::object();
    nlohmann::json stream_settings = nlohmann::json::object();
    int client_count = 0;
    bool disable_flow = false;  ///< 3.x `disableFlow`: never hand out a Vision flow on this inbound
};

/// One client with its traffic counters. Quota and counters are bytes, times are Unix ms
/// (expiry 0 = never, negative = "this long from first use").
struct Client {
    int inbound_id = 0;  ///< the (first) inbound the client is attached to
    std::string email, uuid, flow, sub_id, comment;
    std::int64_t total_bytes = 0, expiry_ms = 0, up = 0, down = 0, tg_id = 0;
    int limit_ip = 0, reset = 0;
    bool enable = false;
    /// The panel's full client object (a `settings.clients[]` entry on legacy panels, the
    /// ClientRecord on 3.1+), kept so updates write back every field the panel has.
    nlohmann::json raw = nlohmann::json::object();
};

/// A client to create. An empty `uuid` or `sub_id` is generated here (UUID v4, 16 characters
/// of [a-z0-9]) because legacy panels generate neither.
struct NewClient {
    std::string email, uuid, sub_id, comment, flow;
    std::int64_t total_bytes = 0, expiry_ms = 0;
    int limit_ip = 0;
    bool enable = true;
};

/// The fields an update may change; everything else is kept as the panel has it.
struct ClientPatch {
    std::optional<std::int64_t> expiry_ms, total_bytes;
    std::optional<int> limit_ip;
    std::optional<bool> enable;
};

struct ServerStatus {
    double cpu = 0;  ///< percent
    std::uint64_t mem_current = 0, mem_total = 0;
    std::string xray_state;  ///< running, stop or error
    std::string xray_version;
    std::string panel_version;  ///< empty on panels before 3.1
};

struct BulkResult {
    std::vector<std::string> changed;  ///< now disabled (including those that already were)
    std::vector<std::string> missing;  ///< no such client
};

}  // namespace nebula::gateway::xui
