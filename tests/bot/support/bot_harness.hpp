#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "bot/app/bot.hpp"
#include "bot/app/config.hpp"
#include "bot/core/context.hpp"
#include "bot/db/executor.hpp"
#include "bot/domain/analytics.hpp"
#include "bot/domain/catalog.hpp"
#include "bot/domain/orders.hpp"
#include "bot/domain/provisioning.hpp"
#include "bot/domain/users.hpp"
#include "bot/handlers/context.hpp"
#include "bot/handlers/router.hpp"
#include "bot/support/shop_layout.hpp"
#include "bot/support/test_database.hpp"
#include "bot/ui/time_zone.hpp"
#include "common/clock.hpp"
#include "common/result.hpp"
#include "common/sleeper.hpp"
#include "common/task_group.hpp"
#include "discord/rest.hpp"
#include "fakes/discord/fake_discord.hpp"

// The one place the tests build nebula-bot: its object graph as src/bot/app/bot.cpp builds it
// (BotGraph, for tests that call handlers and jobs directly) or app::Bot itself running
// in-process (RunningBot, for tests that go through the Discord gateway), with fakes at the
// seams: the fake Discord on 127.0.0.1, a fresh test database, a gateway directory of the test's
// choosing and, for BotGraph, a ManualClock that only the test moves.
namespace nebula::bot::testing {

/// The fake Discord on `io`, or why it could not start.
common::Result<std::unique_ptr<fakes::discord::FakeDiscord>, std::string> start_fake_discord(
    boost::asio::io_context& io);

/// The shop's settings for the shop layout (shop_layout.hpp) on `discord`, files under `data_dir`.
core::ShopSettings shop_settings(const fakes::discord::FakeDiscord& discord, std::filesystem::path data_dir);

/// nebula-bot's whole configuration (what bot.env says) for the in-process bot on `discord`, with
/// `database` and the shop layout. The default server is `https://127.0.0.1:9`, never called,
/// unless the test sets config.default_server.
app::BotConfig bot_config(fakes::discord::FakeDiscord& discord, db::DatabaseUrl database,
                          std::filesystem::path data_dir);

/// The services, BotContext and Router that bot.cpp wires, over a migrated test database. A
/// fixture derives from it, calls build() from SetUp() and tear_down() from TearDown(), and
/// registers the handlers or builds the jobs it tests. Discord REST runs on the real clock (its
/// rate-limit waits must end without the test), everything else on `clock_`.
class BotGraph {
  protected:
    /// Starts the fake Discord and builds the graph over a new database on `backend`, with
    /// `gateways` (owned by the fixture) in front of the servers. Fails the test on error.
    void build(db::Backend backend, domain::GatewayDirectory& gateways);
    /// Waits for the background work, stops the fake Discord and frees the graph, in that order.
    void tear_down();

    boost::asio::io_context io_;
    common::SystemClock system_clock_;
    common::ManualClock clock_;
    std::unique_ptr<fakes::discord::FakeDiscord> fake_;
    std::unique_ptr<discord::RestClient> rest_;
    std::unique_ptr<TestDatabase> database_;
    std::unique_ptr<db::DbExecutor> db_;
    ui::TimeZone zone_ = ui::TimeZone::utc();
    domain::UserService users_{clock_};
    domain::CatalogService catalog_{clock_};
    std::unique_ptr<domain::OrderService> orders_;
    std::unique_ptr<domain::Provisioner> provisioner_;
    std::unique_ptr<domain::AccountOperations> accounts_;
    domain::Analytics analytics_{std::chrono::seconds(0)};
    common::TaskGroup background_{io_.get_executor()};
    std::unique_ptr<common::Sleeper> sleeper_ = common::make_asio_sleeper(io_.get_executor(), clock_);
    core::ShopSettings shop_;
    std::unique_ptr<core::BotContext> ctx_;
    handlers::Router router_;
};

/// app::Bot, the bot main() runs, in-process on `io` (a single-threaded io_context the test
/// drives).
class RunningBot {
  public:
    explicit RunningBot(boost::asio::io_context& io) : io_(io) {}
    RunningBot(const RunningBot&) = delete;
    RunningBot& operator=(const RunningBot&) = delete;

    /// Bot::create with `config`; the message when it fails.
    common::Status<std::string> create(app::BotConfig config, const common::Clock& clock);
    /// Starts Bot::run() on the io_context.
    void start();
    /// Waits until the bot holds a gateway session on `discord` or run() has ended; false when
    /// run() ended (error() says why).
    boost::asio::awaitable<bool> connected(fakes::discord::FakeDiscord& discord);
    /// Bot::stop(), then runs the io_context until run() has returned (nothing uses the bot any
    /// more), and destroys the bot. A bot that does not stop within 60 s fails the test and is
    /// leaked rather than destroyed under its running tasks.
    void shut_down();

    app::Bot* operator->() { return bot_.get(); }
    app::Bot& operator*() { return *bot_; }
    explicit operator bool() const { return bot_ != nullptr; }
    bool done() const { return done_; }
    const std::string& error() const { return error_; }

  private:
    boost::asio::io_context& io_;
    std::unique_ptr<app::Bot> bot_;
    bool started_ = false;
    bool done_ = false;
    std::string error_;
};

}  // namespace nebula::bot::testing
