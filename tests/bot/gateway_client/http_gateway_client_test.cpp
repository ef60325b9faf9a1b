#include "bot/gateway_client/http_gateway_client.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <map>

#include <nlohmann/json.hpp>

#include "common/http_server.hpp"
#include "common/signing.hpp"
#include "support/io_thread.hpp"
#include "support/tls_cert.hpp"

namespace nebula::bot::gateway_client {
namespace {

using nlohmann::json;
const std::string kKey(48, 'q');

// A loopback nebula-gateway speaking the wire protocol: signed requests only, clients kept in
// memory, the documented status codes and bodies.
class WireGateway final : public common::http::Handler {
  public:
    std::optional<common::http::Response> screen(const common::http::Request&,
                                                 const common::http::Peer&) override {
        return std::nullopt;
    }

    boost::asio::awaitable<common::http::Response> handle(common::http::Request r,
                                                          common::http::Peer) override {
        ++requests;
        const auto now = common::SystemClock().unix_seconds();
        if (auto bad = common::signing::verify({kKey}, r.method, r.target, r.body,
                                               r.headers.find(common::signing::kTimestampHeader),
                                               r.headers.find(common::signing::kNonceHeader),
                                               r.headers.find(common::signing::kSignatureHeader), now)) {
            co_return error(401, "bad_signature", std::string(common::signing::to_string(*bad)));
        }
        // Like the real gateway: a nonce is good once.
        const std::string nonce(r.headers.find(common::signing::kNonceHeader).value_or(""));
        if (std::find(nonces.begin(), nonces.end(), nonce) != nonces.end()) {
            co_return error(401, "replayed", "nonce already used");
        }
        nonces.push_back(nonce);
        if (lose_answers > 0) {
            // Acts on the request, then the answer is lost on the way (the connection closes).
            --lose_answers;
            common::http::Response lost;
            lost.abandon = true;
            if (r.target == "/api/health") co_return lost;
        }
        if (fail_next_with != 0) {
            const int status = std::exchange(fail_next_with, 0);
            if (status == 299) co_return common::http::Response{200, {}, "not json", false};
            co_return error(status, "panel_unavailable", "the panel did not answer");
        }
        const std::string prefix = "/api/clients/";
        if (r.method == "POST" && r.target == "/api/clients") {
            auto body = json::parse(r.body);
            const auto email = body.at("email").get<std::string>();
            auto it = clients.find(email);
            if (it != clients.end()) {
                if (it->second["uuid"] != body["uuid"]) co_return error(409, "conflict", "email exists");
                co_return reply(200, with_links(it->second));
            }
            json client = {{"email", email},
                           {"uuid", body["uuid"]},
                           {"inbound_id", body["inbound_id"]},
                           {"sub_id", body.value("sub_id", "")},
                           {"up", 0},
                           {"down", 0},
                           {"total_bytes", body["total_bytes"]},
                           {"expiry_ms", body["expiry_ms"]},
                           {"limit_ip", body["limit_ip"]},
                           {"enable", body.value("enable", true)},
                           {"comment", body.value("comment", "")}};
            clients[email] = client;
            co_return reply(201, with_links(client));
        }
        if (r.method == "POST" && r.target == "/api/clients/disable") {
            json disabled = json::array(), missing = json::array();
            const auto request = json::parse(r.body);
            for (const auto& email : request.at("emails")) {
                if (clients.contains(email)) {
                    clients[email]["enable"] = false;
                    disabled.push_back(email);
                } else {
                    missing.push_back(email);
                }
            }
            co_return reply(200, {{"disabled", disabled}, {"missing", missing}});
        }
        if (r.target == "/api/traffic") {
            json list = json::array();
            for (auto& [email, c] : clients) {
                list.push_back({{"email", email},
                                {"up", c["up"]},
                                {"down", c["down"]},
                                {"total_bytes", c["total_bytes"]},
                                {"expiry_ms", c["expiry_ms"]},
                                {"enable", c["enable"]}});
            }
            co_return reply(200, {{"clients", list}});
        }
        if (r.target == "/api/health") {
            co_return reply(200, {{"status", "ok"}, {"panel", "ok"}, {"version", "1.0"}, {"uptime_s", 42}});
        }
        if (r.target.starts_with(prefix)) {
            std::string rest = r.target.substr(prefix.size());
            const bool reset = rest.ends_with("/reset-traffic");
            if (reset) rest.resize(rest.size() - std::string("/reset-traffic").size());
            const auto email = *common::http::url_decode(rest);
            last_email = email;
            auto it = clients.find(email);
            if (it == clients.end()) co_return error(404, "not_found", "no such client");
            if (r.method == "GET") co_return reply(200, with_links(it->second));
            if (r.method == "DELETE") {
                clients.erase(it);
                co_return common::http::Response{204, {}, "", false};
            }
            if (reset) {
                it->second["up"] = 0;
                it->second["down"] = 0;
                co_return reply(200, {{"client", it->second}});
            }
            if (r.method == "PATCH") {
                const auto change = json::parse(r.body);
                for (const auto& [field, value] : change.items()) it->second[field] = value;
                co_return reply(200, {{"client", it->second}});
            }
        }
        co_return error(404, "not_found", "no such route");
    }

    static common::http::Response reply(int status, const json& body) {
        common::http::Response response{status, {}, body.dump(), false};
        response.headers.set("Content-Type", "application/json");
        return response;
    }
    static common::http::Response error(int status, const std::string& code, const std::string& message) {
        return reply(status, {{"error", {{"code", code}, {"message", message}}}});
    }
    static json with_links(const json& client) {
        return {{"client", client},
                {"links",
                 {{"vless", "vless://" + client["uuid"].get<std::string>() + "@h:443"},
                  {"subscription", "https://h/sub/" + client["sub_id"].get<std::string>()}}}};
    }

    std::map<std::string, json> clients;
    std::atomic<int> requests = 0;
    int fail_next_with = 0;
    int lose_answers = 0;             ///< this many /api/health answers are lost after the work is done
    std::vector<std::string> nonces;  ///< of every request that passed the signature check
    std::string last_email;
};

class HttpGatewayClientTest : public ::testing::Test {
  protected:
    void SetUp() override {
        common::http::ServerOptions options;
        options.address = "127.0.0.1";
        options.tls = common::http::TlsFiles{cert_.cert_path, cert_.key_path};
        auto server = common::http::Server::create(io_.executor(), options, handler_);
        ASSERT_TRUE(server.has_value()) << server.error();
        server_ = std::move(server).value();
        boost::asio::post(io_.io(), [this] { server_->start(); });
        client_ = make_client(cert_.sha256);
    }
    void TearDown() override {
        client_.reset();
        std::promise<void> stopped;
        boost::asio::post(io_.io(), [&] {
            server_->shutdown(std::chrono::milliseconds(100), [&] { stopped.set_value(); });
        });
        stopped.get_future().wait();
        server_.reset();
    }

    std::unique_ptr<HttpGatewayClient> make_client(const std::string& pin) {
        HttpGatewayOptions options{"https://127.0.0.1:" + std::to_string(server_->port()),
                                   kKey,
                                   pin,
                                   "",
                                   std::chrono::milliseconds(5000),
                                   ""};
        auto client = HttpGatewayClient::create(io_.executor(), options, clock_);
        EXPECT_TRUE(client.has_value()) << client.error();
        return std::move(client).value();
    }

    domain::NewClient new_client(const std::string& email, const std::string& uuid) {
        return {1, email, uuid, "sub123", 1000, 1'800'000'000'000, 2, "NL-000001", true};
    }

    testing::TlsCert cert_;
    common::SystemClock clock_;
    WireGateway handler_;
    testing::IoThread io_;
    std::unique_ptr<common::http::Server> server_;
    std::unique_ptr<HttpGatewayClient> client_;
};

TEST_F(HttpGatewayClientTest, CreateIsIdempotentAndConflictsOnAnotherUuid) {
    const std::string uuid = "3f1c2b4a-1111-4c2d-8e3f-0123456789ab";
    auto created = io_.run(client_->create_client(new_client("nl-1", uuid)));
    ASSERT_TRUE(created.has_value()) << created.error().message;
    EXPECT_EQ(created->client.uuid, uuid);
    EXPECT_EQ(created->client.expiry_ms, 1'800'000'000'000);
    EXPECT_EQ(created->client.limit_ip, 2);
    EXPECT_TRUE(created->links.vless.starts_with("vless://" + uuid));
    auto again = io_.run(client_->create_client(new_client("nl-1", uuid)));
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(handler_.clients.size(), 1u);
    auto other = io_.run(client_->create_client(new_client("nl-1", "aaaaaaaa-1111-4c2d-8e3f-0123456789ab")));
    ASSERT_FALSE(other.has_value());
    EXPECT_EQ(other.error().code, domain::GatewayErrorCode::conflict);
    EXPECT_EQ(other.error().status, 409);
    EXPECT_NE(other.error().message.find("conflict"), std::string::npos);
}

TEST_F(HttpGatewayClientTest, ClientLifecycleOverTheWire) {
    const std::string email = "nl-2 ü";  // encoded in the path
    ASSERT_TRUE(io_.run(client_->create_client(new_client(email, "3f1c2b4a-2222-4c2d-8e3f-0123456789ab")))
                    .has_value());
    auto fetched = io_.run(client_->get_client(email));
    ASSERT_TRUE(fetched.has_value());
    EXPECT_EQ(handler_.last_email, email);
    EXPECT_EQ(fetched->links.subscription, "https://h/sub/sub123");
    auto patched =
        io_.run(client_->update_client(email, {1'900'000'000'000, std::nullopt, std::nullopt, false}));
    ASSERT_TRUE(patched.has_value());
    EXPECT_EQ(patched->expiry_ms, 1'900'000'000'000);
    EXPECT_FALSE(patched->enable);
    EXPECT_EQ(patched->total_bytes, 1000);
    handler_.clients[email]["up"] = 5;
    auto traffic = io_.run(client_->traffic());
    ASSERT_TRUE(traffic.has_value());
    ASSERT_EQ(traffic->size(), 1u);
    EXPECT_EQ((*traffic)[0].up, 5);
    auto reset = io_.run(client_->reset_traffic(email));
    ASSERT_TRUE(reset.has_value());
    EXPECT_EQ(reset->up, 0);
    auto disabled = io_.run(client_->disable_clients({email, "ghost"}));
    ASSERT_TRUE(disabled.has_value());
    EXPECT_EQ(disabled->disabled, std::vector<std::string>{email});
    EXPECT_EQ(disabled->missing, std::vector<std::string>{"ghost"});
    EXPECT_TRUE(io_.run(client_->delete_client(email)).has_value());
    EXPECT_TRUE(io_.run(client_->delete_client(email)).has_value());  // already gone is fine
    auto missing = io_.run(client_->get_client(email));
    ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error().code, domain::GatewayErrorCode::not_found);
    auto health = io_.run(client_->health());
    ASSERT_TRUE(health.has_value());
    EXPECT_EQ(health->uptime_s, 42);
}

TEST_F(HttpGatewayClientTest, ServerErrorsAndBadBodiesAreClassified) {
    handler_.fail_next_with = 503;
    auto down = io_.run(client_->health());
    ASSERT_FALSE(down.has_value());
    EXPECT_EQ(down.error().code, domain::GatewayErrorCode::server_error);
    EXPECT_NE(down.error().message.find("panel_unavailable"), std::string::npos);
    handler_.fail_next_with = 299;
    auto garbage = io_.run(client_->health());
    ASSERT_FALSE(garbage.has_value());
    EXPECT_EQ(garbage.error().code, domain::GatewayErrorCode::bad_response);
}

TEST_F(HttpGatewayClientTest, WrongKeyIsRejectedAndWrongPinNeverConnects) {
    HttpGatewayOptions options{"https://127.0.0.1:" + std::to_string(server_->port()),
                               std::string(48, 'x'),
                               cert_.sha256,
                               "",
                               std::chrono::milliseconds(5000),
                               ""};
    auto wrong_key = HttpGatewayClient::create(io_.executor(), options, clock_);
    ASSERT_TRUE(wrong_key.has_value());
    auto refused = io_.run((*wrong_key)->health());
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().code, domain::GatewayErrorCode::rejected);
    EXPECT_EQ(refused.error().status, 401);

    const int before = handler_.requests;
    auto wrong_pin = make_client(std::string(64, '0'));
    auto result = io_.run(wrong_pin->health());
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().code, domain::GatewayErrorCode::unreachable);
    EXPECT_EQ(result.error().message, "certificate does not match the pin (expected " + std::string(64, '0') +
                                          ", got " + cert_.sha256 + ")");
    EXPECT_EQ(handler_.requests, before);
}

TEST_F(HttpGatewayClientTest, APinPastedFromOpensslWorks) {
    // What `openssl x509 -in cert.pem -noout -fingerprint -sha256` prints: upper case, colons.
    std::string pasted = "sha256 Fingerprint=";
    for (std::size_t i = 0; i < cert_.sha256.size(); i += 2) {
        if (i > 0) pasted += ':';
        for (char c : cert_.sha256.substr(i, 2)) pasted += static_cast<char>(std::toupper(c));
    }
    auto client = make_client(pasted);
    auto health = io_.run(client->health());
    ASSERT_TRUE(health.has_value()) << health.error().message;
}

TEST_F(HttpGatewayClientTest, ALostAnswerIsRetriedWithAFreshNonce) {
    ASSERT_TRUE(io_.run(client_->health()).has_value());  // a kept-alive connection to reuse
    handler_.lose_answers = 1;
    auto health = io_.run(client_->health());
    ASSERT_TRUE(health.has_value()) << health.error().message;
    ASSERT_EQ(handler_.nonces.size(), 3u) << "the first call, the lost one and its repeat";
    EXPECT_NE(handler_.nonces[1], handler_.nonces[2]);
}

TEST_F(HttpGatewayClientTest, RetriesAreBounded) {
    handler_.lose_answers = 100;
    auto health = io_.run(client_->health());
    ASSERT_FALSE(health.has_value());
    EXPECT_EQ(health.error().code, domain::GatewayErrorCode::unreachable);
    EXPECT_EQ(handler_.nonces.size(), 3u) << "max_attempts";
}

TEST_F(HttpGatewayClientTest, AGatewayBackFromARestartIsReachedByTheRetry) {
    // The gateway restarts between two calls: the kept-alive connection is dead and the first
    // new connection is refused while it comes back.
    ASSERT_TRUE(io_.run(client_->health()).has_value());
    const auto port = server_->port();
    std::promise<void> stopped;
    boost::asio::post(io_.io(),
                      [&] { server_->shutdown(std::chrono::milliseconds(0), [&] { stopped.set_value(); }); });
    stopped.get_future().wait();
    server_.reset();
    int pauses = 0;
    HttpGatewayOptions options{"https://127.0.0.1:" + std::to_string(port),
                               kKey,
                               cert_.sha256,
                               "",
                               std::chrono::milliseconds(5000),
                               ""};
    auto client = std::move(HttpGatewayClient::create(io_.executor(), options, clock_).value());
    client->on_retry([&] {
        // Back up on the same port before the next attempt.
        if (++pauses != 1) return;
        common::http::ServerOptions server_options;
        server_options.address = "127.0.0.1";
        server_options.port = port;
        server_options.tls = common::http::TlsFiles{cert_.cert_path, cert_.key_path};
        server_ = std::move(common::http::Server::create(io_.executor(), server_options, handler_).value());
        server_->start();
    });
    auto health = io_.run(client->health());
    ASSERT_TRUE(health.has_value()) << health.error().message;
    EXPECT_EQ(pauses, 1);
    io_.call([&] { client.reset(); });
}

TEST(HttpGatewayClient, RefusesPlainHttp) {
    boost::asio::io_context io;
    common::SystemClock clock;
    auto client =
        HttpGatewayClient::create(io.get_executor(), {"http://127.0.0.1:1", kKey, "", "", {}, ""}, clock);
    EXPECT_FALSE(client.has_value());
}

}  // namespace
}  // namespace nebula::bot::gateway_client
