#include "common/sleeper.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace nebula::common {
namespace {

class AsioSleeper final : public Sleeper {
  public:
    AsioSleeper(boost::asio::any_io_executor executor, const Clock& clock)
        : executor_(std::move(executor)), clock_(clock) {}

    boost::asio::awaitable<void> sleep_until(std::chrono::steady_clock::time_point when) override {
        const auto now = clock_.steady_now();
        if (when <= now) co_return;
        boost::asio::steady_timer timer(executor_, when - now);
        co_await timer.async_wait(boost::asio::use_awaitable);
    }

  private:
    boost::asio::any_io_executor executor_;
    const Clock& clock_;
};

class ManualSleeper final : public Sleeper {
  public:
    ManualSleeper(boost::asio::any_io_executor executor, ManualClock& clock)
        : executor_(std::move(executor)), clock_(clock) {}

    boost::asio::awaitable<void> sleep_until(std::chrono::steady_clock::time_point when) override {
        co_await boost::asio::post(executor_, boost::asio::use_awaitable);
        const auto now = clock_.steady_now();
        if (when > now) clock_.advance(when - now);
    }

  private:
    boost::asio::any_io_executor executor_;
    ManualClock& clock_;
};

}  // namespace

std::unique_ptr<Sleeper> make_asio_sleeper(boost::asio::any_io_executor executor, const Clock& clock) {
    return std::make_unique<AsioSleeper>(std::move(executor), clock);
}

std::unique_ptr<Sleeper> make_manual_sleeper(boost::asio::any_io_executor executor, ManualClock& clock) {
    return std::make_unique<ManualSleeper>(std::move(executor), clock);
}

}  // namespace nebula::common
