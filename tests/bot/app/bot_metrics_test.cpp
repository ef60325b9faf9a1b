// The whole nebula-bot in-process against the fake Discord, with its metrics served on a real
// loopback port: a 429 at start-up, an interaction and a dropped gateway connection each show up
// in the scrape.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bot/app/bot.hpp"
#include "bot/app/bot_metrics.hpp"
#include "bot/db/migrations.hpp"
#include "bot/support/bot_harness.hpp"
#include "bot/support/test_database.hpp"
#include "common/http_client.hpp"
#include "discord/test_support.hpp"
#include "fakes/discord/fake_discord.hpp"
#include "support/eventually.hpp"

namespace nebula::bot::app {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using nebula::testing::until;

constexpr std::uint64_t kCustomer = testing::shop::kCustomer;

class BotMetricsWiring : public ::testing::Test {
  protected:
    void SetUp() override {
        database_ = testing::TestDatabase::create(db::Backend::sqlite);
        ASSERT_TRUE(db::migrate(*database_->connect()));
        auto fake = testing::start_fake_discord(io_);
        ASSERT_TRUE(fake) << fake.error();
        discord_ = std::move(*fake);
        discord_->add_member(testing::shop::kGuild, kCustomer, {});

        auto config = testing::bot_config(*discord_, database_->url(), database_->directory() / "data");
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

    common::SystemClock clock_;
    asio::io_context io_;
    std::unique_ptr<testing::TestDatabase> database_;
    std::unique_ptr<fakes::discord::FakeDiscord> discord_;
    testing::RunningBot bot_{io_};
};

TEST_F(BotMetricsWiring, RateLimitsInteractionsAndReconnectsAreScraped) {
    discord_->script("GET /users/@me", fakes::discord::Scripted{
                                           429,
                                           {{"X-RateLimit-Scope", "user"}},
                                           R"({"message": "You are being rate limited.", "retry_after": 0.05,
                                                  "global": false})"});
    bot_.start();
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await bot_.connected(*discord_)) << bot_.error();

        const auto before = bot_->dispatcher().completed();
        discord_->inject_interaction(3, kCustomer, {},
                                     {{"custom_id", "no-such-button"}, {"component_type", 2}});
        co_await until([&] { return bot_->dispatcher().completed() > before; });

        const auto connections = discord_->gateway().connections().size();
        discord_->gateway().drop();
        co_await until([&] {
            return discord_->gateway().connections().size() > connections && bot_->started() &&
                   !discord_->gateway().frames_with_op(6).empty();
        });

        const std::string text = co_await scrape();
        auto has = [&](const std::string& line) { return text.find(line + "\n") != std::string::npos; };
        EXPECT_TRUE(has("nebula_bot_interactions_total{type=\"message_component\"} 1")) << text;
        EXPECT_TRUE(has("nebula_bot_discord_rate_limited_total 1")) << text;
        EXPECT_TRUE(has("nebula_bot_discord_gateway_reconnects_total 1")) << text;
        EXPECT_TRUE(has("nebula_bot_orders{status=\"awaiting_payment\"} 0")) << text;
        // The scheduler's jobs are there from the start, each with its own series.
        EXPECT_TRUE(has("nebula_bot_job_runs_total{job=\"backup\",result=\"ok\"} 0")) << text;
        EXPECT_TRUE(has("nebula_bot_job_running{job=\"expiry\"} 0")) << text;
    });
}

}  // namespace
}  // namespace nebula::bot::app
