#include "discord/interactions.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

namespace nebula::discord {

namespace asio = boost::asio;
using nlohmann::json;

namespace {
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
/// Attempts at an initial response that keeps failing before it reaches Discord.
constexpr int kMaxAttempts = 12;

asio::steady_timer& as_timer(const std::shared_ptr<void>& p) {
    return *static_cast<asio::steady_timer*>(p.get());
}

RestStatus invalid(std::string message) {
    return common::unexpected(RestError{RestErrorCode::invalid_state, 0, 0, std::move(message)});
}
}  // namespace

InteractionResponder::InteractionResponder(asio::any_io_executor executor, RestClient& rest,
                                           const common::Clock& clock, Interaction interaction,
                                           ResponderOptions options)
    : executor_(std::move(executor)),
      rest_(rest),
      clock_(clock),
      interaction_(std::move(interaction)),
      options_(options),
      received_(clock.steady_now()),
      timer_(std::make_shared<asio::steady_timer>(executor_)),
      sent_(std::make_shared<asio::steady_timer>(executor_, asio::steady_timer::time_point::max())) {}

std::shared_ptr<InteractionResponder> make_responder(asio::any_io_executor executor, RestClient& rest,
                                                     const common::Clock& clock, Interaction interaction,
                                                     ResponderOptions options) {
    auto responder =
        std::make_shared<InteractionResponder>(executor, rest, clock, std::move(interaction), options);
    responder->start();
    return responder;
}

void InteractionResponder::start() {
    if (interaction_.type == InteractionType::autocomplete || interaction_.type == InteractionType::ping)
        return;
    as_timer(timer_).expires_after(options_.auto_defer_after);
    asio::co_spawn(
        executor_,
        [self = shared_from_this()]() -> asio::awaitable<void> {
            auto [ec] = co_await as_timer(self->timer_).async_wait(kTuple);
            if (ec || self->state_ != State::none) co_return;
            spdlog::info("discord: interaction {} not answered within {} ms; deferring",
                         self->interaction_.id.str(), self->options_.auto_defer_after.count());
            auto status = co_await self->send_defer(self->options_.ephemeral_defer);
            if (!status) self->report("automatic defer", status.error());
        },
        asio::detached);
}

bool InteractionResponder::expired() const {
    return clock_.steady_now() >= received_ + options_.token_lifetime;
}

asio::awaitable<void> InteractionResponder::wait_initial() {
    auto keep = shared_from_this();
    while (state_ == State::sending) co_await as_timer(sent_).async_wait(kTuple);
}

asio::awaitable<RestStatus> InteractionResponder::initial(CallbackType type, std::optional<json> data,
                                                          std::vector<FileData> files, State after) {
    auto keep = shared_from_this();
    state_ = State::sending;
    as_timer(timer_).cancel();
    auto status = co_await send_initial(type, std::move(data), std::move(files));
    if (status) {
        state_ = after;
    } else if (status.error().discord_code == 40060) {
        // Acknowledged already (an earlier attempt got through): the interaction is answered.
        state_ = after;
        status = {};
    } else {
        state_ = State::none;
    }
    as_timer(sent_).cancel();
    co_return status;
}

asio::awaitable<RestStatus> InteractionResponder::send_initial(CallbackType type, std::optional<json> data,
                                                               std::vector<FileData> files) {
    // Only a request Discord never received is sent again: one that reached it may have been
    // acted on, and a second answer would be refused with 40060 anyway.
    auto resendable = [](const RestError& e) {
        return (e.code == RestErrorCode::network || e.code == RestErrorCode::timeout) && e.transport &&
               !e.request_written;
    };
    std::chrono::milliseconds pause{25};
    // 25 + 50 + 100 + 200 + 400 × 6 ms fill the 3 s window; the count also bounds a clock that stands still.
    for (int attempt = 1;; ++attempt) {
        auto status =
            co_await rest_.interaction_callback(interaction_.id, interaction_.token, type, data, files);
        if (status || !resendable(status.error()) || attempt >= kMaxAttempts) co_return status;
        if (clock_.steady_now() + pause >= received_ + options_.response_window) co_return status;
        spdlog::info("discord: interaction {} response did not reach Discord ({}); sending it again",
                     interaction_.id.str(), status.error().describe());
        rest_.count_interaction_resend();
        asio::steady_timer wait(executor_, pause);
        co_await wait.async_wait(kTuple);
        pause = std::min(pause * 2, std::chrono::milliseconds(400));
    }
}

void InteractionResponder::report(std::string_view what, const RestError& error) {
    spdlog::warn("discord: interaction {} ({}): {} failed, cause {}: {}", interaction_.id.str(),
                 interaction_.component() ? interaction_.component()->custom_id : std::string("-"), what,
                 failure_cause(error), error.describe());
    rest_.count_interaction_failure(error);
}

asio::awaitable<RestStatus> InteractionResponder::edit_original(MessagePayload payload) {
    if (expired())
        co_return common::unexpected(RestError{RestErrorCode::expired, 0, 0, "interaction token expired"});
    auto edited = co_await rest_.edit_original_response(interaction_.application_id, interaction_.token,
                                                        std::move(payload));
    if (!edited) co_return common::unexpected(edited.error());
    state_ = State::answered;
    co_return RestStatus{};
}

asio::awaitable<RestStatus> InteractionResponder::send_reply(MessagePayload payload) {
    auto keep = shared_from_this();
    co_await wait_initial();
    if (state_ == State::none) {
        if (expired())
            co_return common::unexpected(
                RestError{RestErrorCode::expired, 0, 0, "interaction token expired"});
        std::optional<json> data = payload.to_json();
        std::vector<FileData> files = std::move(payload.files);
        // The JSON says it all now: the payload's strings are not kept while the answer waits.
        payload = {};
        co_return co_await initial(CallbackType::channel_message, std::move(data), std::move(files),
                                   State::answered);
    }
    if (state_ == State::deferred && interaction_.type != InteractionType::message_component) {
        co_return co_await edit_original(std::move(payload));
    }
    auto sent = co_await send_follow_up(std::move(payload));
    if (!sent) co_return common::unexpected(sent.error());
    co_return RestStatus{};
}

asio::awaitable<RestStatus> InteractionResponder::send_defer(bool ephemeral) {
    auto keep = shared_from_this();
    co_await wait_initial();
    if (state_ != State::none) co_return RestStatus{};  // already acknowledged: nothing to do
    const bool component = interaction_.type == InteractionType::message_component;
    std::optional<json> data;
    if (!component && ephemeral) data = json{{"flags", kEphemeralFlag}};
    std::vector<FileData> none;
    co_return co_await initial(
        component ? CallbackType::deferred_update_message : CallbackType::deferred_channel_message,
        std::move(data), std::move(none), State::deferred);
}

asio::awaitable<RestStatus> InteractionResponder::send_update(MessagePayload payload) {
    auto keep = shared_from_this();
    if (interaction_.type != InteractionType::message_component &&
        interaction_.type != InteractionType::modal_submit) {
        co_return invalid("update_message needs a component or modal interaction");
    }
    co_await wait_initial();
    if (state_ == State::none) {
        std::optional<json> data = payload.to_json();
        std::vector<FileData> files = std::move(payload.files);
        payload = {};
        co_return co_await initial(CallbackType::update_message, std::move(data), std::move(files),
                                   State::answered);
    }
    co_return co_await edit_original(std::move(payload));
}

asio::awaitable<RestStatus> InteractionResponder::send_modal(Modal modal) {
    auto keep = shared_from_this();
    if (interaction_.type == InteractionType::modal_submit || interaction_.type == InteractionType::ping) {
        co_return invalid("a modal cannot answer a modal submit");
    }
    if (state_ != State::none) co_return invalid("a modal must be the first response");
    std::optional<json> data = to_json(modal);
    std::vector<FileData> none;
    co_return co_await initial(CallbackType::modal, std::move(data), std::move(none), State::answered);
}

asio::awaitable<RestStatus> InteractionResponder::send_choices(std::vector<OptionChoice> choices) {
    auto keep = shared_from_this();
    if (state_ != State::none) co_return invalid("autocomplete already answered");
    json list = json::array();
    for (std::size_t i = 0; i < choices.size() && i < 25; ++i) {
        json value;
        std::visit([&](const auto& v) { value = v; }, choices[i].value);
        list.push_back({{"name", choices[i].name}, {"value", value}});
    }
    std::optional<json> data = json::object();
    (*data)["choices"] = std::move(list);
    std::vector<FileData> none;
    co_return co_await initial(CallbackType::autocomplete_result, std::move(data), std::move(none),
                               State::answered);
}

asio::awaitable<RestResult<Message>> InteractionResponder::send_follow_up(MessagePayload payload) {
    auto keep = shared_from_this();
    co_await wait_initial();
    if (state_ == State::none) {
        co_return common::unexpected(
            RestError{RestErrorCode::invalid_state, 0, 0, "follow-up before the first response"});
    }
    if (expired())
        co_return common::unexpected(RestError{RestErrorCode::expired, 0, 0, "interaction token expired"});
    co_return co_await rest_.create_followup(interaction_.application_id, interaction_.token,
                                             std::move(payload));
}

// The public responses: each failure is logged and counted here, whatever the caller does with it.

asio::awaitable<RestStatus> InteractionResponder::reply(MessagePayload payload) {
    auto keep = shared_from_this();
    auto status = co_await send_reply(std::move(payload));
    if (!status) report("reply", status.error());
    co_return status;
}

asio::awaitable<RestStatus> InteractionResponder::defer(bool ephemeral) {
    auto keep = shared_from_this();
    auto status = co_await send_defer(ephemeral);
    if (!status) report("defer", status.error());
    co_return status;
}

asio::awaitable<RestStatus> InteractionResponder::update_message(MessagePayload payload) {
    auto keep = shared_from_this();
    auto status = co_await send_update(std::move(payload));
    if (!status) report("message update", status.error());
    co_return status;
}

asio::awaitable<RestStatus> InteractionResponder::show_modal(Modal modal) {
    auto keep = shared_from_this();
    auto status = co_await send_modal(std::move(modal));
    if (!status) report("modal", status.error());
    co_return status;
}

asio::awaitable<RestStatus> InteractionResponder::autocomplete(std::vector<OptionChoice> choices) {
    auto keep = shared_from_this();
    auto status = co_await send_choices(std::move(choices));
    if (!status) report("autocomplete", status.error());
    co_return status;
}

asio::awaitable<RestResult<Message>> InteractionResponder::follow_up(MessagePayload payload) {
    auto keep = shared_from_this();
    auto sent = co_await send_follow_up(std::move(payload));
    if (!sent) report("follow-up", sent.error());
    co_return sent;
}

}  // namespace nebula::discord
