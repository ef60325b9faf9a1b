#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "common/http.hpp"
#include "common/http_server.hpp"
#include "common/result.hpp"
#include "fakes/discord/fake_discord_gateway.hpp"

namespace nebula::fakes::discord {

/// One multipart part as received.
struct Part {
    std::string name;
    std::string filename;
    std::string content_type;
    std::string data;
    /// For a file the client uploaded: the path under FakeDiscord::cdn_base() where the fake
    /// serves it once the request succeeded (like a real attachment URL). Empty otherwise.
    std::string cdn_path;
};

/// A REST request as the fake saw it.
struct RecordedRequest {
    std::string method;
    std::string path;   ///< without the API prefix and query, e.g. "/channels/5/messages"
    std::string route;  ///< ids replaced, e.g. "POST /channels/:id/messages"
    std::string query;
    common::http::Headers headers;
    std::string body;
    nlohmann::json json;        ///< the JSON body (or payload_json of a multipart body); null if none
    std::vector<Part> files;    ///< files[n] parts of a multipart body
    int status = 0;             ///< what the fake answered
    std::string response_body;  ///< the body the fake answered with
    std::chrono::steady_clock::time_point at;
};

/// A canned answer for the next matching request(s).
struct Scripted {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    bool hang = false;  ///< accept the request and never answer (until the fake stops)
};

/// A rate-limit bucket the fake enforces: `limit` requests per `window` for each major
/// parameter, shared by every route matching one of `routes` (regex on "METHOD /path").
struct BucketRule {
    std::string hash;
    std::vector<std::string> routes;
    int limit = 5;
    std::chrono::milliseconds window{1000};
};

/// A file served by the fake CDN.
struct CdnFile {
    std::string content_type;
    std::string data;
    std::optional<std::chrono::steady_clock::time_point> expires;  ///< 404 afterwards
    std::chrono::milliseconds delay{0};
};

struct FakeDiscordOptions {
    std::string token = "fake-bot-token";
    std::uint64_t application_id = 900000000000000001ULL;
    std::uint64_t bot_user_id = 900000000000000002ULL;
    std::string api_prefix = "/api/v10";
    std::chrono::milliseconds interaction_window{3000};   ///< initial response deadline
    std::chrono::milliseconds heartbeat_interval{45000};  ///< sent in Hello
    /// How long a message create with enforce_nonce is remembered: a repeat of its nonce by the
    /// bot within this time returns the first message instead of creating one ("checked for
    /// uniqueness in the past few minutes"; Discord does not say how many).
    std::chrono::milliseconds nonce_window{std::chrono::minutes(5)};
    /// Global limit the fake enforces on non-interaction routes (0 = none).
    int global_per_second = 50;
    /// Directory where every JSON request body is appended (JSON lines) for the contract test.
    /// Empty: the NEBULA_DISCORD_CONTRACT_DIR environment variable, if set.
    std::string record_dir;
    /// HTTPS for REST, CDN and control, and wss:// for the gateway (a throw-away certificate the
    /// client trusts through its CA file, e.g. DISCORD_CA_FILE); plain HTTP and ws:// when unset.
    std::optional<common::http::TlsFiles> tls;
    /// Every REST answer leaves this much after the request arrived (the request takes effect on
    /// arrival; the connection stays busy meanwhile), like a Discord tens of milliseconds away.
    std::chrono::milliseconds response_delay{0};
    /// Over HTTPS: HTTP/2 for a client that offers it through ALPN (as Discord's front end does),
    /// each answer leaving on its own stream after `response_delay`. False: ALPN "http/1.1" only.
    bool http2 = true;
    std::uint32_t http2_max_streams = 256;  ///< SETTINGS_MAX_CONCURRENT_STREAMS
    std::uint16_t http_port = 0;            ///< REST + CDN + control; 0 picks a free port
    std::uint16_t gateway_port = 0;         ///< websocket gateway; 0 picks a free port
};

/// A fake Discord on 127.0.0.1: REST (with rate-limit engine, message/channel/member state,
/// interaction callbacks with the 3 s window and 40060, webhooks, commands and their permission
/// overwrites), a CDN, and a v10 gateway websocket (see fake_discord_gateway.hpp). Scriptable from tests.
/// Runs on one executor and is not thread-safe: call it from that executor's thread.
class FakeDiscord {
  public:
    static common::Result<std::unique_ptr<FakeDiscord>, std::string> create(
        boost::asio::any_io_executor executor, FakeDiscordOptions options = {},
        const common::Clock* clock = nullptr);
    ~FakeDiscord();

    std::string api_base() const;  ///< http(s)://127.0.0.1:port/api/v10
    std::string cdn_base() const;  ///< http(s)://127.0.0.1:port/cdn
    std::uint16_t http_port() const;
    /// The websocket gateway; GET /gateway/bot points at it.
    FakeDiscordGateway& gateway();
    const FakeDiscordOptions& options() const;

    // --- scripting ---
    /// The next `times` requests whose "METHOD /path" matches `pattern` get `response`.
    void script(std::string pattern, Scripted response, int times = 1);
    /// Forgets every scripted answer not used yet (the outage is over).
    void clear_scripts();
    void add_bucket(BucketRule rule);
    /// Closes the next `times` new REST connections at once, before any byte is read (and before
    /// the TLS handshake): a Discord that cannot be reached for a moment.
    void refuse_connections(int times);
    /// `/gateway/bot`'s session_start_limit.
    void set_session_start_limit(int total, int remaining, std::chrono::milliseconds reset_after);
    void add_member(std::uint64_t guild, std::uint64_t user, std::vector<std::uint64_t> roles);
    /// A guild the bot is in, as GET /guilds/{id} shows it. `roles` are Discord role objects (id,
    /// name, permissions as a string, position); the @everyone role has the guild's id. Other
    /// guilds answer 403 / 50001 Missing Access, as Discord does for a guild the bot is not in.
    void add_guild(std::uint64_t guild, std::string name, std::uint64_t owner, nlohmann::json roles);
    /// What the invite link does: the bot joins a new server owned by `owner`, with a role of
    /// its own ("managed", position 1) holding `permissions` (what the link asked for); the
    /// GUILD_CREATE is dispatched. Returns the bot's role id. In a guild the fake knows, it
    /// enforces Discord's permission rules on channel and role changes (403 / 50013).
    std::uint64_t join_guild(std::uint64_t guild, std::string name, std::uint64_t owner,
                             std::uint64_t permissions);
    /// The guild as GET /guilds/{id} shows it (with the roles made since), or null.
    const nlohmann::json* guild(std::uint64_t id) const;
    /// A channel that exists already (Discord's channel object, with its id): GET /channels/{id}.
    void add_channel(nlohmann::json channel);
    /// The member leaves the guild (GUILD_MEMBER_REMOVE is dispatched); DMs to them fail with
    /// 50007 from then on, as they share no guild with the bot.
    void remove_member(std::uint64_t guild, std::uint64_t user);
    /// Messages to this user's DM channel fail with 403 / 50007 (privacy settings).
    void close_dms(std::uint64_t user);
    /// What a server admin does in Server Settings → Integrations → the app → /`name`: sets the
    /// command's permission overwrites (Discord's objects: {id, type 1 role / 2 user / 3 channel,
    /// permission}); an empty array removes them. GET …/commands/{id}/permissions then answers
    /// them, and 404 / 10066 while none are set. False when no such command is registered.
    bool set_command_permissions(std::uint64_t guild, const std::string& name, nlohmann::json permissions);
    /// Someone deletes the channel by hand: it is gone, CHANNEL_DELETE is dispatched, messages to
    /// it fail with 404 / 10003. False when there is no such channel.
    bool delete_channel(std::uint64_t id);
    void serve_file(std::string path, CdnFile file);  ///< served at cdn_base() + path
    /// Registers an interaction so its callback and webhooks are accepted; the gateway
    /// injection helpers call this.
    void expect_interaction(std::uint64_t id, std::string token);
    /// Builds an INTERACTION_CREATE payload for any user with any roles.
    nlohmann::json make_interaction(int type, std::uint64_t user, std::vector<std::uint64_t> roles,
                                    nlohmann::json data, std::uint64_t guild = 800000000000000001ULL,
                                    std::uint64_t channel = 800000000000000002ULL);
    /// make_interaction() and deliver it as INTERACTION_CREATE; returns the payload.
    nlohmann::json inject_interaction(int type, std::uint64_t user, std::vector<std::uint64_t> roles,
                                      nlohmann::json data);

    // --- observation ---
    const std::vector<RecordedRequest>& requests() const;
    std::vector<RecordedRequest> requests_matching(const std::string& pattern) const;
    /// Waits until a request matching `pattern` has been recorded `count` times in total.
    boost::asio::awaitable<bool> wait_for_requests(std::string pattern, std::size_t count,
                                                   std::chrono::milliseconds timeout);
    /// REST connections accepted so far (over TLS: the handshakes the client made, full or resumed).
    std::size_t connections_accepted() const;
    /// HTTP/2: connections, requests handled, streams the client cancelled.
    common::http::Http2Stats http2_stats() const;
    /// HTTP/2 faults: streams refused (REFUSED_STREAM), a GOAWAY after some requests.
    void set_http2_faults(common::http::Http2Faults faults);
    /// Closes every REST connection at once: answers still due (see `response_delay`) are lost.
    void drop_connections();
    /// 429s the fake had to send that no test scripted: the client ignored a limit it knew.
    std::size_t unscripted_429s() const;
    /// Messages that exist, by channel (after nonce de-duplication).
    std::size_t message_count(std::uint64_t channel) const;
    const nlohmann::json* channel(std::uint64_t id) const;
    const std::vector<std::uint64_t>* member_roles(std::uint64_t guild, std::uint64_t user) const;

    /// Stops listening and releases hung requests; `done` runs once no connection remains.
    void stop(std::function<void()> done = {});

  private:
    struct Impl;
    explicit FakeDiscord(std::shared_ptr<Impl> impl);
    std::shared_ptr<Impl> impl_;
};

/// Parses a multipart/form-data body; nothing when it is malformed.
std::optional<std::vector<Part>> parse_multipart(std::string_view content_type, std::string_view body);

}  // namespace nebula::fakes::discord
