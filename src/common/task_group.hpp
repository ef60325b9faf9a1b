#pragma once

#include <cstddef>
#include <list>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>

namespace nebula::common {

/// Coroutines started in the background by a service (timers, jobs, event handlers) that must
/// not outlive it. spawn() starts one; cancel() asks every live one to stop (their pending waits
/// end with operation_aborted); join() returns once none is left. The owner stops spawning,
/// cancels if it wants, and awaits join() before destroying whatever the coroutines use.
/// Use from the executor given to the constructor only; not thread-safe.
class TaskGroup {
  public:
    explicit TaskGroup(boost::asio::any_io_executor executor);
    TaskGroup(const TaskGroup&) = delete;
    TaskGroup& operator=(const TaskGroup&) = delete;
    ~TaskGroup();

    /// Starts `task` on the executor. An exception it throws is logged with `name`; one caused
    /// by cancel() is not an error. After cancel() new tasks are refused (logged, not started).
    void spawn(std::string name, boost::asio::awaitable<void> task);

    /// Terminal cancellation of every live task; refuses further spawns. May be called outside
    /// the executor's handlers (a tear-down, on the thread that runs the executor afterwards): the
    /// signals are then emitted once the executor runs, so await join() (which also waits for
    /// that) before destroying the group.
    void cancel();

    /// Completes when no task is live (at once when none is).
    boost::asio::awaitable<void> join();

    /// True while a task spawned under `name` is live.
    bool running(std::string_view name) const;

    std::size_t size() const { return tasks_.size(); }
    bool cancelled() const { return cancelled_; }

  private:
    struct Task {
        std::string name;
        boost::asio::cancellation_signal signal;
    };
    void finished(std::list<Task>::iterator task, std::exception_ptr error);

    boost::asio::any_io_executor executor_;
    std::list<Task> tasks_;
    boost::asio::steady_timer idle_;
    bool cancelled_ = false;
    int pending_cancels_ = 0;  ///< cancel() calls whose signals are not emitted yet
};

}  // namespace nebula::common
