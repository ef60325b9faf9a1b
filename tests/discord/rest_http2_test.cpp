// The bot's REST client against the fake Discord over HTTPS, where both speak HTTP/2 (as Discord's
// front end does): many requests at once on one connection, uploads larger than the flow-control
// window, and what the wire can do to them (GOAWAY, REFUSED_STREAM, a lost connection, a stream
// past its deadline, 429), plus the fall-back to HTTP/1.1 when the server does not offer h2.
#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <map>

#include "discord/rest.hpp"
#include "discord/test_support.hpp"
#include "fakes/discord/fake_discord.hpp"
#include "support/eventually.hpp"
#include "support/run_all.hpp"
#include "support/tls_cert.hpp"

namespace nebula::discord {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using fakes::discord::FakeDiscord;
using fakes::discord::FakeDiscordOptions;
using fakes::discord::Scripted;
using nebula::testing::all;
using nebula::testing::eventually;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Interaction {
    Snowflake id;
    std::string token;
};

class RestHttp2Test : public ::testing::Test {
  protected:
    asio::io_context io;
    common::SystemClock clock;
    nebula::testing::TlsCert cert;
    std::unique_ptr<FakeDiscord> fake;
    std::unique_ptr<RestClient> rest;

    void start(std::function<void(FakeDiscordOptions&)> tweak = {},
               std::chrono::milliseconds request_timeout = 20s) {
        FakeDiscordOptions options;
        options.tls = common::http::TlsFiles{cert.cert_path, cert.key_path};
        if (tweak) tweak(options);
        auto created = FakeDiscord::create(io.get_executor(), options);
        ASSERT_TRUE(created) << created.error();
        fake = std::move(*created);
        RestOptions rest_options;
        rest_options.api_base = fake->api_base();
        rest_options.token = fake->options().token;
        rest_options.ca_file = cert.cert_path;
        rest_options.request_timeout = request_timeout;
        rest_options.retry_base = 20ms;
        rest_options.retry_cap = 100ms;
        auto client = RestClient::create(io.get_executor(), rest_options, clock);
        ASSERT_TRUE(client) << client.error();
        rest = std::move(*client);
    }

    void TearDown() override {
        rest.reset();
        if (!fake) return;
        bool stopped = false;
        fake->stop([&] { stopped = true; });
        testing::drain_until(io, stopped);
    }

    void run(std::function<asio::awaitable<void>()> body) { testing::run(io, std::move(body)); }

    /// `n` interactions the fake knows (as if members had pressed a button).
    std::vector<Interaction> interactions(std::size_t n) {
        std::vector<Interaction> out;
        for (std::size_t i = 0; i < n; ++i) {
            const json made =
                fake->make_interaction(3, 1000 + i, {}, json{{"custom_id", "x"}, {"component_type", 2}});
            out.push_back({Snowflake::parse(made["id"].get<std::string>()).value(), made["token"]});
        }
        return out;
    }

    /// Acknowledges every interaction at once; returns each result, in order.
    std::vector<RestStatus> acknowledge_all(const std::vector<Interaction>& presses) {
        std::vector<RestStatus> results(presses.size());
        run([&]() -> asio::awaitable<void> {
            std::vector<std::function<asio::awaitable<void>()>> tasks;
            for (std::size_t i = 0; i < presses.size(); ++i) {
                tasks.push_back([&, i]() -> asio::awaitable<void> {
                    results[i] = co_await rest->interaction_callback(presses[i].id, presses[i].token,
                                                                     CallbackType::deferred_update_message,
                                                                     std::nullopt, {});
                });
            }
            co_await all(std::move(tasks));
        });
        return results;
    }

    /// How many times the fake saw each interaction's callback.
    std::map<std::string, int> callbacks_seen() const {
        std::map<std::string, int> seen;
        for (const auto& r : fake->requests_matching("POST /interactions/.*")) ++seen[r.path];
        return seen;
    }
};

TEST_F(RestHttp2Test, AHundredSimultaneousAcknowledgementsShareOneConnection) {
    start([](FakeDiscordOptions& o) { o.response_delay = 60ms; });
    const auto presses = interactions(100);
    const auto results = acknowledge_all(presses);
    for (const auto& r : results) EXPECT_TRUE(r) << r.error().describe();
    EXPECT_EQ(fake->connections_accepted(), 1u);
    EXPECT_EQ(fake->http2_stats().connections, 1u);
    EXPECT_EQ(fake->http2_stats().streams, 100u);
    EXPECT_EQ(callbacks_seen().size(), 100u);
    const auto stats = rest->stats().transport;
    EXPECT_EQ(stats.h2_connections, 1u);
    EXPECT_EQ(stats.h2_streams, 100u);
    EXPECT_EQ(stats.tls_full_handshakes, 1u);
}

TEST_F(RestHttp2Test, ASecondConnectionOpensOnlyWhenTheServersStreamLimitIsReached) {
    start([](FakeDiscordOptions& o) {
        o.response_delay = 60ms;
        o.http2_max_streams = 30;
    });
    const auto results = acknowledge_all(interactions(50));
    for (const auto& r : results) EXPECT_TRUE(r) << r.error().describe();
    EXPECT_EQ(fake->http2_stats().streams, 50u);
    EXPECT_GE(fake->http2_stats().connections, 1u);
    EXPECT_LE(fake->http2_stats().connections, 2u);
    EXPECT_EQ(callbacks_seen().size(), 50u);
}

TEST_F(RestHttp2Test, AnUploadLargerThanTheFlowControlWindowArrivesWhole) {
    start();
    const auto presses = interactions(1);
    std::string receipt(300 * 1024, '\0');
    for (std::size_t i = 0; i < receipt.size(); ++i) receipt[i] = static_cast<char>((i * 31 + 7) % 251);
    run([&]() -> asio::awaitable<void> {
        FileData file;
        file.filename = "receipt.png";
        file.content_type = "image/png";
        file.data = receipt;
        MessagePayload reply;
        reply.content = "your receipt";
        std::vector<FileData> files;
        files.push_back(std::move(file));
        auto r = co_await rest->interaction_callback(presses[0].id, presses[0].token,
                                                     CallbackType::channel_message, reply.to_json(),
                                                     std::move(files));
        EXPECT_TRUE(r) << r.error().describe();
    });
    const auto seen = fake->requests_matching("POST /interactions/.*");
    ASSERT_EQ(seen.size(), 1u);
    ASSERT_EQ(seen[0].files.size(), 1u);
    EXPECT_EQ(seen[0].files[0].filename, "receipt.png");
    EXPECT_TRUE(seen[0].files[0].data == receipt);
    EXPECT_EQ(seen[0].json["data"]["content"], "your receipt");
    EXPECT_EQ(fake->http2_stats().connections, 1u);
}

TEST_F(RestHttp2Test, GoawayMidBurstSendsTheUnprocessedRequestsAgainAndNothingTwice) {
    start([](FakeDiscordOptions& o) { o.response_delay = 20ms; });
    common::http::Http2Faults faults;
    faults.goaway_after = 10;
    fake->set_http2_faults(faults);
    const auto presses = interactions(40);
    const auto results = acknowledge_all(presses);
    for (const auto& r : results) EXPECT_TRUE(r) << r.error().describe();
    const auto seen = callbacks_seen();
    EXPECT_EQ(seen.size(), 40u);
    for (const auto& [path, times] : seen) EXPECT_EQ(times, 1) << path;
    EXPECT_EQ(fake->http2_stats().connections, 2u);  // the second one after the GOAWAY
    EXPECT_GT(rest->stats().transport.h2_retries, 0u);
}

TEST_F(RestHttp2Test, ARefusedStreamIsSentAgainSafely) {
    start();
    common::http::Http2Faults faults;
    faults.refuse_streams = 1;
    fake->set_http2_faults(faults);
    const auto results = acknowledge_all(interactions(1));
    ASSERT_EQ(results.size(), 1u);
    EXPECT_TRUE(results[0]) << results[0].error().describe();
    EXPECT_EQ(fake->requests_matching("POST /interactions/.*").size(), 1u);
    EXPECT_EQ(rest->stats().transport.h2_retries, 1u);
}

TEST_F(RestHttp2Test, AConnectionLostWithStreamsInFlightLeavesThemInDoubtNotSentTwice) {
    // The answers are held long enough for the connection to go first.
    start([](FakeDiscordOptions& o) { o.response_delay = 30s; });
    const auto presses = interactions(5);
    std::vector<RestStatus> results(presses.size());
    run([&]() -> asio::awaitable<void> {
        std::vector<std::function<asio::awaitable<void>()>> tasks;
        for (std::size_t i = 0; i < presses.size(); ++i) {
            tasks.push_back([&, i]() -> asio::awaitable<void> {
                results[i] = co_await rest->interaction_callback(
                    presses[i].id, presses[i].token, CallbackType::deferred_update_message, std::nullopt, {});
            });
        }
        tasks.push_back([&]() -> asio::awaitable<void> {
            EXPECT_TRUE(co_await fake->wait_for_requests("POST /interactions/.*", presses.size(), 20s));
            fake->drop_connections();
        });
        co_await all(std::move(tasks));
    });
    for (const auto& r : results) {
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, RestErrorCode::network) << r.error().describe();
        EXPECT_TRUE(r.error().request_written) << r.error().describe();  // Discord may have acted on it
    }
    const auto seen = callbacks_seen();
    EXPECT_EQ(seen.size(), presses.size());
    for (const auto& [path, times] : seen) EXPECT_EQ(times, 1) << path;
}

TEST_F(RestHttp2Test, AStreamPastItsDeadlineIsCancelledWhileTheOthersFinish) {
    start({}, 1500ms);
    const auto presses = interactions(10);
    fake->script("POST /interactions/" + presses[3].id.str() + "/.*", Scripted{.hang = true});
    const auto results = acknowledge_all(presses);
    for (std::size_t i = 0; i < results.size(); ++i) {
        if (i == 3) {
            ASSERT_FALSE(results[i]);
            EXPECT_EQ(results[i].error().code, RestErrorCode::timeout);
        } else {
            EXPECT_TRUE(results[i]) << i << ": " << results[i].error().describe();
        }
    }
    EXPECT_EQ(fake->connections_accepted(), 1u);
    // The client cancels the stream (RST_STREAM) rather than dropping the connection.
    run([&]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await eventually([&] { return fake->http2_stats().resets_received == 1; }));
    });
    // The connection is still good for the next request.
    const auto more = acknowledge_all(interactions(1));
    EXPECT_TRUE(more[0]);
    EXPECT_EQ(fake->connections_accepted(), 1u);
}

TEST_F(RestHttp2Test, AFourTwentyNineOverHttp2IsWaitedOutAndRetried) {
    start();
    fake->script(
        "POST /channels/1/messages",
        Scripted{429,
                 {{"X-RateLimit-Scope", "user"}, {"Retry-After", "1"}},
                 R"({"message": "You are being rate limited.", "retry_after": 0.2, "global": false})"});
    run([&]() -> asio::awaitable<void> {
        MessagePayload payload;
        payload.content = "x";
        auto r = co_await rest->create_message(Snowflake(1), payload);
        EXPECT_TRUE(r) << r.error().describe();
    });
    const auto sent = fake->requests_matching("POST /channels/1/messages");
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_GE(sent[1].at - sent[0].at, 200ms);
    EXPECT_EQ(rest->stats().rate_limits.invalid_requests, 1u);
    EXPECT_EQ(fake->message_count(1), 1u);
    EXPECT_EQ(fake->http2_stats().connections, 1u);
}

TEST_F(RestHttp2Test, AServerWithoutHttp2IsSpokenToOverHttp1AsBefore) {
    start([](FakeDiscordOptions& o) {
        o.http2 = false;
        o.response_delay = 20ms;
    });
    const auto results = acknowledge_all(interactions(20));
    for (const auto& r : results) EXPECT_TRUE(r) << r.error().describe();
    EXPECT_EQ(fake->http2_stats().connections, 0u);
    EXPECT_EQ(callbacks_seen().size(), 20u);
    const auto stats = rest->stats().transport;
    EXPECT_EQ(stats.h2_connections, 0u);
    EXPECT_EQ(stats.h2_streams, 0u);
    EXPECT_GE(fake->connections_accepted(), 1u);
}

}  // namespace
}  // namespace nebula::discord
