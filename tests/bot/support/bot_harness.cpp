#include "bot/support/bot_harness.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>

#include "bot/db/migrations.hpp"
#include "discord/test_support.hpp"
#include "support/eventually.hpp"

namespace nebula::bot::testing {

namespace asio = boost::asio;
using namespace std::chrono_literals;

common::Result<std::unique_ptr<fakes::discord::FakeDiscord>, std::string> start_fake_discord(
    asio::io_context& io) {
    auto created = fakes::discord::FakeDiscord::create(io.get_executor());
    if (!created) return common::unexpected(created.error());
    return std::move(*created);
}

core::ShopSettings shop_settings(const fakes::discord::FakeDiscord& discord, std::filesystem::path data_dir) {
    core::ShopSettings shop;
    shop.application_id = discord::Snowflake(discord.options().application_id);
    shop.guild_id = discord::Snowflake(shop::kGuild);
    shop.admin_role_id = discord::Snowflake(shop::kAdminRole);
    shop.subscriber_role_id = discord::Snowflake(shop::kSubscriberRole);
    shop.review_channel_id = discord::Snowflake(shop::kReviewChannel);
    shop.billing_channel_id = discord::Snowflake(shop::kBillingChannel);
    shop.main_panel_channel_id = discord::Snowflake(shop::kPanelChannel);
    shop.orders_category_id = discord::Snowflake(shop::kOrdersCategory);
    shop.data_dir = std::move(data_dir);
    return shop;
}

app::BotConfig bot_config(fakes::discord::FakeDiscord& discord, db::DatabaseUrl database,
                          std::filesystem::path data_dir) {
    app::BotConfig config;
    config.discord_token = discord.options().token;
    config.discord_api_base = discord.api_base();
    config.discord_gateway_url = discord.gateway().url();
    config.discord_cdn_hosts = {"127.0.0.1"};
    config.database = std::move(database);
    config.db_threads = 2;
    config.default_server = {"https://127.0.0.1:9", std::string(40, 'k'), "", "Default", "Default", 1, 100};
    config.shop = shop_settings(discord, std::move(data_dir));
    return config;
}

void BotGraph::build(db::Backend backend, domain::GatewayDirectory& gateways) {
    auto fake = start_fake_discord(io_);
    ASSERT_TRUE(fake) << fake.error();
    fake_ = std::move(*fake);
    discord::RestOptions rest_options;
    rest_options.api_base = fake_->api_base();
    rest_options.token = fake_->options().token;
    auto rest = discord::RestClient::create(io_.get_executor(), rest_options, system_clock_);
    ASSERT_TRUE(rest) << rest.error();
    rest_ = std::move(*rest);

    database_ = TestDatabase::create(backend);
    {
        auto connection = database_->connect();
        auto applied = db::migrate(*connection);
        ASSERT_TRUE(applied.has_value()) << applied.error().message;
    }
    auto executor = db::DbExecutor::open(database_->url(), 2);
    ASSERT_TRUE(executor) << executor.error();
    db_ = std::move(*executor);

    shop_ = shop_settings(*fake_, database_->directory() / "data");
    shop_.bot_user_id = discord::Snowflake(fake_->options().bot_user_id);
    domain::OrderOptions order_options;
    order_options.data_directory = shop_.data_dir;
    orders_ = std::make_unique<domain::OrderService>(clock_, order_options);
    provisioner_ = std::make_unique<domain::Provisioner>(*db_, gateways, *orders_, catalog_, clock_);
    accounts_ = std::make_unique<domain::AccountOperations>(*db_, gateways, catalog_, clock_);
    ctx_ = std::make_unique<core::BotContext>(
        core::BotContext{shop_, zone_, clock_, io_.get_executor(), *rest_, *db_, users_, catalog_, *orders_,
                         *provisioner_, *accounts_, gateways, analytics_, background_, *sleeper_});
}

void BotGraph::tear_down() {
    background_.cancel();
    nebula::discord::testing::run(io_, [this]() -> asio::awaitable<void> { co_await background_.join(); });
    rest_.reset();
    if (fake_) {
        bool stopped = false;
        fake_->stop([&] { stopped = true; });
        nebula::discord::testing::drain_until(io_, stopped);
    }
    ctx_.reset();
    accounts_.reset();
    provisioner_.reset();
    db_.reset();
    database_.reset();
}

common::Status<std::string> RunningBot::create(app::BotConfig config, const common::Clock& clock) {
    auto created = app::Bot::create(io_.get_executor(), std::move(config), clock, nullptr);
    if (!created) return common::unexpected(created.error());
    bot_ = std::move(*created);
    return {};
}

void RunningBot::start() {
    started_ = true;
    asio::co_spawn(io_, bot_->run(), [this](std::exception_ptr error, common::Status<std::string> status) {
        error_ = error ? "exception" : (status ? "" : status.error());
        done_ = true;
    });
}

asio::awaitable<bool> RunningBot::connected(fakes::discord::FakeDiscord& discord) {
    co_await nebula::testing::until([&] { return !discord.gateway().session_id().empty() || done_; });
    co_return !done_;
}

void RunningBot::shut_down() {
    if (bot_ && started_) {
        bot_->stop();
        // run() returns only once nothing uses the bot any more; never destroy it before.
        nebula::discord::testing::drain_until(io_, done_, 60000ms);
        if (!done_) {
            ADD_FAILURE() << "the bot did not stop within 60 s";
            (void)bot_.release();
        }
    }
    bot_.reset();
}

}  // namespace nebula::bot::testing
