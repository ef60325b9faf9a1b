#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "common/http.hpp"
#include "common/http_client.hpp"
#include "common/result.hpp"
#include "common/sleeper.hpp"
#include "discord/builders.hpp"
#include "discord/model.hpp"
#include "discord/rate_limit.hpp"

namespace nebula::discord {

enum class RestErrorCode {
    network,           ///< connect/TLS/IO failure, after the allowed retries
    timeout,           ///< the request deadline passed, after the allowed retries
    rate_limited,      ///< still 429 after the allowed 429 retries
    unauthorized,      ///< 401: the token is invalid; every later call fails fast with this
    forbidden,         ///< 403 (e.g. 50013 missing permissions)
    not_found,         ///< 404 (unknown channel/message/webhook/interaction)
    bad_request,       ///< other 4xx, including 400 with Discord's form errors
    server,            ///< 5xx after the allowed retries
    invalid_budget,    ///< too many 401/403/429 recently: refused before sending
    bad_response,      ///< 2xx with a body that is not the expected JSON
    too_large,         ///< download above the size cap
    bad_content_type,  ///< download of a type not allowed
    bad_url,           ///< download from a host not allowed
    expired,           ///< interaction token older than 15 minutes: not sent
    invalid_state,     ///< e.g. a modal after the interaction was already acknowledged: not sent
};

std::string_view to_string(RestErrorCode code);

/// A failed REST call: our code, the HTTP status (0 if none), Discord's JSON error code
/// (10062 unknown interaction, 40060 already acknowledged, 50013 missing permissions, ...) and
/// message.
struct RestError {
    RestErrorCode code = RestErrorCode::network;
    int status = 0;
    int discord_code = 0;
    std::string message;
    /// For network and timeout: what failed underneath (connect, TLS, I/O, ...).
    std::optional<common::http::ClientErrorCode> transport;
    /// For network and timeout: the whole request reached Discord before the failure, so it may
    /// have acted on it. False means Discord never saw it and sending it again is safe.
    bool request_written = false;

    std::string describe() const;
};

/// One word for why a call failed, for logs and metrics: the transport failure (resolve,
/// connect, tls, io, protocol, timeout, ...), "status" for an error answer from Discord, else
/// the error code's name.
std::string_view failure_cause(const RestError& error);

template <typename T>
using RestResult = common::Result<T, RestError>;
using RestStatus = common::Status<RestError>;

/// Sends one HTTP request to an origin. The seam between the REST logic and the network.
class RestTransport {
  public:
    virtual ~RestTransport() = default;
    virtual boost::asio::awaitable<common::Result<common::http::Response, common::http::ClientError>> send(
        const common::http::Url& origin, common::http::Request request,
        std::chrono::milliseconds timeout) = 0;
    /// As send(), but a response body over `max_bytes` is refused while it is read (from its
    /// Content-Length, or as soon as the bytes pass the limit), never buffered whole first.
    virtual boost::asio::awaitable<common::Result<common::http::Response, common::http::ClientError>> fetch(
        const common::http::Url& origin, common::http::Request request, std::chrono::milliseconds timeout,
        std::size_t /*max_bytes*/) {
        return send(origin, std::move(request), timeout);
    }
    /// What the connections have done so far, summed over origins.
    virtual common::http::ClientStats stats() const { return {}; }
};

struct RestOptions {
    std::string api_base = "https://discord.com/api/v10";  ///< DISCORD_API_BASE
    std::string token;                                     ///< bot token, without "Bot "
    std::string user_agent = "DiscordBot (https://github.com/nebulalinks/nebulalinks, " NEBULA_VERSION ")";
    std::chrono::milliseconds request_timeout{15'000};
    int max_retries = 3;      ///< for 5xx and network errors on safe requests
    int max_429_retries = 5;  ///< waiting out a 429 does not count as a failure, but is capped
    std::chrono::milliseconds retry_base{500};
    std::chrono::milliseconds retry_cap{8'000};
    RateLimiterOptions rate_limits;
    std::string ca_file;  ///< replaces the system CA store (tests with TLS)
    /// Hosts attachments may be downloaded from (SSRF guard), over https:// only (plain http
    /// only from a loopback address, for tests).
    std::vector<std::string> cdn_hosts{"cdn.discordapp.com", "media.discordapp.net"};
    std::size_t max_download_bytes = 25 * 1024 * 1024;
};

/// Extra options for one request.
struct RequestOptions {
    std::string audit_log_reason;  ///< X-Audit-Log-Reason (URL-encoded when sent)
    std::vector<FileData> files;   ///< sends multipart/form-data with payload_json + files[n]
    /// Retry 5xx and network errors even though the method is not idempotent (message create
    /// with enforce_nonce, where a repeat returns the first message).
    bool idempotent = false;
};

struct GatewayBotInfo {
    std::string url;
    int shards = 1;
    int session_start_total = 0;
    int session_start_remaining = 0;
    std::chrono::milliseconds session_start_reset_after{0};
    int max_concurrency = 1;
};

/// A downloaded file.
struct Download {
    std::string content_type;
    std::string data;
};

/// The body of POST /guilds/{guild}/channels.
struct ChannelCreate {
    std::string name;
    ChannelType type = ChannelType::guild_text;
    std::optional<Snowflake> parent_id;
    std::string topic;
    std::vector<PermissionOverwrite> permission_overwrites;
};

/// The fields of PATCH /channels/{id} the product uses.
struct ChannelEdit {
    std::optional<std::string> name;
    std::optional<std::string> topic;
    std::optional<Snowflake> parent_id;
    std::optional<std::vector<PermissionOverwrite>> permission_overwrites;
};

/// Interaction callback types.
enum class CallbackType {
    pong = 1,
    channel_message = 4,
    deferred_channel_message = 5,
    deferred_update_message = 6,
    update_message = 7,
    autocomplete_result = 8,
    modal = 9
};

/// Counters for tests and metrics.
struct RestStats {
    std::size_t requests_sent = 0;
    std::size_t retries = 0;
    RateLimiterStats rate_limits;
    bool unauthorized = false;
    /// Interaction responses (initial, edits, follow-ups) that failed, by failure_cause().
    std::map<std::string, std::uint64_t, std::less<>> interaction_failures;
    /// Initial interaction responses sent again because the first attempt never reached Discord.
    std::uint64_t interaction_resends = 0;
    /// The connections to Discord, summed over origins (HTTP/2 ones included).
    common::http::ClientStats transport;
};

/// Every coroutine here takes its arguments by value and has no default arguments (see
/// request()); pass an empty reason for no audit-log entry.
///
/// Discord's REST API with the rate-limit machinery: per-queue sequential execution that waits
/// before a bucket runs dry, a global 50/s limit (interaction callbacks exempt), 429 handling,
/// an invalid-request budget, bounded retries with jittered backoff on safe requests only, and
/// a fail-fast stop after a 401. Use from one executor (coroutines may call it concurrently on
/// that executor); not thread-safe.
class RestClient {
  public:
    /// `clock` and `sleeper` drive the rate-limit waits; `transport` defaults to a keep-alive
    /// nebula::common::http::Client per origin.
    static common::Result<std::unique_ptr<RestClient>, std::string> create(
        boost::asio::any_io_executor executor, RestOptions options, const common::Clock& clock,
        std::unique_ptr<common::Sleeper> sleeper = nullptr,
        std::unique_ptr<RestTransport> transport = nullptr);
    ~RestClient();
    RestClient(const RestClient&) = delete;
    RestClient& operator=(const RestClient&) = delete;

    /// Any API call. `path` is relative to the API base ("/users/@me"). Returns the parsed JSON
    /// body (null for 204).
    boost::asio::awaitable<RestResult<nlohmann::json>> request(std::string method, std::string path,
                                                               std::optional<nlohmann::json> body,
                                                               RequestOptions options);
    /// A request without a body.
    boost::asio::awaitable<RestResult<nlohmann::json>> request(std::string method, std::string path) {
        // Not a coroutine, and no default arguments on the coroutine: g++ 12 destroys a
        // defaulted by-value coroutine parameter it never constructed properly.
        std::optional<nlohmann::json> body;
        RequestOptions options;
        return request(std::move(method), std::move(path), std::move(body), std::move(options));
    }

    boost::asio::awaitable<RestResult<GatewayBotInfo>> get_gateway_bot();
    boost::asio::awaitable<RestResult<User>> get_current_user();

    /// Retried safely: when `payload.nonce` is empty one is generated, and enforce_nonce makes a
    /// repeated create return the first message.
    boost::asio::awaitable<RestResult<Message>> create_message(Snowflake channel, MessagePayload payload);
    boost::asio::awaitable<RestResult<Message>> edit_message(Snowflake channel, Snowflake message,
                                                             MessagePayload payload);
    boost::asio::awaitable<RestStatus> delete_message(Snowflake channel, Snowflake message,
                                                      std::string reason);

    boost::asio::awaitable<RestResult<Channel>> create_guild_channel(Snowflake guild, ChannelCreate channel,
                                                                     std::string reason);
    boost::asio::awaitable<RestResult<Channel>> edit_channel(Snowflake channel, ChannelEdit edit,
                                                             std::string reason);
    boost::asio::awaitable<RestResult<Channel>> delete_channel(Snowflake channel, std::string reason);
    boost::asio::awaitable<RestResult<Channel>> create_dm(Snowflake user);

    boost::asio::awaitable<RestResult<Member>> get_member(Snowflake guild, Snowflake user);
    boost::asio::awaitable<RestStatus> add_member_role(Snowflake guild, Snowflake user, Snowflake role,
                                                       std::string reason);
    boost::asio::awaitable<RestStatus> remove_member_role(Snowflake guild, Snowflake user, Snowflake role,
                                                          std::string reason);

    /// POST /interactions/{id}/{token}/callback. `data` is the callback's data object (message
    /// payload JSON, modal, or autocomplete choices); files go multipart.
    boost::asio::awaitable<RestStatus> interaction_callback(Snowflake interaction, std::string token,
                                                            CallbackType type,
                                                            std::optional<nlohmann::json> data,
                                                            std::vector<FileData> files);
    boost::asio::awaitable<RestResult<Message>> edit_original_response(Snowflake application,
                                                                       std::string token,
                                                                       MessagePayload payload);
    boost::asio::awaitable<RestResult<Message>> create_followup(Snowflake application, std::string token,
                                                                MessagePayload payload);

    /// PUT /applications/{app}/guilds/{guild}/commands with the complete list.
    boost::asio::awaitable<RestResult<nlohmann::json>> bulk_overwrite_guild_commands(
        Snowflake application, Snowflake guild, const std::vector<Command>& commands);

    /// Downloads an attachment URL from an allowed CDN host, refusing more than `max_bytes`
    /// (capped by the options) and, when `allowed_types` is not empty, any Content-Type not
    /// starting with one of them.
    boost::asio::awaitable<RestResult<Download>> download(std::string url, std::size_t max_bytes,
                                                          std::vector<std::string> allowed_types);

    /// Counts an interaction response that failed (InteractionResponder reports every one).
    void count_interaction_failure(const RestError& error);
    /// Counts an initial interaction response sent again after it never reached Discord.
    void count_interaction_resend();

    RestStats stats() const;
    const RestOptions& options() const;

  private:
    struct Impl;
    explicit RestClient(std::shared_ptr<Impl> impl);
    std::shared_ptr<Impl> impl_;
};

/// Encodes multipart/form-data: a `payload_json` part, then `files[n]` parts. Returns the body;
/// `boundary` must not occur in any part (use a random one).
std::string encode_multipart(std::string_view boundary, std::string_view payload_json,
                             const std::vector<FileData>& files);

}  // namespace nebula::discord
