#include "discord/gateway_session.hpp"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "discord/rest.hpp"
#include "discord/test_support.hpp"
#include "fakes/discord/fake_discord.hpp"
#include "support/captured_log.hpp"
#include "support/eventually.hpp"
#include "support/tls_cert.hpp"

namespace nebula::discord {
namespace {

using nebula::testing::CapturedLog;

namespace asio = boost::asio;
using nebula::testing::eventually;
using namespace std::chrono_literals;
using fakes::discord::FakeDiscord;
using fakes::discord::FakeDiscordGateway;
using fakes::discord::FakeDiscordOptions;
using fakes::discord::GatewayFrame;
using fakes::discord::IdentifyReply;
using fakes::discord::Scripted;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

class GatewayTest : public ::testing::Test {
  protected:
    asio::io_context io;
    common::SystemClock clock;
    std::unique_ptr<FakeDiscord> fake;
    std::unique_ptr<RestClient> rest;
    std::unique_ptr<GatewaySession> client;
    std::vector<Event> events;
    std::optional<common::Status<GatewaySessionError>> result;
    bool finished = false;

    std::optional<nebula::testing::TlsCert> cert;  ///< set: the fake speaks HTTPS and wss://

    void SetUp() override { make_fake(200ms); }

    void make_fake(std::chrono::milliseconds heartbeat) {
        FakeDiscordOptions options;
        options.heartbeat_interval = heartbeat;
        if (cert) options.tls = common::http::TlsFiles{cert->cert_path, cert->key_path};
        auto created = FakeDiscord::create(io.get_executor(), options);
        ASSERT_TRUE(created) << created.error();
        fake = std::move(*created);
        RestOptions rest_options;
        rest_options.api_base = fake->api_base();
        rest_options.token = fake->options().token;
        rest_options.retry_base = 20ms;
        if (cert) rest_options.ca_file = cert->cert_path;
        auto r = RestClient::create(io.get_executor(), rest_options, clock);
        ASSERT_TRUE(r) << r.error();
        rest = std::move(*r);
    }

    void start(std::function<void(GatewaySessionOptions&)> tweak = {}) {
        GatewaySessionOptions options;
        options.token = fake->options().token;
        options.identify_spacing = 300ms;
        options.invalid_session_min = 50ms;
        options.invalid_session_max = 100ms;
        options.backoff_base = 20ms;
        options.backoff_cap = 200ms;
        options.hello_timeout = 2s;
        options.close_timeout = 500ms;
        if (tweak) tweak(options);
        auto created = GatewaySession::create(
            io.get_executor(), options, *rest, clock, [this](const Event& e) { events.push_back(e); },
            io.get_executor());
        ASSERT_TRUE(created) << created.error();
        client = std::move(*created);
        asio::co_spawn(io, client->run(),
                       [this](std::exception_ptr e, common::Status<GatewaySessionError> status) {
                           if (e) std::rethrow_exception(e);
                           result = status;
                           finished = true;
                       });
    }

    void TearDown() override {
        if (client) {
            client->stop();
            testing::drain_until(io, finished);
        }
        client.reset();
        rest.reset();
        bool stopped = false;
        fake->stop([&] { stopped = true; });
        testing::drain_until(io, stopped);
    }

    void run(std::function<asio::awaitable<void>()> body) { testing::run(io, std::move(body)); }
    FakeDiscordGateway& gateway() { return fake->gateway(); }

    std::size_t count(std::string_view name) const {
        return static_cast<std::size_t>(
            std::count_if(events.begin(), events.end(), [&](const Event& e) { return e.name == name; }));
    }

    asio::awaitable<bool> ready() {
        const std::function<bool()> ok = [this] { return count("READY") + count("RESUMED") > 0; };
        co_return co_await eventually(ok);
    }

    /// Frames of `op` sent on connection `index`.
    std::vector<GatewayFrame> frames(int op, int index) const {
        std::vector<GatewayFrame> out;
        for (const auto& f : fake->gateway().frames()) {
            if (f.op == op && f.connection == index) out.push_back(f);
        }
        return out;
    }
};

TEST_F(GatewayTest, IdentifiesWithIntentsAndHeartbeatsOnSchedule) {
    start();
    run([&]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await ready());
        const std::function<bool()> beats = [&] { return gateway().frames_with_op(1).size() >= 4; };
        EXPECT_TRUE(co_await gateway().wait_until(beats, 3s));
    });
    const auto identify = gateway().frames_with_op(2);
    ASSERT_EQ(identify.size(), 1u);
    EXPECT_EQ(identify[0].payload["d"]["intents"], 33283);
    EXPECT_EQ(identify[0].payload["d"]["token"], fake->options().token);
    EXPECT_TRUE(identify[0].payload["d"]["properties"].contains("os"));
    EXPECT_EQ(gateway().connections()[0].target, "/?v=10&encoding=json");
    const auto beats = gateway().frames_with_op(1);
    const auto opened = gateway().connections()[0].opened;
    EXPECT_LE(beats[0].at - opened, 200ms + 100ms);  // first beat: interval x random
    for (std::size_t i = 1; i < beats.size(); ++i) {
        const auto gap = beats[i].at - beats[i - 1].at;
        EXPECT_GE(gap, 180ms) << i;
        EXPECT_LE(gap, 300ms) << i;
    }
    EXPECT_EQ(beats[1].payload["d"], 1);  // the READY's sequence
    const auto& first = events.at(0);
    ASSERT_TRUE(std::holds_alternative<Ready>(first.typed));
    EXPECT_EQ(std::get<Ready>(first.typed).session_id, gateway().session_id());
    EXPECT_EQ(client->stats().state, GatewaySessionState::connected);
}

TEST_F(GatewayTest, TransportDropResumesOnTheResumeUrlAndReplaysMissedEventsOnce) {
    start();
    run([&]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await ready());
        gateway().dispatch(
            "MESSAGE_CREATE",
            json{{"id", "1"}, {"channel_id", "2"}, {"author", {{"id", "3"}}}, {"content", "a"}});
        gateway().dispatch(
            "MESSAGE_CREATE",
            json{{"id", "4"}, {"channel_id", "2"}, {"author", {{"id", "3"}}}, {"content", "b"}});
        const std::function<bool()> seen = [&] { return client->stats().seq == 3; };
        EXPECT_TRUE(co_await eventually(seen));
        gateway().drop();
        // Missed while the client is away: replayed on resume.
        gateway().dispatch(
            "MESSAGE_CREATE",
            json{{"id", "5"}, {"channel_id", "2"}, {"author", {{"id", "3"}}}, {"content", "c"}});
        gateway().dispatch("GUILD_DELETE", json{{"id", "9"}, {"unavailable", true}});
        const std::function<bool()> resumed = [&] { return count("RESUMED") == 1; };
        EXPECT_TRUE(co_await eventually(resumed));
    });
    ASSERT_EQ(gateway().connections().size(), 2u);
    EXPECT_EQ(gateway().connections()[1].target, "/resume?v=10&encoding=json");
    const auto resume = frames(6, 1);
    ASSERT_EQ(resume.size(), 1u);
    EXPECT_EQ(resume[0].payload["d"]["session_id"], gateway().session_id());
    EXPECT_EQ(resume[0].payload["d"]["seq"], 3);
    EXPECT_EQ(gateway().frames_with_op(2).size(), 1u);  // no second identify
    EXPECT_EQ(count("MESSAGE_CREATE"), 3u);             // each once
    ASSERT_GE(events.size(), 5u);
    const Event& replay = events[3];
    ASSERT_NE(replay.message(), nullptr);
    EXPECT_EQ(replay.message()->content, "c");
    const auto* outage = std::get_if<GuildDelete>(&events[4].typed);
    ASSERT_NE(outage, nullptr);
    EXPECT_TRUE(outage->unavailable);
    EXPECT_EQ(client->stats().resumes, 1u);
}

TEST_F(GatewayTest, ServerClose4000Resumes) {
    start();
    run([&]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await ready());
        gateway().close(4000);
        const std::function<bool()> resumed = [&] { return count("RESUMED") == 1; };
        EXPECT_TRUE(co_await eventually(resumed));
    });
    EXPECT_EQ(frames(6, 1).size(), 1u);
    EXPECT_EQ(gateway().frames_with_op(2).size(), 1u);
    EXPECT_EQ(client->stats().last_close_code, 4000);
}

TEST_F(GatewayTest, ReconnectOpcodeClosesWithNon1000AndResumes) {
    start();
    run([&]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await ready());
        gateway().send_reconnect();
        const std::function<bool()> resumed = [&] { return count("RESUMED") == 1; };
        EXPECT_TRUE(co_await eventually(resumed));
    });
    EXPECT_NE(gateway().connections()[0].client_close_code, 1000);
    EXPECT_NE(gateway().connections()[0].client_close_code, 0);
    EXPECT_EQ(frames(6, 1).size(), 1u);
    EXPECT_EQ(gateway().frames_with_op(2).size(), 1u);
}

TEST_F(GatewayTest, InvalidSessionFalseIdentifiesAgainOnTheCachedUrlAfterTheSpacing) {
    start();
    Clock::time_point sent;
    run([&]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await ready());
        gateway().dispatch("CHANNEL_DELETE", json{{"id", "5"}, {"type", 0}});
        sent = Clock::now();
        gateway().send_invalid_session(false);
        const std::function<bool()> two = [&] { return count("READY") == 2; };
        EXPECT_TRUE(co_await eventually(two));
    });
    const auto identifies = gateway().frames_with_op(2);
    ASSERT_EQ(identifies.size(), 2u);
    EXPECT_EQ(identifies[1].connection, 1);
    EXPECT_EQ(gateway().connections()[1].target, "/?v=10&encoding=json");  // the cached URL, not /resume
    EXPECT_GE(identifies[1].at - identifies[0].at, 295ms);                 // identify spacing
    EXPECT_GE(identifies[1].at - sent, 50ms);                              // the invalid-session wait
    EXPECT_TRUE(frames(6, 1).empty());
    EXPECT_EQ(client->stats().session_id, gateway().session_id());
    ASSERT_NE(events[1].channel(), nullptr);  // CHANNEL_DELETE typed
    EXPECT_EQ(events[1].channel()->id, Snowflake(5));
}

TEST_F(GatewayTest, InvalidSessionTrueResumes) {
    start();
    run([&]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await ready());
        gateway().send_invalid_session(true);
        const std::function<bool()> resumed = [&] { return count("RESUMED") == 1; };
        EXPECT_TRUE(co_await eventually(resumed));
    });
    EXPECT_EQ(gateway().frames_with_op(2).size(), 1u);
    EXPECT_EQ(gateway().frames_with_op(6).size(), 1u);
}

TEST_F(GatewayTest, ExpiredSessionFallsBackToIdentify) {
    start();
    run([&]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await ready());
        gateway().expire_session();
        gateway().drop();
        const std::function<bool()> two = [&] { return count("READY") == 2; };
        EXPECT_TRUE(co_await eventually(two));
    });
    EXPECT_EQ(gateway().frames_with_op(6).size(), 1u);  // tried, answered op 9 d:false
    EXPECT_EQ(gateway().frames_with_op(2).size(), 2u);
}

TEST_F(GatewayTest, ZombieConnectionIsDroppedWithoutCloseFrameAndResumed) {
    start();
    Clock::time_point withheld;
    run([&]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await ready());
        gateway().set_acks(false);
        withheld = Clock::now();
        const std::function<bool()> reconnected = [&] { return gateway().connections().size() == 2; };
        EXPECT_TRUE(co_await gateway().wait_until(reconnected, 3s));
        gateway().set_acks(true);
        const std::function<bool()> resumed = [&] { return count("RESUMED") == 1; };
        EXPECT_TRUE(co_await eventually(resumed));
    });
    EXPECT_LE(gateway().connections()[1].opened - withheld, 3 * 200ms + 300ms);  // within about two intervals
    EXPECT_EQ(gateway().connections()[0].client_close_code, 0);  // dropped, no close frame (never 1000)
    EXPECT_EQ(client->stats().zombies, 1u);
    EXPECT_EQ(frames(6, 1).size(), 1u);
}

TEST_F(GatewayTest, HeartbeatRequestIsAnsweredAtOnceWithTheCurrentSequence) {
    gateway().set_heartbeat_interval(10s);  // a scheduled beat cannot be mistaken for the answer
    start();
    Clock::time_point asked;
    run([&]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await ready());
        gateway().dispatch("CHANNEL_DELETE", json{{"id", "5"}, {"type", 0}});
        const std::function<bool()> seen = [&] { return client->stats().seq == 2; };
        EXPECT_TRUE(co_await eventually(seen));
        const auto before = gateway().frames_with_op(1).size();
        asked = Clock::now();
        gateway().request_heartbeat();
        const std::function<bool()> answered = [&] { return gateway().frames_with_op(1).size() > before; };
        EXPECT_TRUE(co_await gateway().wait_until(answered, 2s));
    });
    const auto beat = gateway().frames_with_op(1).back();
    EXPECT_LT(beat.at - asked, 500ms);
    EXPECT_EQ(beat.payload["d"], 2);
}

class FatalClose : public GatewayTest, public ::testing::WithParamInterface<int> {};

TEST_P(FatalClose, StopsWithAnActionableErrorAndNeverReconnects) {
    gateway().on_identify(IdentifyReply::close, static_cast<std::uint16_t>(GetParam()));
    start();
    testing::drain_until(io, finished, 5000ms);
    ASSERT_TRUE(finished);
    ASSERT_TRUE(result.has_value());
    ASSERT_FALSE(*result);
    EXPECT_EQ(result->error().close_code, GetParam());
    EXPECT_FALSE(result->error().message.empty());
    if (GetParam() == 4014) {
        // The product asks for Server Members and Message Content: both named, nothing else.
        EXPECT_NE(result->error().message.find("Server Members Intent and Message Content Intent"),
                  std::string::npos)
            << result->error().message;
        EXPECT_EQ(result->error().message.find("Presence"), std::string::npos);
        EXPECT_NE(result->error().message.find("Developer Portal"), std::string::npos);
    }
    EXPECT_EQ(gateway().frames_with_op(2).size(), 1u);
    EXPECT_EQ(gateway().connections().size(), 1u);
    EXPECT_EQ(client->stats().state, GatewaySessionState::fatal);
}

INSTANTIATE_TEST_SUITE_P(Codes, FatalClose, ::testing::Values(4004, 4010, 4011, 4012, 4013, 4014));

TEST_F(GatewayTest, DisallowedIntentsNameExactlyThePrivilegedIntentsAskedFor) {
    gateway().on_identify(IdentifyReply::close, 4014);
    start([](GatewaySessionOptions& o) { o.intents = intents::kGuilds | intents::kMessageContent; });
    testing::drain_until(io, finished, 5000ms);
    ASSERT_TRUE(finished);
    ASSERT_TRUE(result.has_value());
    ASSERT_FALSE(*result);
    const auto& message = result->error().message;
    EXPECT_NE(message.find("privileged Message Content Intent;"), std::string::npos) << message;
    EXPECT_EQ(message.find("Server Members"), std::string::npos) << message;
}

TEST_F(GatewayTest, ExhaustedIdentifyBudgetWaitsForResetAndNeverBurnsIdentifies) {
    fake->set_session_start_limit(1000, 0, 600ms);
    start();
    run([&]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await fake->wait_for_requests("GET /gateway/bot", 1, 2s));
        fake->set_session_start_limit(1000, 999, 0ms);  // Discord resets the budget
        EXPECT_TRUE(co_await ready());
    });
    const auto discovery = fake->requests_matching("GET /gateway/bot");
    ASSERT_EQ(discovery.size(), 2u);
    const auto identifies = gateway().frames_with_op(2);
    ASSERT_EQ(identifies.size(), 1u);
    EXPECT_GE(identifies[0].at - discovery[0].at, 600ms);
}

TEST_F(GatewayTest, RepeatedSessionFailuresSpaceIdentifies) {
    gateway().on_identify(IdentifyReply::close, 4009, 3);  // session timed out, three times
    start();
    run([&]() -> asio::awaitable<void> { EXPECT_TRUE(co_await ready()); });
    const auto identifies = gateway().frames_with_op(2);
    ASSERT_EQ(identifies.size(), 4u);
    for (std::size_t i = 1; i < identifies.size(); ++i)
        EXPECT_GE(identifies[i].at - identifies[i - 1].at, 295ms) << i;  // less loopback jitter
    EXPECT_TRUE(gateway().frames_with_op(6).empty());
}

TEST_F(GatewayTest, OutboundFloodStaysUnderTheLimitAndHeartbeatsContinue) {
    start([](GatewaySessionOptions& o) {
        o.send_limit = 20;
        o.send_window = 1000ms;
        o.heartbeat_reserve = 5;
    });
    run([&]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await ready());
        const json presence = {
            {"op", 3},
            {"d", {{"since", nullptr}, {"activities", json::array()}, {"status", "online"}, {"afk", false}}}};
        for (int i = 0; i < 40; ++i) EXPECT_TRUE(client->send(presence));
        const json huge = {{"op", 3}, {"d", std::string(5000, 'x')}};
        EXPECT_FALSE(client->send(huge));
        const std::function<bool()> all = [&] { return gateway().frames_with_op(3).size() == 40; };
        EXPECT_TRUE(co_await gateway().wait_until(all, 6s));
    });
    const auto& received = gateway().frames();
    for (std::size_t i = 0; i < received.size(); ++i) {
        std::size_t in_window = 0;
        for (std::size_t j = i; j < received.size() && received[j].at - received[i].at < 1000ms - 100ms; ++j)
            ++in_window;
        EXPECT_LE(in_window, 20u) << "at frame " << i;
    }
    EXPECT_EQ(client->stats().zombies, 0u);
    EXPECT_EQ(gateway().connections().size(), 1u);
    EXPECT_GE(gateway().frames_with_op(1).size(), 8u);  // heartbeats kept flowing during the flood
}

TEST_F(GatewayTest, OutageRecoversWithBackoffAndOneIdentify) {
    fake->script("GET /gateway/bot", Scripted{503, {}, R"({"message": "unavailable"})"}, 2);
    gateway().refuse_connections(2);
    start();
    run([&]() -> asio::awaitable<void> { EXPECT_TRUE(co_await ready()); });
    EXPECT_EQ(fake->requests_matching("GET /gateway/bot").size(), 3u);
    EXPECT_EQ(client->stats().connections, 3u);
    EXPECT_EQ(gateway().frames_with_op(2).size(), 1u);
}

TEST_F(GatewayTest, KeepsHeartbeatingWhileReadyIsWithheld) {
    gateway().on_identify(IdentifyReply::nothing);
    start();
    run([&]() -> asio::awaitable<void> {
        const std::function<bool()> beats = [&] { return gateway().frames_with_op(1).size() >= 4; };
        EXPECT_TRUE(co_await gateway().wait_until(beats, 3s));
    });
    EXPECT_EQ(gateway().connections().size(), 1u);
    EXPECT_EQ(gateway().frames_with_op(2).size(), 1u);
    EXPECT_EQ(gateway().frames_with_op(1)[0].payload["d"], nullptr);  // no sequence yet
}

TEST_F(GatewayTest, DispatchesTypedInteractionsAndMessages) {
    start();
    run([&]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await ready());
        fake->inject_interaction(2, 4242, {77, 78}, json{{"id", "1"}, {"name", "buy"}, {"type", 1}});
        gateway().dispatch("INTERACTION_CREATE", json{{"id", "x"}});  // malformed: delivered with an error
        gateway().dispatch(
            "GUILD_MEMBER_UPDATE",
            json{{"guild_id", "1"}, {"user", {{"id", "4242"}}}, {"roles", json::array({"77"})}});
        const std::function<bool()> got = [&] { return events.size() == 4; };
        EXPECT_TRUE(co_await eventually(got));
    });
    const Interaction* interaction = events[1].interaction();
    ASSERT_NE(interaction, nullptr);
    EXPECT_EQ(interaction->user.id, Snowflake(4242));
    EXPECT_TRUE(interaction->member->has_role(Snowflake(78)));
    EXPECT_EQ(interaction->command()->name, "buy");
    EXPECT_TRUE(events[2].error.has_value());
    const auto* update = std::get_if<GuildMemberUpdate>(&events[3].typed);
    ASSERT_NE(update, nullptr);
    EXPECT_EQ(update->roles.size(), 1u);
}

TEST_F(GatewayTest, StopClosesWith1000OrKeepsTheSessionWith4000) {
    start();
    run([&]() -> asio::awaitable<void> { EXPECT_TRUE(co_await ready()); });
    client->stop();
    testing::drain_until(io, finished);
    ASSERT_TRUE(finished);
    EXPECT_TRUE(*result);
    run([&]() -> asio::awaitable<void> {
        const std::function<bool()> closed = [&] { return !gateway().connections()[0].open; };
        EXPECT_TRUE(co_await gateway().wait_until(closed, 2s));
    });
    EXPECT_EQ(gateway().connections()[0].client_close_code, 1000);

    finished = false;
    events.clear();
    start();
    run([&]() -> asio::awaitable<void> { EXPECT_TRUE(co_await ready()); });
    client->stop(true);
    testing::drain_until(io, finished);
    run([&]() -> asio::awaitable<void> {
        const std::function<bool()> closed = [&] { return !gateway().connections()[1].open; };
        EXPECT_TRUE(co_await gateway().wait_until(closed, 2s));
    });
    EXPECT_EQ(gateway().connections()[1].client_close_code, 4000);
}

TEST_F(GatewayTest, MultiMegabyteDispatchIsDecoded) {
    // Parsing megabytes (slow under sanitizers) must not starve the 200 ms test heartbeat.
    gateway().set_heartbeat_interval(5s);
    start();
    const std::string big(3 * 1024 * 1024, 'g');
    run([&]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await ready());
        gateway().dispatch("GUILD_CREATE", json{{"id", "1"}, {"name", "big"}, {"padding", big}});
        const std::function<bool()> got = [&] { return count("GUILD_CREATE") == 1; };
        EXPECT_TRUE(co_await eventually(got));
    });
    EXPECT_EQ(events.back().data["padding"].get<std::string>().size(), big.size());
    EXPECT_EQ(gateway().connections().size(), 1u);
}

/// The fake Discord as the real one is reached: REST over HTTPS and the gateway over wss://, with a
/// throw-away certificate the client trusts through its CA file.
class SecureGatewayTest : public GatewayTest {
  protected:
    void SetUp() override {
        cert.emplace();
        make_fake(200ms);
    }
    void start_trusting() {
        start([this](GatewaySessionOptions& o) { o.ca_file = cert->cert_path; });
    }
};

TEST_F(SecureGatewayTest, ConnectsOverWssIdentifiesAndAnswersAnInteraction) {
    EXPECT_EQ(gateway().url().rfind("wss://127.0.0.1:", 0), 0u) << gateway().url();
    start_trusting();
    const std::optional<json> answer = json{{"content", "hello"}};
    run([&]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await ready());
        fake->inject_interaction(2, 4242, {77}, json{{"id", "1"}, {"name", "buy"}, {"type", 1}});
        const std::function<bool()> got = [&] { return count("INTERACTION_CREATE") == 1; };
        EXPECT_TRUE(co_await eventually(got));
        const Event* event = nullptr;
        for (const auto& e : events) {
            if (e.name == "INTERACTION_CREATE") event = &e;
        }
        if (event == nullptr || event->interaction() == nullptr) co_return;
        const Interaction& interaction = *event->interaction();
        const auto answered = co_await rest->interaction_callback(interaction.id, interaction.token,
                                                                  CallbackType::channel_message, answer,
                                                                  std::vector<FileData>());
        EXPECT_TRUE(answered);
    });
    // The upgrade went over TLS: the fake read Identify on its only connection.
    ASSERT_EQ(gateway().connections().size(), 1u);
    EXPECT_EQ(gateway().connections()[0].target, "/?v=10&encoding=json");
    EXPECT_EQ(gateway().tls_failures(), 0u);
    const auto identify = gateway().frames_with_op(2);
    ASSERT_EQ(identify.size(), 1u);
    EXPECT_EQ(identify[0].payload["d"]["token"], fake->options().token);
    const auto* ready_event = std::get_if<Ready>(&events.at(0).typed);
    ASSERT_NE(ready_event, nullptr);
    EXPECT_EQ(ready_event->resume_gateway_url.rfind("wss://127.0.0.1:", 0), 0u)
        << ready_event->resume_gateway_url;
    const auto callbacks = fake->requests_matching("POST /interactions/.*/callback");
    ASSERT_EQ(callbacks.size(), 1u);
    EXPECT_EQ(callbacks[0].status, 204);
    EXPECT_EQ(callbacks[0].json["data"]["content"], "hello");
}

TEST_F(SecureGatewayTest, AClientThatDoesNotTrustTheCertificateIsRefusedAndNeverFallsBackToPlainWs) {
    CapturedLog log;
    // The system's CA store: the fake's throw-away certificate is not in it.
    start();
    run([&]() -> asio::awaitable<void> {
        // Two refusals: the client tried again, over TLS again.
        const std::function<bool()> refused = [&] { return gateway().tls_failures() >= 2; };
        EXPECT_TRUE(co_await gateway().wait_until(refused, 30s));
    });
    EXPECT_TRUE(gateway().connections().empty());  // no websocket upgrade, over TLS or not
    EXPECT_TRUE(gateway().frames().empty());
    EXPECT_EQ(client->stats().identifies, 0u);
    EXPECT_NE(client->stats().state, GatewaySessionState::connected);
    const std::string logged = log.str();
    EXPECT_NE(
        logged.find("warning discord gateway: cannot connect: TLS handshake: certificate verify failed"),
        std::string::npos)
        << logged;
}

TEST_F(SecureGatewayTest, ATransportDropResumesOverWssAndReplaysMissedEvents) {
    start_trusting();
    run([&]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await ready());
        gateway().dispatch(
            "MESSAGE_CREATE",
            json{{"id", "1"}, {"channel_id", "2"}, {"author", {{"id", "3"}}}, {"content", "a"}});
        const std::function<bool()> seen = [&] { return client->stats().seq == 2; };
        EXPECT_TRUE(co_await eventually(seen));
        gateway().drop();
        gateway().dispatch(
            "MESSAGE_CREATE",
            json{{"id", "4"}, {"channel_id", "2"}, {"author", {{"id", "3"}}}, {"content", "b"}});
        const std::function<bool()> resumed = [&] { return count("RESUMED") == 1; };
        EXPECT_TRUE(co_await eventually(resumed));
    });
    ASSERT_EQ(gateway().connections().size(), 2u);
    EXPECT_EQ(gateway().connections()[1].target, "/resume?v=10&encoding=json");
    EXPECT_EQ(gateway().tls_failures(), 0u);
    const auto resume = frames(6, 1);
    ASSERT_EQ(resume.size(), 1u);
    EXPECT_EQ(resume[0].payload["d"]["session_id"], gateway().session_id());
    EXPECT_EQ(resume[0].payload["d"]["seq"], 2);
    EXPECT_EQ(gateway().frames_with_op(2).size(), 1u);  // no second identify
    EXPECT_EQ(count("MESSAGE_CREATE"), 2u);
    EXPECT_EQ(client->stats().resumes, 1u);
}

}  // namespace
}  // namespace nebula::discord
