#pragma once

#include <cstddef>
#include <functional>
#include <memory>

#include <boost/asio/awaitable.hpp>

#include "bot/handlers/context.hpp"
#include "bot/handlers/router.hpp"
#include "common/task_group.hpp"
#include "discord/events.hpp"
#include "discord/interactions.hpp"

namespace nebula::bot::handlers {

/// Turns gateway events into handler calls. Each event runs as its own coroutine on the
/// Discord executor, so a slow handler never holds up the next event. Every interaction gets an
/// InteractionResponder (automatic defer inside the 3 s window), the locale to answer in and
/// the admin flag; an interaction nobody handles (a stale button) gets the stale-button reply;
/// an exception is logged and answered with the generic error. Use from ctx.executor only.
class Dispatcher {
  public:
    Dispatcher(BotContext& ctx, const Router& router) : ctx_(ctx), router_(router), tasks_(ctx.executor) {}

    /// Starts handling `event` and returns at once.
    void post(const discord::Event& event);

    /// Handles one interaction to the end (what post() starts for an INTERACTION_CREATE).
    boost::asio::awaitable<void> handle(discord::Interaction interaction);
    boost::asio::awaitable<void> handle_event(discord::Event event);

    /// Completes when every event posted so far has been handled (graceful shutdown).
    boost::asio::awaitable<void> join();

    /// Events being handled right now (for tests and graceful shutdown).
    std::size_t in_flight() const { return in_flight_; }
    /// Events whose handling finished since start-up.
    std::size_t completed() const { return completed_; }
    /// Called whenever an event finished handling.
    void on_idle(std::function<void()> callback) { idle_ = std::move(callback); }

  private:
    boost::asio::awaitable<void> run(discord::Event event);
    boost::asio::awaitable<void> run_interaction(std::shared_ptr<discord::InteractionResponder> responder);
    /// handle() once the interaction is in its responder (the only copy a press keeps).
    boost::asio::awaitable<void> answer(std::shared_ptr<discord::InteractionResponder> responder);
    void finished();
    boost::asio::awaitable<void> route(Call& call);
    /// Stores the Discord language of this interaction when it differs from the one on the row.
    boost::asio::awaitable<void> note_locale(const domain::User& user, const std::string& locale);

    BotContext& ctx_;
    const Router& router_;
    std::size_t in_flight_ = 0;
    std::size_t completed_ = 0;
    std::function<void()> idle_;
    common::TaskGroup tasks_;
};

}  // namespace nebula::bot::handlers
