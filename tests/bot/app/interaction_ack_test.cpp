// A customer's press is acknowledged even when Discord cannot be reached for a moment, and a press
// that cannot be acknowledged leaves a warning with its cause and a count in /metrics. The whole
// nebula-bot runs in-process against the fake Discord over HTTPS and WSS (a throw-away certificate
// the bot trusts through DISCORD_CA_FILE).
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include <boost/asio/io_context.hpp>

#include "bot/app/bot.hpp"
#include "bot/app/bot_metrics.hpp"
#include "bot/db/migrations.hpp"
#include "bot/support/bot_harness.hpp"
#include "bot/support/test_database.hpp"
#include "common/http_client.hpp"
#include "discord/test_support.hpp"
#include "fakes/discord/fake_discord.hpp"
#include "support/captured_log.hpp"
#include "support/eventually.hpp"
#include "support/tls_cert.hpp"

namespace nebula::bot::app {
namespace {

using nebula::testing::CapturedLog;

namespace asio = boost::asio;
using namespace std::chrono_literals;
using nebula::testing::until;

constexpr std::uint64_t kCustomer = testing::shop::kCustomer;
constexpr const char* kCallbacks = "POST /interactions/.*/callback";

class InteractionAcknowledgement : public ::testing::Test {
  protected:
    void SetUp() override {
        database_ = testing::TestDatabase::create(db::Backend::sqlite);
        ASSERT_TRUE(db::migrate(*database_->connect()));
        fakes::discord::FakeDiscordOptions options;
        options.tls = common::http::TlsFiles{cert_.cert_path, cert_.key_path};
        auto fake = fakes::discord::FakeDiscord::create(io_.get_executor(), options);
        ASSERT_TRUE(fake) << fake.error();
        discord_ = std::move(*fake);
        discord_->add_member(testing::shop::kGuild, kCustomer, {});

        auto config = testing::bot_config(*discord_, database_->url(), database_->directory() / "data");
        config.discord_ca_file = cert_.cert_path;
        config.db_threads = 1;
        auto created = bot_.create(std::move(config), clock_);
        ASSERT_TRUE(created) << created.error();
        auto served = bot_->metrics().serve(io_.get_executor(), "127.0.0.1", 0);
        ASSERT_TRUE(served) << served.error();
    }

    void TearDown() override {
        bot_.shut_down();
        if (discord_) discord_->stop();
        io_.restart();
        io_.run_for(200ms);
        discord_.reset();
    }

    /// The customer presses Help on the shop panel.
    void press_help() {
        discord_->inject_interaction(3, kCustomer, {}, {{"custom_id", "panel:help"}, {"component_type", 2}});
    }

    /// Interaction responses that failed with `cause`, as the bot counted them.
    std::uint64_t failures(const std::string& cause) {
        const auto stats = bot_->context().rest.stats();
        const auto it = stats.interaction_failures.find(cause);
        return it == stats.interaction_failures.end() ? 0 : it->second;
    }

    asio::awaitable<std::string> scrape() {
        common::http::ClientOptions o;
        o.base = *common::http::Url::parse("http://127.0.0.1:" + std::to_string(bot_->metrics().port()));
        auto client = std::move(*common::http::Client::create(io_.get_executor(), o));
        common::http::Request r;
        r.method = "GET";
        r.target = "/metrics";
        auto response = co_await client->send(std::move(r));
        if (!response || response->status != 200) throw std::runtime_error("scrape failed");
        co_return response->body;
    }

    static bool has(const std::string& text, const std::string& line) {
        return text.find(line + "\n") != std::string::npos;
    }

    nebula::testing::TlsCert cert_;
    common::SystemClock clock_;
    asio::io_context io_;
    std::unique_ptr<testing::TestDatabase> database_;
    std::unique_ptr<fakes::discord::FakeDiscord> discord_;
    testing::RunningBot bot_{io_};
};

TEST_F(InteractionAcknowledgement, ACallbackRefusedBeforeTheHandshakeIsSentAgainAndTheCustomerSeesTheAnswer) {
    bot_.start();
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await bot_.connected(*discord_)) << bot_.error();
        // Discord is unreachable for the first connection the answer needs.
        discord_->refuse_connections(1);
        press_help();
        co_await until([&] {
            const auto answered = discord_->requests_matching(kCallbacks);
            return !answered.empty() && answered[0].status != 0;
        });

        const auto callbacks = discord_->requests_matching(kCallbacks);
        EXPECT_EQ(callbacks.size(), 1U);
        if (callbacks.empty()) co_return;
        EXPECT_EQ(callbacks[0].status / 100, 2);
        EXPECT_EQ(callbacks[0].json["type"], 4);  // the help text itself, not a late defer
        const std::string text = co_await scrape();
        EXPECT_TRUE(has(text, "nebula_bot_interaction_response_resends_total 1")) << text;
        EXPECT_EQ(text.find("nebula_bot_interaction_response_failures_total{"), std::string::npos) << text;
    });
}

TEST_F(InteractionAcknowledgement, AnswersGoAsHttp2StreamsAndTheMetricsCountThem) {
    bot_.start();
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await bot_.connected(*discord_)) << bot_.error();
        press_help();
        co_await until([&] {
            const auto answered = discord_->requests_matching(kCallbacks);
            return !answered.empty() && answered[0].status != 0;
        });
        EXPECT_EQ(discord_->requests_matching(kCallbacks).at(0).status / 100, 2);
        // Discord (the fake) offers HTTP/2 over TLS: the bot takes it, and /metrics says so.
        const auto served = discord_->http2_stats();
        EXPECT_GE(served.connections, 1U);
        EXPECT_EQ(served.connections, discord_->connections_accepted());
        const auto transport = bot_->context().rest.stats().transport;
        EXPECT_GE(transport.h2_connections, 1U);
        EXPECT_GE(transport.h2_streams, 1U);
        // Counted as they happen (the bot's jobs may send more meanwhile): at least these.
        const std::string text = co_await scrape();
        const auto value = [&](const std::string& name) {
            const auto at = text.find("\n" + name + " ");
            return at == std::string::npos ? -1.0 : std::stod(text.substr(at + name.size() + 2));
        };
        EXPECT_GE(value("nebula_bot_discord_http2_connections_total"), 1.0) << text;
        EXPECT_GE(value("nebula_bot_discord_http2_streams_total"), 1.0) << text;
        EXPECT_GE(value("nebula_bot_discord_rest_connections_total"), 1.0) << text;
    });
}

TEST_F(InteractionAcknowledgement, ACallbackThatNeverGetsThroughIsLoggedAndCountedWithItsCause) {
    CapturedLog log;
    bot_.start();
    discord::testing::run(io_, [this, &log]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await bot_.connected(*discord_)) << bot_.error();
        // Unreachable for longer than Discord's 3 s window: the bot keeps trying until then.
        discord_->refuse_connections(1'000'000);
        press_help();
        co_await until([&] { return failures("tls") > 0; });
        discord_->refuse_connections(0);

        EXPECT_TRUE(discord_->requests_matching(kCallbacks).empty());
        const std::string logged = log.str();
        EXPECT_NE(logged.find("warning discord: interaction"), std::string::npos) << logged;
        EXPECT_NE(logged.find("reply failed, cause tls"), std::string::npos) << logged;
        const std::string text = co_await scrape();
        EXPECT_TRUE(has(text, "nebula_bot_interaction_response_failures_total{cause=\"tls\"} 1")) << text;
    });
}

TEST_F(InteractionAcknowledgement, AnErrorAnswerFromDiscordIsLoggedAndCountedNotSentAgain) {
    CapturedLog log;
    bot_.start();
    discord::testing::run(io_, [this, &log]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await bot_.connected(*discord_)) << bot_.error();
        discord_->script(kCallbacks, fakes::discord::Scripted{500, {}, R"({"message": "oops", "code": 0})"});
        press_help();
        co_await until([&] { return failures("status") > 0; });

        // Discord saw the request: sending it again could answer twice.
        EXPECT_EQ(discord_->requests_matching(kCallbacks).size(), 1U);
        const std::string logged = log.str();
        EXPECT_NE(logged.find("reply failed, cause status"), std::string::npos) << logged;
        const std::string text = co_await scrape();
        EXPECT_TRUE(has(text, "nebula_bot_interaction_response_failures_total{cause=\"status\"} 1")) << text;
        EXPECT_TRUE(has(text, "nebula_bot_interaction_response_resends_total 0")) << text;
    });
}

TEST_F(InteractionAcknowledgement, APressReachesTheBotOverWssAndIsAnsweredOverHttps) {
    bot_.start();
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await bot_.connected(*discord_)) << bot_.error();
        press_help();
        co_await until([&] {
            const auto answered = discord_->requests_matching(kCallbacks);
            return !answered.empty() && answered[0].status != 0;
        });
    });
    // The gateway session the bot holds is the one wss:// offers; nothing went over plain ws://.
    EXPECT_EQ(discord_->gateway().url().rfind("wss://", 0), 0U) << discord_->gateway().url();
    ASSERT_FALSE(discord_->gateway().connections().empty());
    EXPECT_EQ(discord_->gateway().tls_failures(), 0U);
    EXPECT_EQ(discord_->gateway().frames_with_op(2).size(), 1U);  // identified over TLS
    const auto callbacks = discord_->requests_matching(kCallbacks);
    ASSERT_EQ(callbacks.size(), 1U);
    EXPECT_EQ(callbacks[0].status, 204);
    EXPECT_EQ(callbacks[0].json["type"], 4);  // the help text
}

}  // namespace
}  // namespace nebula::bot::app
