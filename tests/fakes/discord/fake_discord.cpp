#include "fakes/discord/fake_discord.hpp"

#include <unistd.h>
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <set>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/http_server.hpp"

namespace nebula::fakes::discord {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

std::string id_str(std::uint64_t id) { return std::to_string(id); }

std::vector<std::string> split_path(std::string_view path) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < path.size()) {
        std::size_t slash = path.find('/', start);
        if (slash == std::string_view::npos) slash = path.size();
        if (slash > start) out.emplace_back(path.substr(start, slash - start));
        start = slash + 1;
    }
    return out;
}

bool digits(const std::string& s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

std::string route_of(const std::string& method, const std::vector<std::string>& segments) {
    std::string route = method + " ";
    for (std::size_t i = 0; i < segments.size(); ++i) {
        const bool token = (segments[0] == "webhooks" || segments[0] == "interactions") && i == 2;
        route += "/" + (token                            ? std::string(":token")
                        : (i > 0 && digits(segments[i])) ? std::string(":id")
                                                         : segments[i]);
    }
    return route;
}

common::http::Response json_response(int status, const json& body) {
    common::http::Response response;
    response.status = status;
    response.headers.set("Content-Type", "application/json");
    response.body = body.dump();
    return response;
}

common::http::Response error_response(int status, int code, std::string message) {
    return json_response(status, json{{"code", code}, {"message", std::move(message)}});
}

// A file name safe to put in a CDN path as it is.
std::string path_safe(std::string_view name) {
    std::string out(name.empty() ? std::string_view("file") : name);
    for (char& c : out) {
        const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
        if (!ok) c = '_';
    }
    return out;
}

std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return std::string(s);
}

std::string header_param(std::string_view header, std::string_view name) {
    const std::string key = std::string(name) + "=";
    std::size_t at = 0;
    while ((at = header.find(key, at)) != std::string_view::npos) {
        if (at == 0 || header[at - 1] == ' ' || header[at - 1] == ';') break;
        at += key.size();
    }
    if (at == std::string_view::npos) return {};
    std::string_view value = header.substr(at + key.size());
    if (!value.empty() && value.front() == '"') {
        value.remove_prefix(1);
        return std::string(value.substr(0, value.find('"')));
    }
    return trim(value.substr(0, value.find(';')));
}

}  // namespace

std::optional<std::vector<Part>> parse_multipart(std::string_view content_type, std::string_view body) {
    if (content_type.substr(0, 19) != "multipart/form-data") return std::nullopt;
    const std::string boundary = header_param(content_type, "boundary");
    if (boundary.empty()) return std::nullopt;
    const std::string delimiter = "--" + boundary;
    std::vector<Part> parts;
    std::size_t pos = body.find(delimiter);
    if (pos != 0) return std::nullopt;
    while (true) {
        pos += delimiter.size();
        if (body.substr(pos, 2) == "--") break;
        if (body.substr(pos, 2) != "\r\n") return std::nullopt;
        pos += 2;
        const std::size_t head_end = body.find("\r\n\r\n", pos);
        if (head_end == std::string_view::npos) return std::nullopt;
        Part part;
        std::string_view head = body.substr(pos, head_end - pos);
        while (!head.empty()) {
            const std::size_t eol = head.find("\r\n");
            const std::string_view line = head.substr(0, eol);
            const std::size_t colon = line.find(':');
            if (colon != std::string_view::npos) {
                const std::string name = trim(line.substr(0, colon));
                const std::string value = trim(line.substr(colon + 1));
                if (common::http::iequals(name, "Content-Disposition")) {
                    part.name = header_param(value, "name");
                    part.filename = header_param(value, "filename");
                } else if (common::http::iequals(name, "Content-Type")) {
                    part.content_type = value;
                }
            }
            if (eol == std::string_view::npos) break;
            head.remove_prefix(eol + 2);
        }
        const std::size_t data_start = head_end + 4;
        const std::size_t next = body.find("\r\n" + delimiter, data_start);
        if (next == std::string_view::npos) return std::nullopt;
        part.data = std::string(body.substr(data_start, next - data_start));
        parts.push_back(std::move(part));
        pos = next + 2;
    }
    return parts;
}

struct FakeDiscord::Impl : common::http::Handler {
    asio::any_io_executor executor;
    FakeDiscordOptions options;
    common::SystemClock system_clock;
    const common::Clock* clock;
    std::unique_ptr<common::http::Server> server;

    struct Script {
        std::regex pattern;
        Scripted response;
        int remaining;
    };
    std::vector<Script> scripts;
    struct Window {
        std::chrono::steady_clock::time_point start;
        int used = 0;
    };
    struct Bucket {
        BucketRule rule;
        std::vector<std::regex> routes;
        std::map<std::string, Window> windows;  // by major parameter
    };
    std::vector<Bucket> buckets;
    std::deque<std::chrono::steady_clock::time_point> global_sends;
    std::size_t unscripted_429 = 0;

    std::vector<RecordedRequest> recorded;
    std::vector<std::shared_ptr<asio::steady_timer>> waiters;  // cancelled on every new record
    std::vector<std::shared_ptr<asio::steady_timer>> hung;

    int session_total = 1000, session_remaining = 1000;
    std::chrono::milliseconds session_reset{0};
    std::uint64_t next_id = 700000000000000000ULL;
    /// Messages created with enforce_nonce, by nonce: Discord checks the nonce against the same
    /// author's messages of the past few minutes (options.nonce_window), in any channel.
    struct NoncedMessage {
        json message;
        std::chrono::steady_clock::time_point created;
    };
    std::map<std::string, NoncedMessage> messages_by_nonce;
    std::map<std::string, std::uint64_t> dm_channels;  // recipient -> the one DM channel with them
    std::map<std::uint64_t, std::size_t> message_counts;
    std::map<std::uint64_t, json> channels;
    std::map<std::uint64_t, json> guilds;
    std::map<std::pair<std::uint64_t, std::uint64_t>, std::vector<std::uint64_t>> members;
    std::set<std::uint64_t> deleted_channels;
    std::set<std::uint64_t> closed_dms;  // users who do not accept DMs (or share no guild any more)
    std::map<std::string, CdnFile> files;
    std::map<std::uint64_t, json> commands;  // guild -> the registered commands (with ids)
    // (guild, command id) -> the overwrites a server admin set in Integrations
    std::map<std::pair<std::uint64_t, std::string>, json> command_permissions;
    struct InteractionState {
        std::uint64_t id;
        std::chrono::steady_clock::time_point created;
        bool acknowledged = false;
    };
    std::map<std::string, InteractionState> interactions;  // by token
    std::string record_path;
    bool stopped = false;

    std::chrono::steady_clock::time_point now() const { return clock->steady_now(); }

    static constexpr std::uint64_t kAdministrator = 1ULL << 3;
    static constexpr std::uint64_t kManageChannels = 1ULL << 4;
    static constexpr std::uint64_t kManageRoles = 1ULL << 28;

    static std::uint64_t bits(const json& role) {
        const std::string text = role.value("permissions", std::string("0"));
        return digits(text) ? std::stoull(text) : 0;
    }

    /// A member's guild-wide permissions as Discord computes them: the owner and Administrator
    /// have all; otherwise @everyone's bits and the member's roles' bits.
    std::uint64_t guild_permissions(std::uint64_t guild, std::uint64_t user) const {
        const auto g = guilds.find(guild);
        if (g == guilds.end()) return 0;
        if (g->second.value("owner_id", "") == id_str(user)) return ~0ULL;
        const auto m = members.find({guild, user});
        std::uint64_t out = 0;
        for (const auto& role : g->second["roles"]) {
            const std::string id = role.value("id", "");
            bool held = id == id_str(guild);
            if (m != members.end())
                for (const auto r : m->second) held = held || id == id_str(r);
            if (held) out |= bits(role);
        }
        return (out & kAdministrator) != 0 ? ~0ULL : out;
    }

    /// The highest position among the member's roles (0: only @everyone).
    int highest_position(std::uint64_t guild, std::uint64_t user) const {
        const auto g = guilds.find(guild);
        const auto m = members.find({guild, user});
        if (g == guilds.end() || m == members.end()) return 0;
        int out = 0;
        for (const auto& role : g->second["roles"])
            for (const auto r : m->second)
                if (role.value("id", "") == id_str(r)) out = std::max(out, role.value("position", 0));
        return out;
    }

    /// For a guild the fake knows and the bot is in: 403 / 50013 unless the bot holds `needed`
    /// (Discord's answer when the bot lacks a permission).
    std::optional<common::http::Response> require(std::uint64_t guild, std::uint64_t needed) const {
        if (!guilds.contains(guild)) return std::nullopt;  // a guild the tests did not describe
        if ((guild_permissions(guild, options.bot_user_id) & needed) != needed)
            return error_response(403, 50013, "Missing Permissions");
        return std::nullopt;
    }

    void notify() {
        for (auto& waiter : waiters) waiter->cancel();
        waiters.clear();
    }

    std::optional<common::http::Response> screen(const common::http::Request&,
                                                 const common::http::Peer&) override {
        return std::nullopt;
    }

    int refuse = 0;  // new connections still to close at once
    std::size_t accepted = 0;
    common::http::Admission admit(const common::http::Peer&) override {
        if (refuse <= 0) {
            ++accepted;
            return common::http::Admission::admit;
        }
        --refuse;
        return common::http::Admission::refuse;
    }

    std::string base() const {
        return std::string(options.tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(server->port());
    }

    asio::awaitable<common::http::Response> handle(common::http::Request request,
                                                   common::http::Peer) override {
        RecordedRequest record;
        record.method = request.method;
        const auto query_at = request.target.find('?');
        std::string path = request.target.substr(0, query_at);
        if (query_at != std::string::npos) record.query = request.target.substr(query_at + 1);

        if (path.rfind("/cdn/", 0) == 0) co_return co_await serve_cdn(path.substr(4));
        if (path.rfind("/_fake/", 0) == 0) co_return co_await control(request, path.substr(7), record.query);
        if (path.rfind(options.api_prefix + "/", 0) != 0) co_return error_response(404, 0, "404: Not Found");
        path = path.substr(options.api_prefix.size());
        record.path = path;
        const auto segments = split_path(path);
        record.route = route_of(request.method, segments);
        record.headers = request.headers;
        record.body = request.body;
        record.at = now();
        const std::string content_type(request.headers.find("Content-Type").value_or(""));
        if (content_type.rfind("multipart/form-data", 0) == 0) {
            if (auto parts = parse_multipart(content_type, request.body)) {
                const std::string major = segments.size() >= 2 ? segments[1] : "0";
                for (auto& part : *parts) {
                    if (part.name == "payload_json") {
                        record.json = json::parse(part.data, nullptr, false);
                    } else {
                        part.cdn_path = "/attachments/" + major + "/" + id_str(++next_id) + "/" +
                                        path_safe(part.filename);
                        record.files.push_back(std::move(part));
                    }
                }
            }
        } else if (!request.body.empty()) {
            record.json = json::parse(request.body, nullptr, false);
        }

        // Recorded on arrival, so hung requests are visible too; the status is filled in later.
        const std::size_t index = recorded.size();
        recorded.push_back(record);
        notify();
        common::http::Response response = co_await respond(request, record, segments);
        recorded[index].status = response.status;
        recorded[index].response_body = response.body;
        if (options.response_delay.count() > 0) {
            asio::steady_timer timer(executor, options.response_delay);
            co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        }
        if (!record_path.empty() && !record.json.is_null() && !record.json.is_discarded()) {
            std::ofstream out(record_path, std::ios::app);
            out << json{{"route", record.route}, {"status", response.status}, {"body", record.json}}.dump()
                << "\n";
        }
        notify();
        co_return response;
    }

    asio::awaitable<common::http::Response> serve_cdn(const std::string& path) {
        const auto it = files.find(path);
        if (it == files.end() || (it->second.expires && now() >= *it->second.expires)) {
            co_return error_response(404, 0, "404: Not Found");
        }
        const CdnFile file = it->second;
        if (file.delay.count() > 0) {
            asio::steady_timer timer(executor, file.delay);
            co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        }
        common::http::Response response;
        response.headers.set("Content-Type", file.content_type);
        response.body = file.data;
        co_return response;
    }

    json make_interaction(int type, std::uint64_t user, std::vector<std::uint64_t> roles, json data,
                          std::uint64_t guild = 800000000000000001ULL,
                          std::uint64_t channel = 800000000000000002ULL) {
        const std::uint64_t id = ++next_id;
        const std::string token = "itok-" + std::to_string(id);
        json role_list = json::array();
        for (const auto r : roles) role_list.push_back(id_str(r));
        json interaction{
            {"id", id_str(id)},
            {"application_id", id_str(options.application_id)},
            {"type", type},
            {"token", token},
            {"version", 1},
            {"guild_id", id_str(guild)},
            {"channel_id", id_str(channel)},
            {"locale", "en-US"},
            {"app_permissions", "2251799813685247"},
            {"attachment_size_limit", 10485760},
            {"member",
             {{"user", {{"id", id_str(user)}, {"username", "user-" + id_str(user)}}},
              {"roles", role_list},
              {"permissions", guilds.contains(guild) ? id_str(guild_permissions_with(guild, user, roles))
                                                     : std::string("0")},
              {"nick", nullptr}}}};
        if (!data.is_null()) interaction["data"] = std::move(data);
        interactions[token] = InteractionState{id, now(), false};
        return interaction;
    }

    /// guild_permissions() of a user holding `roles` (an interaction carries its own roles).
    std::uint64_t guild_permissions_with(std::uint64_t guild, std::uint64_t user,
                                         const std::vector<std::uint64_t>& roles) const {
        const auto g = guilds.find(guild);
        if (g == guilds.end()) return 0;
        if (g->second.value("owner_id", "") == id_str(user)) return ~0ULL;
        std::uint64_t out = 0;
        for (const auto& role : g->second["roles"]) {
            const std::string id = role.value("id", "");
            bool held = id == id_str(guild);
            for (const auto r : roles) held = held || id == id_str(r);
            if (held) out |= bits(role);
        }
        return (out & kAdministrator) != 0 ? ~0ULL : out;
    }

    std::string cdn_base() const { return base() + "/cdn"; }

    json describe(std::size_t index) const {
        const RecordedRequest& r = recorded[index];
        json files = json::array();
        for (const auto& f : r.files) {
            files.push_back({{"name", f.name},
                             {"filename", f.filename},
                             {"content_type", f.content_type},
                             {"size", f.data.size()},
                             {"url", f.cdn_path.empty() ? std::string() : cdn_base() + f.cdn_path}});
        }
        json response = json::parse(r.response_body, nullptr, false);
        if (response.is_discarded()) response = nullptr;
        return json{{"index", index},
                    {"method", r.method},
                    {"path", r.path},
                    {"route", r.route},
                    {"query", r.query},
                    {"status", r.status},
                    {"body", r.json.is_discarded() ? json() : r.json},
                    {"response", response},
                    {"files", std::move(files)}};
    }

    // Waits until more than `count` requests are recorded and answered, or the deadline.
    asio::awaitable<void> wait_for_answered(std::size_t count, std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        auto answered = [&] {
            if (recorded.size() <= count) return false;
            for (std::size_t i = count; i < recorded.size(); ++i)
                if (recorded[i].status == 0) return false;
            return true;
        };
        while (!answered() && !stopped && std::chrono::steady_clock::now() < deadline) {
            auto timer = std::make_shared<asio::steady_timer>(executor, deadline);
            waiters.push_back(timer);
            co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
        }
    }

    static std::string query_value(const std::string& query, std::string_view name) {
        for (std::size_t at = 0; at < query.size();) {
            std::size_t end = query.find('&', at);
            if (end == std::string::npos) end = query.size();
            const std::string_view pair(query.data() + at, end - at);
            if (pair.substr(0, pair.find('=')) == name && pair.find('=') != std::string_view::npos)
                return common::http::url_decode(pair.substr(pair.find('=') + 1)).value_or("");
            at = end + 1;
        }
        return {};
    }

    /// FakeDiscord::join_guild: the bot joins a new server owned by `owner` (the invite link).
    std::uint64_t join(std::uint64_t guild, std::string name, std::uint64_t owner,
                       std::uint64_t permissions) {
        const std::uint64_t bot_role = ++next_id;
        json roles = json::array(
            {{{"id", id_str(guild)}, {"name", "@everyone"}, {"permissions", "1024"}, {"position", 0}},
             {{"id", id_str(bot_role)},
              {"name", "nebula"},
              {"permissions", id_str(permissions)},
              {"position", 1},
              {"managed", true}}});
        guilds[guild] = json{{"id", id_str(guild)},
                             {"name", std::move(name)},
                             {"owner_id", id_str(owner)},
                             {"roles", std::move(roles)}};
        members[{guild, owner}] = {};
        members[{guild, options.bot_user_id}] = {bot_role};
        json event = guilds[guild];
        event["channels"] = json::array();
        event["members"] = json::array();
        event["member_count"] = 2;
        gateway->dispatch("GUILD_CREATE", event);
        return bot_role;
    }

    // Scripting over HTTP for the standalone executable (the demo drives it this way).
    asio::awaitable<common::http::Response> control(const common::http::Request& request,
                                                    const std::string& what, const std::string& query) {
        // Uploads a file the CDN then serves at cdn_base() + the rest of the path, as Discord's
        // CDN serves a message attachment (the body is the file, Content-Type its type).
        if (request.method == "PUT" && what.rfind("cdn/", 0) == 0) {
            const std::string path = what.substr(3);
            if (path.size() < 2) co_return error_response(400, 0, "a file path is required");
            files[path] = CdnFile{
                std::string(request.headers.find("Content-Type").value_or("application/octet-stream")),
                request.body, std::nullopt, std::chrono::milliseconds(0)};
            co_return json_response(200, json{{"url", cdn_base() + path}, {"size", request.body.size()}});
        }
        // Requests from index `since` on; with `wait_ms`, first waits (up to that long) until at
        // least one more has been answered, so a driver can follow the bot without polling.
        if (request.method == "GET" && what == "requests") {
            std::size_t since = 0;
            std::chrono::milliseconds wait{0};
            try {
                const std::string since_text = query_value(query, "since");
                const std::string wait_text = query_value(query, "wait_ms");
                if (!since_text.empty()) since = std::stoull(since_text);
                if (!wait_text.empty()) wait = std::chrono::milliseconds(std::stoll(wait_text));
            } catch (const std::exception&) {
                co_return error_response(400, 0, "since and wait_ms must be numbers");
            }
            if (wait.count() > 0)
                co_await wait_for_answered(since, std::min(wait, std::chrono::milliseconds(60000)));
            json out = json::array();
            for (std::size_t i = since; i < recorded.size(); ++i) out.push_back(describe(i));
            co_return json_response(200, out);
        }
        // The gateway session; with `wait_ms`, first waits until a client has identified.
        if (request.method == "GET" && what == "gateway") {
            const std::string wait_text = query_value(query, "wait_ms");
            const auto wait =
                std::chrono::milliseconds(std::clamp<long long>(std::atoll(wait_text.c_str()), 0, 60000));
            if (wait.count() > 0)
                co_await gateway->wait_until([this] { return !gateway->session_id().empty(); }, wait);
            co_return json_response(200, json{{"session_id", gateway->session_id()},
                                              {"connections", gateway->connections().size()}});
        }
        const json body = json::parse(request.body.empty() ? "{}" : request.body, nullptr, false);
        if (!body.is_object()) co_return error_response(400, 0, "body must be a JSON object");
        try {
            if (request.method == "POST" && what == "dispatch") {
                gateway->dispatch(body.at("t").get<std::string>(), body.at("d"));
                co_return json_response(200, json{{"ok", true}});
            }
            if (request.method == "POST" && what == "interaction") {
                std::vector<std::uint64_t> roles;
                for (const auto& r : body.value("roles", json::array()))
                    roles.push_back(std::stoull(r.get<std::string>()));
                json interaction = make_interaction(
                    body.at("type").get<int>(), std::stoull(body.at("user").get<std::string>()), roles,
                    body.value("data", json()), std::stoull(body.value("guild", "800000000000000001")),
                    std::stoull(body.value("channel", "800000000000000002")));
                if (body.contains("locale")) interaction["locale"] = body["locale"];
                gateway->dispatch("INTERACTION_CREATE", interaction);
                co_return json_response(200, interaction);
            }
            if (request.method == "POST" && what == "member") {
                std::vector<std::uint64_t> roles;
                for (const auto& r : body.value("roles", json::array()))
                    roles.push_back(std::stoull(r.get<std::string>()));
                members[{std::stoull(body.value("guild", "800000000000000001")),
                         std::stoull(body.at("user").get<std::string>())}] = roles;
                co_return json_response(200, json{{"ok", true}});
            }
            // What opening the invite link does: the bot joins a new server owned by `owner`
            // with the permissions the link asked for (see FakeDiscord::join_guild).
            if (request.method == "POST" && what == "join") {
                const auto guild = std::stoull(body.at("guild").get<std::string>());
                if (guilds.contains(guild)) co_return error_response(400, 0, "the bot is in that guild");
                const std::uint64_t bot_role =
                    join(guild, body.value("name", "Shop"), std::stoull(body.at("owner").get<std::string>()),
                         std::stoull(body.at("permissions").get<std::string>()));
                co_return json_response(200, json{{"bot_role", id_str(bot_role)}});
            }
        } catch (const std::exception& e) {
            co_return error_response(400, 0, e.what());
        }
        co_return error_response(404, 0, "unknown control route");
    }

    // Applies the rate-limit engine; returns a 429 when the client went over.
    std::optional<common::http::Response> rate_limit(const std::string& method_path,
                                                     const std::vector<std::string>& segments,
                                                     bool interaction, common::http::Headers& out_headers) {
        const auto t = now();
        if (!interaction && options.global_per_second > 0) {
            while (!global_sends.empty() && global_sends.front() + std::chrono::seconds(1) <= t)
                global_sends.pop_front();
            if (global_sends.size() >= static_cast<std::size_t>(options.global_per_second)) {
                ++unscripted_429;
                const double retry =
                    std::chrono::duration<double>(global_sends.front() + std::chrono::seconds(1) - t).count();
                common::http::Response r = json_response(429, json{{"message", "You are being rate limited."},
                                                                   {"retry_after", retry},
                                                                   {"global", true}});
                r.headers.set("X-RateLimit-Global", "true");
                r.headers.set("X-RateLimit-Scope", "global");
                r.headers.set("Retry-After", std::to_string(static_cast<int>(std::ceil(retry))));
                return r;
            }
            global_sends.push_back(t);
        }
        const std::string major = segments.size() >= 2 ? segments[0] + "/" + segments[1] : "";
        for (auto& bucket : buckets) {
            bool matches = false;
            for (const auto& re : bucket.routes) matches = matches || std::regex_match(method_path, re);
            if (!matches) continue;
            Window& window = bucket.windows[major];
            if (window.used == 0 || t >= window.start + bucket.rule.window) {
                window.start = t;
                window.used = 0;
            }
            const double reset_after =
                std::chrono::duration<double>(window.start + bucket.rule.window - t).count();
            out_headers.set("X-RateLimit-Limit", std::to_string(bucket.rule.limit));
            out_headers.set("X-RateLimit-Bucket", bucket.rule.hash);
            char reset[32];
            std::snprintf(reset, sizeof reset, "%.3f", reset_after);
            out_headers.set("X-RateLimit-Reset-After", reset);
            if (window.used >= bucket.rule.limit) {
                ++unscripted_429;
                common::http::Response r = json_response(429, json{{"message", "You are being rate limited."},
                                                                   {"retry_after", reset_after},
                                                                   {"global", false}});
                r.headers = out_headers;
                r.headers.set("Content-Type", "application/json");
                r.headers.set("X-RateLimit-Remaining", "0");
                r.headers.set("X-RateLimit-Scope", "user");
                r.headers.set("Retry-After", std::to_string(static_cast<int>(std::ceil(reset_after))));
                return r;
            }
            ++window.used;
            out_headers.set("X-RateLimit-Remaining", std::to_string(bucket.rule.limit - window.used));
            break;
        }
        return std::nullopt;
    }

    json message_json(std::uint64_t channel, const json& body) {
        json message{{"id", id_str(++next_id)},
                     {"channel_id", id_str(channel)},
                     {"type", 0},
                     {"content", body.value("content", "")},
                     {"author", {{"id", id_str(options.bot_user_id)}, {"username", "nebula"}, {"bot", true}}},
                     {"attachments", json::array()},
                     {"embeds", body.value("embeds", json::array())},
                     {"components", body.value("components", json::array())}};
        if (body.contains("nonce")) message["nonce"] = body["nonce"];
        return message;
    }

    // Validates and answers a message body with files: attachments[].id must match files[n].
    std::optional<common::http::Response> check_files(const RecordedRequest& record, json& message) {
        std::set<std::string> names;
        for (const auto& part : record.files) {
            if (part.name.rfind("files[", 0) != 0 || part.filename.empty() ||
                !names.insert(part.name).second) {
                return error_response(400, 50035, "Invalid Form Body: bad file part " + part.name);
            }
        }
        if (record.files.size() > 10)
            return error_response(400, 30015, "Maximum number of attachments reached");
        const json attachments = record.json.value("attachments", json::array());
        for (const auto& part : record.files) {
            const std::string index = part.name.substr(6, part.name.size() - 7);
            bool described = false;
            for (const auto& a : attachments)
                described = described || (a.value("id", json()).dump() == "\"" + index + "\"");
            if (!described)
                return error_response(400, 50035, "Invalid Form Body: " + part.name + " not in attachments");
            message["attachments"].push_back({{"id", id_str(++next_id)},
                                              {"filename", part.filename},
                                              {"size", part.data.size()},
                                              {"content_type", part.content_type},
                                              {"url", cdn_base() + part.cdn_path},
                                              {"proxy_url", cdn_base() + part.cdn_path}});
        }
        for (const auto& part : record.files)
            files[part.cdn_path] =
                CdnFile{part.content_type, part.data, std::nullopt, std::chrono::milliseconds(0)};
        return std::nullopt;
    }

    asio::awaitable<common::http::Response> respond(const common::http::Request& request,
                                                    const RecordedRequest& record,
                                                    const std::vector<std::string>& s) {
        const std::string method_path = request.method + " " + record.path;
        common::http::Headers limit_headers;
        const bool interaction = !s.empty() && (s[0] == "interactions" || s[0] == "webhooks");

        for (auto it = scripts.begin(); it != scripts.end(); ++it) {
            if (!std::regex_match(method_path, it->pattern)) continue;
            const Scripted scripted = it->response;
            if (--it->remaining <= 0) scripts.erase(it);
            if (scripted.hang) {
                auto timer = std::make_shared<asio::steady_timer>(executor, std::chrono::minutes(10));
                hung.push_back(timer);
                co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
                common::http::Response gone = error_response(503, 0, "fake stopped");
                gone.close = true;
                co_return gone;
            }
            common::http::Response response;
            response.status = scripted.status;
            for (const auto& [name, value] : scripted.headers) response.headers.set(name, value);
            if (!response.headers.find("Content-Type"))
                response.headers.set("Content-Type", "application/json");
            response.body = scripted.body;
            co_return response;
        }

        if (!interaction) {
            const auto auth = request.headers.find("Authorization");
            if (!auth || *auth != "Bot " + options.token)
                co_return error_response(401, 0, "401: Unauthorized");
        }
        if (auto limited = rate_limit(method_path, s, interaction, limit_headers)) co_return *limited;
        common::http::Response response = route(request, record, s);
        for (const auto& [name, value] : limit_headers.fields()) response.headers.set(name, value);
        co_return response;
    }

    std::uint64_t num(const std::string& text) { return digits(text) ? std::stoull(text) : 0; }

    common::http::Response route(const common::http::Request& request, const RecordedRequest& record,
                                 const std::vector<std::string>& s) {
        const std::string& m = request.method;
        const json& body = record.json;
        const std::size_t n = s.size();
        auto bad_json = [&] {
            return body.is_discarded() || (!body.is_null() && !body.is_object() && !body.is_array());
        };
        if (bad_json()) return error_response(400, 50109, "The request body contains invalid JSON.");

        if (m == "GET" && n == 2 && s[0] == "gateway" && s[1] == "bot") {
            return json_response(200, json{{"url", gateway_url},
                                           {"shards", 1},
                                           {"session_start_limit",
                                            {{"total", session_total},
                                             {"remaining", session_remaining},
                                             {"reset_after", session_reset.count()},
                                             {"max_concurrency", 1}}}});
        }
        if (m == "GET" && n == 2 && s[0] == "users" && s[1] == "@me") {
            return json_response(
                200, json{{"id", id_str(options.bot_user_id)}, {"username", "nebula"}, {"bot", true}});
        }
        if (m == "GET" && n == 3 && s[0] == "oauth2" && s[1] == "applications" && s[2] == "@me") {
            return json_response(
                200, json{{"id", id_str(options.application_id)},
                          {"name", "NebulaLinks"},
                          {"bot_public", true},
                          {"bot", {{"id", id_str(options.bot_user_id)}, {"username", "nebula"}}}});
        }
        if (m == "GET" && n == 3 && s[0] == "users" && s[1] == "@me" && s[2] == "guilds") {
            json list = json::array();
            for (const auto& [id, guild] : guilds) {
                list.push_back(json{{"id", id_str(id)},
                                    {"name", guild.value("name", "")},
                                    {"icon", nullptr},
                                    {"owner", false},
                                    {"permissions", id_str(guild_permissions(id, options.bot_user_id))},
                                    {"features", json::array()}});
            }
            return json_response(200, list);
        }
        if (m == "POST" && n == 3 && s[0] == "users" && s[2] == "channels") {
            // Discord keeps one DM channel per recipient: opening it again returns the same one.
            const std::string recipient = body.is_object() ? body.value("recipient_id", "") : "";
            if (auto known = dm_channels.find(recipient); known != dm_channels.end())
                return json_response(200, channels[known->second]);
            const std::uint64_t id = ++next_id;
            dm_channels[recipient] = id;
            json channel{{"id", id_str(id)},
                         {"type", 1},
                         {"recipients", json::array({{{"id", body.value("recipient_id", "")}}})}};
            channels[id] = channel;
            return json_response(200, channel);
        }
        if (n >= 2 && s[0] == "channels") {
            const std::uint64_t channel = num(s[1]);
            if (n == 3 && s[2] == "messages" && m == "POST") {
                if (!body.is_object())
                    return error_response(400, 50109, "The request body contains invalid JSON.");
                if (deleted_channels.contains(channel)) return error_response(404, 10003, "Unknown Channel");
                if (const auto dm = channels.find(channel);
                    dm != channels.end() && dm->second.value("type", 0) == 1) {
                    const auto& recipients = dm->second["recipients"];
                    const std::string to = recipients.empty() ? "" : recipients[0].value("id", "");
                    if (closed_dms.contains(num(to)))
                        return error_response(403, 50007, "Cannot send messages to this user");
                }
                const std::string nonce = body.contains("nonce") ? body["nonce"].dump() : "";
                const bool enforce = !nonce.empty() && body.value("enforce_nonce", false);
                if (enforce) {
                    if (auto it = messages_by_nonce.find(nonce);
                        it != messages_by_nonce.end() && now() - it->second.created < options.nonce_window) {
                        return json_response(200, it->second.message);
                    }
                }
                if (body.value("content", "").empty() && !body.contains("embeds") && record.files.empty() &&
                    !body.contains("components")) {
                    return error_response(400, 50006, "Cannot send an empty message");
                }
                json message = message_json(channel, body);
                if (auto bad = check_files(record, message)) return *bad;
                if (enforce) messages_by_nonce[nonce] = NoncedMessage{message, now()};
                ++message_counts[channel];
                return json_response(200, message);
            }
            if (n == 4 && s[2] == "messages") {
                if (m == "PATCH") {
                    json message = message_json(channel, body);
                    message["id"] = s[3];
                    if (auto bad = check_files(record, message)) return *bad;
                    return json_response(200, message);
                }
                if (m == "DELETE") return common::http::Response{204, {}, {}, false};
            }
            if (n == 2) {
                const auto it = channels.find(channel);
                if (it == channels.end()) return error_response(404, 10003, "Unknown Channel");
                if (m == "PATCH") {
                    for (const auto& [key, value] : body.items()) it->second[key] = value;
                    return json_response(200, it->second);
                }
                if (m == "DELETE") {
                    json gone = it->second;
                    channels.erase(it);
                    deleted_channels.insert(channel);
                    return json_response(200, gone);
                }
                if (m == "GET") return json_response(200, it->second);
            }
        }
        if (n == 3 && m == "POST" && s[0] == "guilds" && s[2] == "channels") {
            if (!body.is_object() || !body.contains("name"))
                return error_response(400, 50035, "Invalid Form Body");
            if (auto refused = require(num(s[1]), kManageChannels)) return *refused;
            // Overwrites may only allow or deny what the bot itself has in the server.
            const auto has = guild_permissions(num(s[1]), options.bot_user_id);
            if (guilds.contains(num(s[1])) && body.contains("permission_overwrites")) {
                for (const auto& o : body["permission_overwrites"]) {
                    const auto value = [&](const char* key) -> std::uint64_t {
                        if (!o.is_object() || !o.contains(key)) return 0;
                        if (o[key].is_number_unsigned()) return o[key].get<std::uint64_t>();
                        const std::string text =
                            o[key].is_string() ? o[key].get<std::string>() : std::string();
                        return digits(text) ? std::stoull(text) : 0;
                    };
                    if (((value("allow") | value("deny")) & ~has) != 0)
                        return error_response(403, 50013, "Missing Permissions");
                }
            }
            const std::uint64_t id = ++next_id;
            json channel = body;
            channel["id"] = id_str(id);
            channel["guild_id"] = s[1];
            channel["type"] = body.value("type", 0);
            channels[id] = channel;
            return json_response(201, channel);
        }
        if (n == 3 && m == "GET" && s[0] == "guilds" && s[2] == "channels") {
            json list = json::array();
            for (const auto& [id, channel] : channels) {
                if (channel.value("guild_id", std::string()) == s[1]) list.push_back(channel);
            }
            return json_response(200, list);
        }
        if (n == 3 && m == "POST" && s[0] == "guilds" && s[2] == "roles") {
            const auto g = guilds.find(num(s[1]));
            if (g == guilds.end()) return error_response(403, 50001, "Missing Access");
            if (auto refused = require(num(s[1]), kManageRoles)) return *refused;
            if (!body.is_object()) return error_response(400, 50035, "Invalid Form Body");
            json role{{"id", id_str(++next_id)},
                      {"name", body.value("name", std::string("new role"))},
                      // Sent as a number or a string; Discord answers with a string.
                      {"permissions", body.contains("permissions") && body["permissions"].is_number_unsigned()
                                          ? id_str(body["permissions"].get<std::uint64_t>())
                                          : body.value("permissions", std::string("0"))},
                      {"color", body.value("color", 0)},
                      {"hoist", body.value("hoist", false)},
                      {"mentionable", body.value("mentionable", false)},
                      {"managed", false},
                      {"position", 1}};
            // A bot may not give a role a permission it does not have itself.
            if ((bits(role) & ~guild_permissions(num(s[1]), options.bot_user_id)) != 0)
                return error_response(403, 50013, "Missing Permissions");
            // A new role goes at the bottom, just above @everyone.
            for (auto& other : g->second["roles"])
                if (other.value("id", "") != s[1]) other["position"] = other.value("position", 0) + 1;
            g->second["roles"].push_back(role);
            return json_response(200, role);
        }
        if (n == 2 && m == "GET" && s[0] == "guilds") {
            const auto it = guilds.find(num(s[1]));
            if (it == guilds.end()) return error_response(403, 50001, "Missing Access");
            return json_response(200, it->second);
        }
        if (n >= 4 && s[0] == "guilds" && s[2] == "members") {
            const auto key = std::make_pair(num(s[1]), num(s[3]));
            const auto it = members.find(key);
            if (it == members.end()) return error_response(404, 10007, "Unknown Member");
            if (n == 4 && m == "GET") {
                json roles = json::array();
                for (const auto r : it->second) roles.push_back(id_str(r));
                return json_response(200, json{{"user", {{"id", s[3]}, {"username", "member-" + s[3]}}},
                                               {"roles", roles},
                                               {"nick", nullptr}});
            }
            if (n == 6 && s[4] == "roles") {
                if (auto refused = require(num(s[1]), kManageRoles)) return *refused;
                // Only roles below the bot's highest can be given or taken.
                if (const auto g = guilds.find(num(s[1])); g != guilds.end()) {
                    for (const auto& role : g->second["roles"]) {
                        if (role.value("id", "") == s[5] &&
                            role.value("position", 0) >= highest_position(num(s[1]), options.bot_user_id) &&
                            guild_permissions(num(s[1]), options.bot_user_id) != ~0ULL)
                            return error_response(403, 50013, "Missing Permissions");
                    }
                }
                auto& roles = it->second;
                const std::uint64_t role = num(s[5]);
                std::erase(roles, role);
                if (m == "PUT") roles.push_back(role);
                return common::http::Response{204, {}, {}, false};
            }
        }
        if (n == 4 && m == "POST" && s[0] == "interactions" && s[3] == "callback") {
            const auto it = interactions.find(s[2]);
            if (it == interactions.end() || id_str(it->second.id) != s[1]) {
                return error_response(404, 10062, "Unknown interaction");
            }
            if (it->second.acknowledged) {
                return error_response(400, 40060, "Interaction has already been acknowledged.");
            }
            if (now() > it->second.created + options.interaction_window) {
                return error_response(404, 10062, "Unknown interaction");
            }
            if (!body.is_object() || !body.contains("type"))
                return error_response(400, 50035, "Invalid Form Body");
            it->second.acknowledged = true;
            // Files of a callback message are served by the CDN like any other attachment.
            for (const auto& part : record.files)
                files[part.cdn_path] =
                    CdnFile{part.content_type, part.data, std::nullopt, std::chrono::milliseconds(0)};
            return common::http::Response{204, {}, {}, false};
        }
        if (n >= 3 && s[0] == "webhooks") {
            const auto it = interactions.find(s[2]);
            if (it == interactions.end() || num(s[1]) != options.application_id) {
                return error_response(404, 10015, "Unknown Webhook");
            }
            if (now() > it->second.created + std::chrono::minutes(15)) {
                return error_response(401, 50027, "Invalid Webhook Token");
            }
            if (!it->second.acknowledged) return error_response(404, 10015, "Unknown Webhook");
            json message = message_json(0, body.is_object() ? body : json::object());
            if (n == 5 && s[3] == "messages" && s[4] == "@original" && m == "PATCH") {
                if (auto bad = check_files(record, message)) return *bad;
                return json_response(200, message);
            }
            if (n == 3 && m == "POST") {
                if (auto bad = check_files(record, message)) return *bad;
                return json_response(200, message);
            }
        }
        if (n >= 5 && s[0] == "applications" && s[2] == "guilds" && s[4] == "commands") {
            auto& registered = commands[num(s[3])];
            if (n == 5 && m == "PUT") {
                if (!body.is_array()) return error_response(400, 50035, "Invalid Form Body");
                // A command that keeps its name keeps its id (and so its permission overwrites).
                json out = json::array();
                for (auto command : body) {
                    std::string id = id_str(++next_id);
                    for (const auto& old : registered) {
                        if (old.value("name", "") == command.value("name", "") &&
                            old.value("type", 1) == command.value("type", 1))
                            id = old.value("id", id);
                    }
                    command["id"] = id;
                    command["application_id"] = s[1];
                    command["guild_id"] = s[3];
                    command["version"] = id_str(next_id);
                    out.push_back(std::move(command));
                }
                std::set<std::string> kept;
                for (const auto& command : out) kept.insert(command.value("id", ""));
                std::erase_if(command_permissions, [&](const auto& entry) {
                    return entry.first.first == num(s[3]) && !kept.contains(entry.first.second);
                });
                registered = out;
                return json_response(200, out);
            }
            if (n == 5 && m == "GET") return json_response(200, registered);
            if (n == 7 && m == "GET" && s[6] == "permissions") {
                bool known = false;
                for (const auto& command : registered) known = known || command.value("id", "") == s[5];
                if (!known) return error_response(404, 10063, "Unknown application command");
                const auto it = command_permissions.find({num(s[3]), s[5]});
                if (it == command_permissions.end())
                    return error_response(404, 10066, "Unknown application command permissions");
                return json_response(200, json{{"id", s[5]},
                                               {"application_id", s[1]},
                                               {"guild_id", s[3]},
                                               {"permissions", it->second}});
            }
        }
        return error_response(404, 0, "404: Not Found");
    }

    std::string gateway_url;
    std::unique_ptr<FakeDiscordGateway> gateway;
};

common::Result<std::unique_ptr<FakeDiscord>, std::string> FakeDiscord::create(asio::any_io_executor executor,
                                                                              FakeDiscordOptions options,
                                                                              const common::Clock* clock) {
    auto impl = std::make_shared<Impl>();
    impl->executor = executor;
    impl->clock = clock != nullptr ? clock : &impl->system_clock;
    std::string dir = options.record_dir;
    if (dir.empty()) {
        if (const char* env = std::getenv("NEBULA_DISCORD_CONTRACT_DIR")) dir = env;
    }
    if (!dir.empty()) impl->record_path = dir + "/requests-" + std::to_string(::getpid()) + ".jsonl";
    impl->options = std::move(options);
    common::http::ServerOptions server_options;
    server_options.address = "127.0.0.1";
    server_options.port = impl->options.http_port;
    server_options.max_body_bytes = 30 * 1024 * 1024;
    server_options.tls = impl->options.tls;
    server_options.alpn = impl->options.http2 ? common::http::ServerOptions::Alpn::h2
                                              : common::http::ServerOptions::Alpn::http1;
    server_options.http2_max_streams = impl->options.http2_max_streams;
    auto server = common::http::Server::create(executor, server_options, *impl);
    if (!server) return common::unexpected(server.error());
    impl->server = std::move(*server);
    impl->server->start();
    FakeGatewayOptions gateway_options;
    gateway_options.token = impl->options.token;
    gateway_options.application_id = impl->options.application_id;
    gateway_options.bot_user_id = impl->options.bot_user_id;
    gateway_options.heartbeat_interval = impl->options.heartbeat_interval;
    gateway_options.port = impl->options.gateway_port;
    gateway_options.tls = impl->options.tls;
    auto gateway = FakeDiscordGateway::create(executor, gateway_options);
    if (!gateway) return common::unexpected(gateway.error());
    impl->gateway = std::move(*gateway);
    impl->gateway_url = impl->gateway->url();

    return std::unique_ptr<FakeDiscord>(new FakeDiscord(std::move(impl)));
}

FakeDiscord::FakeDiscord(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
FakeDiscord::~FakeDiscord() { stop(); }

void FakeDiscord::stop(std::function<void()> done) {
    if (impl_->stopped) {
        if (done) done();
        return;
    }
    impl_->stopped = true;
    for (auto& timer : impl_->hung) timer->cancel();
    for (auto& timer : impl_->waiters) timer->cancel();
    impl_->gateway->stop();
    impl_->server->shutdown(std::chrono::milliseconds(100), std::move(done));
}

std::string FakeDiscord::api_base() const { return impl_->base() + impl_->options.api_prefix; }
std::string FakeDiscord::cdn_base() const { return impl_->cdn_base(); }
void FakeDiscord::refuse_connections(int times) { impl_->refuse = times; }
std::size_t FakeDiscord::connections_accepted() const { return impl_->accepted; }
common::http::Http2Stats FakeDiscord::http2_stats() const { return impl_->server->http2_stats(); }
void FakeDiscord::set_http2_faults(common::http::Http2Faults faults) {
    impl_->server->set_http2_faults(faults);
}
void FakeDiscord::drop_connections() { impl_->server->drop_connections(); }
std::uint16_t FakeDiscord::http_port() const { return impl_->server->port(); }
const FakeDiscordOptions& FakeDiscord::options() const { return impl_->options; }

void FakeDiscord::script(std::string pattern, Scripted response, int times) {
    impl_->scripts.push_back(Impl::Script{std::regex(pattern), std::move(response), times});
}

void FakeDiscord::clear_scripts() { impl_->scripts.clear(); }

void FakeDiscord::add_bucket(BucketRule rule) {
    Impl::Bucket bucket;
    for (const auto& r : rule.routes) bucket.routes.emplace_back(r);
    bucket.rule = std::move(rule);
    impl_->buckets.push_back(std::move(bucket));
}

void FakeDiscord::set_session_start_limit(int total, int remaining, std::chrono::milliseconds reset_after) {
    impl_->session_total = total;
    impl_->session_remaining = remaining;
    impl_->session_reset = reset_after;
}

void FakeDiscord::add_member(std::uint64_t guild, std::uint64_t user, std::vector<std::uint64_t> roles) {
    impl_->members[{guild, user}] = std::move(roles);
}

void FakeDiscord::add_guild(std::uint64_t guild, std::string name, std::uint64_t owner, json roles) {
    impl_->guilds[guild] = json{{"id", id_str(guild)},
                                {"name", std::move(name)},
                                {"owner_id", id_str(owner)},
                                {"roles", std::move(roles)}};
}

std::uint64_t FakeDiscord::join_guild(std::uint64_t guild, std::string name, std::uint64_t owner,
                                      std::uint64_t permissions) {
    return impl_->join(guild, std::move(name), owner, permissions);
}

const json* FakeDiscord::guild(std::uint64_t id) const {
    const auto it = impl_->guilds.find(id);
    return it == impl_->guilds.end() ? nullptr : &it->second;
}

void FakeDiscord::add_channel(json channel) {
    const auto id = std::stoull(channel.at("id").get<std::string>());
    impl_->channels[id] = std::move(channel);
}

void FakeDiscord::remove_member(std::uint64_t guild, std::uint64_t user) {
    impl_->members.erase({guild, user});
    impl_->closed_dms.insert(user);  // Discord refuses DMs to users who share no guild with the bot
    impl_->gateway->dispatch("GUILD_MEMBER_REMOVE",
                             json{{"guild_id", id_str(guild)}, {"user", {{"id", id_str(user)}}}});
}

void FakeDiscord::close_dms(std::uint64_t user) { impl_->closed_dms.insert(user); }

bool FakeDiscord::set_command_permissions(std::uint64_t guild, const std::string& name, json permissions) {
    const auto it = impl_->commands.find(guild);
    if (it == impl_->commands.end()) return false;
    for (const auto& command : it->second) {
        if (command.value("name", "") != name) continue;
        const std::pair<std::uint64_t, std::string> key{guild, command.value("id", "")};
        if (permissions.empty()) {
            impl_->command_permissions.erase(key);
        } else {
            impl_->command_permissions[key] = std::move(permissions);
        }
        return true;
    }
    return false;
}

bool FakeDiscord::delete_channel(std::uint64_t id) {
    const auto it = impl_->channels.find(id);
    if (it == impl_->channels.end()) return false;
    json gone = it->second;
    impl_->channels.erase(it);
    impl_->deleted_channels.insert(id);
    impl_->gateway->dispatch("CHANNEL_DELETE", gone);
    return true;
}

void FakeDiscord::serve_file(std::string path, CdnFile file) {
    impl_->files[std::move(path)] = std::move(file);
}

void FakeDiscord::expect_interaction(std::uint64_t id, std::string token) {
    impl_->interactions[std::move(token)] = Impl::InteractionState{id, impl_->now(), false};
}

json FakeDiscord::make_interaction(int type, std::uint64_t user, std::vector<std::uint64_t> roles, json data,
                                   std::uint64_t guild, std::uint64_t channel) {
    return impl_->make_interaction(type, user, std::move(roles), std::move(data), guild, channel);
}

json FakeDiscord::inject_interaction(int type, std::uint64_t user, std::vector<std::uint64_t> roles,
                                     json data) {
    json interaction = make_interaction(type, user, std::move(roles), std::move(data));
    impl_->gateway->dispatch("INTERACTION_CREATE", interaction);
    return interaction;
}

FakeDiscordGateway& FakeDiscord::gateway() { return *impl_->gateway; }

const std::vector<RecordedRequest>& FakeDiscord::requests() const { return impl_->recorded; }

std::vector<RecordedRequest> FakeDiscord::requests_matching(const std::string& pattern) const {
    const std::regex re(pattern);
    std::vector<RecordedRequest> out;
    for (const auto& r : impl_->recorded) {
        if (std::regex_match(r.method + " " + r.path, re)) out.push_back(r);
    }
    return out;
}

asio::awaitable<bool> FakeDiscord::wait_for_requests(std::string pattern, std::size_t count,
                                                     std::chrono::milliseconds timeout) {
    auto impl = impl_;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (requests_matching(pattern).size() < count) {
        if (std::chrono::steady_clock::now() >= deadline || impl->stopped) co_return false;
        auto timer = std::make_shared<asio::steady_timer>(impl->executor, deadline);
        impl->waiters.push_back(timer);
        co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
    }
    co_return true;
}

std::size_t FakeDiscord::unscripted_429s() const { return impl_->unscripted_429; }

std::size_t FakeDiscord::message_count(std::uint64_t channel) const {
    const auto it = impl_->message_counts.find(channel);
    return it == impl_->message_counts.end() ? 0 : it->second;
}

const json* FakeDiscord::channel(std::uint64_t id) const {
    const auto it = impl_->channels.find(id);
    return it == impl_->channels.end() ? nullptr : &it->second;
}

const std::vector<std::uint64_t>* FakeDiscord::member_roles(std::uint64_t guild, std::uint64_t user) const {
    const auto it = impl_->members.find({guild, user});
    return it == impl_->members.end() ? nullptr : &it->second;
}

}  // namespace nebula::fakes::discord
