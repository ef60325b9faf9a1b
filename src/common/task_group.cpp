#include "common/task_group.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

namespace nebula::common {
namespace asio = boost::asio;

TaskGroup::TaskGroup(asio::any_io_executor executor)
    : executor_(std::move(executor)), idle_(executor_, asio::steady_timer::time_point::max()) {}

TaskGroup::~TaskGroup() {
    if (!tasks_.empty()) spdlog::critical("{} background task(s) outlive their owner", tasks_.size());
    if (pending_cancels_ > 0) spdlog::critical("a background cancellation outlives its owner (join() first)");
}

void TaskGroup::spawn(std::string name, asio::awaitable<void> task) {
    if (cancelled_) {
        spdlog::debug("not starting {}: shutting down", name);
        return;
    }
    auto it = tasks_.emplace(tasks_.end());
    it->name = std::move(name);
    asio::co_spawn(executor_, std::move(task),
                   asio::bind_cancellation_slot(
                       it->signal.slot(), [this, it](std::exception_ptr error) { finished(it, error); }));
}

bool TaskGroup::running(std::string_view name) const {
    for (const auto& task : tasks_) {
        if (task.name == name) return true;
    }
    return false;
}

void TaskGroup::finished(std::list<Task>::iterator task, std::exception_ptr error) {
    if (error) {
        try {
            std::rethrow_exception(error);
        } catch (const boost::system::system_error& e) {
            if (!(cancelled_ && e.code() == asio::error::operation_aborted)) {
                spdlog::error("{} failed: {}", task->name, e.what());
            }
        } catch (const std::exception& e) {
            spdlog::error("{} failed: {}", task->name, e.what());
        }
    }
    task->signal.slot().clear();
    tasks_.erase(task);
    if (tasks_.empty()) idle_.cancel();
}

void TaskGroup::cancel() {
    cancelled_ = true;
    // co_spawn hands a cancellation on to its coroutine with asio::dispatch, which runs inline
    // only on the executor. Emitted from anywhere else, that hand-over is queued and can run after
    // the task has finished and freed it. So the signals are always emitted on the executor
    // (inline when already there); join() waits for that too.
    ++pending_cancels_;
    asio::dispatch(executor_, [this] {
        for (auto& task : tasks_) task.signal.emit(asio::cancellation_type::terminal);
        if (--pending_cancels_ == 0 && tasks_.empty()) idle_.cancel();
    });
}

asio::awaitable<void> TaskGroup::join() {
    // The timer never expires; finished() cancels it when the last task ends, waking every joiner.
    while (!tasks_.empty() || pending_cancels_ > 0) {
        boost::system::error_code ec;
        co_await idle_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
}

}  // namespace nebula::common
