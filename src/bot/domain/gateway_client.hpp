#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "common/result.hpp"

namespace nebula::bot::domain {

/// A panel client as nebula-gateway reports it (the fields of its client JSON object).
struct GatewayClientInfo {
    std::string email;
    std::string uuid;
    int inbound_id = 0;
    std::string sub_id;
    std::int64_t up = 0;
    std::int64_t down = 0;
    std::int64_t total_bytes = 0;  ///< 0 = unlimited
    std::int64_t expiry_ms = 0;    ///< 0 = never
    int limit_ip = 0;
    bool enable = true;
    std::string comment;
};

struct ClientLinks {
    std::string vless;         ///< vless://… ready to import
    std::string subscription;  ///< https://… subscription URL
};

struct ClientWithLinks {
    GatewayClientInfo client;
    ClientLinks links;
};

/// POST /api/clients. The gateway treats the same email with the same uuid as success, so a
/// create can be repeated after a timeout.
struct NewClient {
    int inbound_id = 0;
    std::string email;
    std::string uuid;
    std::string sub_id;
    std::int64_t total_bytes = 0;
    std::int64_t expiry_ms = 0;
    int limit_ip = 0;
    std::string comment;
    bool enable = true;
};

/// PATCH /api/clients/{email}: only the fields given change.
struct ClientChange {
    std::optional<std::int64_t> expiry_ms;
    std::optional<std::int64_t> total_bytes;
    std::optional<int> limit_ip;
    std::optional<bool> enable;
};

struct TrafficEntry {
    std::string email;
    std::int64_t up = 0;
    std::int64_t down = 0;
    std::int64_t total_bytes = 0;
    std::int64_t expiry_ms = 0;
    bool enable = true;
};

struct DisableOutcome {
    std::vector<std::string> disabled;
    std::vector<std::string> missing;
};

struct GatewayHealth {
    std::string status;  ///< "ok" or "degraded"
    std::string panel;   ///< the panel's state as the gateway sees it
    std::string version;
    std::int64_t uptime_s = 0;
};

enum class GatewayErrorCode {
    unreachable,   ///< no connection (DNS, refused, TLS or pin mismatch)
    timeout,       ///< no answer in time; the request may or may not have taken effect
    not_found,     ///< 404: no such client
    conflict,      ///< 409: the email exists with another uuid
    rejected,      ///< another 4xx: a bug on our side or a bad key; not worth retrying
    server_error,  ///< 5xx: the gateway or its panel failed; retry later
    bad_response,  ///< the body was not what the protocol promises
};

std::string_view to_string(GatewayErrorCode code);

struct GatewayError {
    GatewayErrorCode code;
    int status = 0;  ///< HTTP status when there was one
    std::string message;
};

template <typename T>
using GatewayResult = common::Result<T, GatewayError>;

/// One server's nebula-gateway. Implementations: the signed HTTPS client
/// (bot/gateway_client/http_gateway_client.hpp) and in-process fakes in tests. Every call has a
/// deadline. Use from one executor at a time.
class GatewayClient {
  public:
    virtual ~GatewayClient() = default;

    virtual boost::asio::awaitable<GatewayResult<ClientWithLinks>> create_client(NewClient client) = 0;
    virtual boost::asio::awaitable<GatewayResult<ClientWithLinks>> get_client(std::string email) = 0;
    virtual boost::asio::awaitable<GatewayResult<GatewayClientInfo>> update_client(std::string email,
                                                                                   ClientChange change) = 0;
    virtual boost::asio::awaitable<GatewayResult<GatewayClientInfo>> reset_traffic(std::string email) = 0;
    /// Deleting a client that does not exist is success.
    virtual boost::asio::awaitable<common::Status<GatewayError>> delete_client(std::string email) = 0;
    virtual boost::asio::awaitable<GatewayResult<std::vector<TrafficEntry>>> traffic() = 0;
    virtual boost::asio::awaitable<GatewayResult<DisableOutcome>> disable_clients(
        std::vector<std::string> emails) = 0;
    virtual boost::asio::awaitable<GatewayResult<GatewayHealth>> health() = 0;
};

struct Server;

/// Hands out the gateway client of a server (the app keeps one per server and rebuilds it when
/// the server's URL, key or pin changes).
class GatewayDirectory {
  public:
    virtual ~GatewayDirectory() = default;
    virtual GatewayClient& gateway_for(const Server& server) = 0;
};

}  // namespace nebula::bot::domain
