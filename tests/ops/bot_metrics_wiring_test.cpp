// The whole nebula-bot in-process against the fake Discord, with its metrics served on a real
// loopback port: a 429 at start-up, an interaction and a dropped gateway connection each show up
// in the scrape.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bot/app/bot.hpp"
#include "bot/app/bot_metrics.hpp"
#include "bot/db/migrations.hpp"
#include "bot/support/test_database.hpp"
#include "common/http_client.hpp"
#include "discord/test_support.hpp"
#include "fakes/discord/fake_discord.hpp"

namespace nebula::bot::app {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

constexpr std::uint64_t kGuild = 800000000000000001ULL;
constexpr std::uint64_t kCustomer = 830000000000000001ULL;

class BotMetricsWiring : public ::testing::Test {
  protected:
    void SetUp() override {
        database_ = testing::TestDatabase::create(db::Backend::sqlite);
        ASSERT_TRUE(db::migrate(*database_->connect()));
        auto fake = fakes::discord::FakeDiscord::create(io_.get_executor());
        ASSERT_TRUE(fake) << fake.error();
        discord_ = std::move(*fake);
        discord_->add_member(kGuild, kCustomer, {});

        BotConfig config;
        config.discord_token = discord_->options().token;
        config.discord_api_base = discord_->api_base();
        config.discord_gateway_url = discord_->gateway().url();
        config.database = database_->url();
        config.db_threads = 1;
        // Never called in this test: the default server only has to be valid.
        config.default_server = {
            "https://127.0.0.1:9", std::string(40, 'k'), "", "Default", "Default", 1, 100};
        config.shop.application_id = discord::Snowflake(discord_->options().application_id);
        config.shop.guild_id = discord::Snowflake(kGuild);
        config.shop.admin_role_id = discord::Snowflake(810000000000000001ULL);
        config.shop.review_channel_id = discord::Snowflake(820000000000000001ULL);
        config.shop.billing_channel_id = discord::Snowflake(820000000000000002ULL);
        config.shop.main_panel_channel_id = discord::Snowflake(820000000000000003ULL);
        config.shop.orders_category_id = discord::Snowflake(820000000000000004ULL);
        config.shop.data_dir = database_->directory() / "data";
        auto created = Bot::create(io_.get_executor(), std::move(config), clock_, nullptr);
        ASSERT_TRUE(created) << created.error();
        bot_ = std::move(*created);
        auto served = bot_->metrics().serve(io_.get_executor(), "127.0.0.1", 0);
        ASSERT_TRUE(served) << served.error();
    }

    void TearDown() override {
        if (bot_ && started_) {
            bot_->stop();
            discord::testing::drain_until(io_, run_done_, 60000ms);
            if (!run_done_) {
                ADD_FAILURE() << "the bot did not stop within 60 s";
                (void)bot_.release();
            }
        }
        bot_.reset();
        if (discord_) discord_->stop();
        io_.restart();
        io_.run_for(200ms);
        discord_.reset();
    }

    void start() {
        started_ = true;
        asio::co_spawn(io_, bot_->run(), [this](std::exception_ptr error, Status<std::string> status) {
            run_error_ = error ? "exception" : (status ? "" : status.error());
            run_done_ = true;
        });
    }

    asio::awaitable<void> until(std::function<bool()> predicate, std::chrono::milliseconds limit = 15000ms) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        asio::steady_timer timer(io_);
        while (!predicate()) {
            if (std::chrono::steady_clock::now() > deadline)
                throw std::runtime_error("condition not reached");
            timer.expires_after(5ms);
            co_await timer.async_wait(asio::use_awaitable);
        }
    }

    asio::awaitable<std::string> scrape() {
        http::ClientOptions o;
        o.base = *http::Url::parse("http://127.0.0.1:" + std::to_string(bot_->metrics().port()));
        auto client = std::move(*http::Client::create(io_.get_executor(), o));
        http::Request r;
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
    std::unique_ptr<Bot> bot_;
    bool started_ = false;
    bool run_done_ = false;
    std::string run_error_;
};

TEST_F(BotMetricsWiring, RateLimitsInteractionsAndReconnectsAreScraped) {
    discord_->script("GET /users/@me", fakes::discord::Scripted{
                                           429,
                                           {{"X-RateLimit-Scope", "user"}},
                                           R"({"message": "You are being rate limited.", "retry_after": 0.05,
                                                  "global": false})"});
    start();
    discord::testing::run(io_, [this]() -> asio::awaitable<void> {
        co_await until([this] { return !discord_->gateway().session_id().empty() || run_done_; });
        EXPECT_FALSE(run_done_) << run_error_;

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
