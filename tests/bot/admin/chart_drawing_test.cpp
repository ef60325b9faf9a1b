// Charts are drawn off the Discord thread: on the database pool, while the caller's executor
// goes on with other work.
#include <future>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "bot/core/charts.hpp"
#include "bot/support/test_database.hpp"

namespace nebula::bot::testing {
namespace {

namespace asio = boost::asio;

TEST(ChartDrawing, AChartRequestDoesNotRunOnTheEventThread) {
    auto database = TestDatabase::create(db::Backend::sqlite);
    auto pool = db::DbExecutor::open(database->url(), 1);
    ASSERT_TRUE(pool) << pool.error();
    asio::io_context events;  // the Discord thread: this test's thread

    // The pool's only thread is held busy: a chart drawn on the event thread would be done
    // regardless; one sent to the pool must wait for it.
    std::promise<void> release;
    auto released = release.get_future().share();
    bool blocker_done = false;
    asio::co_spawn(
        events,
        [&]() -> asio::awaitable<void> {
            co_await (*pool)->run([&released](db::Connection&) { released.wait(); });
            blocker_done = true;
        },
        asio::detached);

    std::string png;
    bool drawn = false;
    asio::co_spawn(
        events,
        [&]() -> asio::awaitable<void> {
            auto chart = ui::usage_chart(ui::Locale::en, "Last 30 days", {{"1", 1e9}, {"2", 2e9}, {"3", 0}});
            png = co_await core::draw_chart(**pool, std::move(chart));
            drawn = true;
        },
        asio::detached);
    bool other_click_answered = false;
    asio::post(events, [&] { other_click_answered = true; });

    events.poll();  // everything the event thread can do now, without waiting
    EXPECT_TRUE(other_click_answered) << "the event thread kept serving";
    EXPECT_FALSE(drawn) << "the chart was drawn on the event thread";

    release.set_value();
    events.run();  // until the pool has answered both
    EXPECT_TRUE(blocker_done);
    ASSERT_TRUE(drawn);
    ASSERT_GT(png.size(), 24u);
    EXPECT_EQ(png.substr(1, 3), "PNG");
}

}  // namespace
}  // namespace nebula::bot::testing
