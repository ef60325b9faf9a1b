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
            auto status = co_await self->defer(self->options_.ephemeral_defer);
            if (!status) spdlog::warn("discord: automatic defer failed: {}", status.error().describe());
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
    auto status = co_await rest_.interaction_callback(interaction_.id, interaction_.token, type,
                                                      std::move(data), std::move(files));
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

asio::awaitable<RestStatus> InteractionResponder::edit_original(MessagePayload payload) {
    if (expired())
        co_return common::unexpected(RestError{RestErrorCode::expired, 0, 0, "interaction token expired"});
    auto edited = co_await rest_.edit_original_response(interaction_.application_id, interaction_.token,
                                                        std::move(payload));
    if (!edited) co_return common::unexpected(edited.error());
    state_ = State::answered;
    co_return RestStatus{};
}

asio::awaitable<RestStatus> InteractionResponder::reply(MessagePayload payload) {
    auto keep = shared_from_this();
    co_await wait_initial();
    if (state_ == State::none) {
        if (expired())
            co_return common::unexpected(
                RestError{RestErrorCode::expired, 0, 0, "interaction token expired"});
        std::vector<FileData> files = payload.files;
        std::optional<json> data = payload.to_json();
        co_return co_await initial(CallbackType::channel_message, std::move(data), std::move(files),
                                   State::answered);
    }
    if (state_ == State::deferred && interaction_.type != InteractionType::message_component) {
        co_return co_await edit_original(std::move(payload));
    }
    auto sent = co_await follow_up(std::move(payload));
    if (!sent) co_return common::unexpected(sent.error());
    co_return RestStatus{};
}

asio::awaitable<RestStatus> InteractionResponder::defer(bool ephemeral) {
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

asio::awaitable<RestStatus> InteractionResponder::update_message(MessagePayload payload) {
    auto keep = shared_from_this();
    if (interaction_.type != InteractionType::message_component &&
        interaction_.type != InteractionType::modal_submit) {
        co_return invalid("update_message needs a component or modal interaction");
    }
    co_await wait_initial();
    if (state_ == State::none) {
        std::vector<FileData> files = payload.files;
        std::optional<json> data = payload.to_json();
        co_return co_await initial(CallbackType::update_message, std::move(data), std::move(files),
                                   State::answered);
    }
    co_return co_await edit_original(std::move(payload));
}

asio::awaitable<RestStatus> InteractionResponder::show_modal(Modal modal) {
    auto keep = shared_from_this();
    if (interaction_.type == InteractionType::modal_submit || interaction_.type == InteractionType::ping) {
        co_return invalid("a modal cannot answer a modal submit");
    }
    if (state_ != State::none) co_return invalid("a modal must be the first response");
    std::optional<json> data = to_json(modal);
    std::vector<FileData> none;
    co_return co_await initial(CallbackType::modal, std::move(data), std::move(none), State::answered);
}

asio::awaitable<RestStatus> InteractionResponder::autocomplete(std::vector<OptionChoice> choices) {
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

asio::awaitable<RestResult<Message>> InteractionResponder::follow_up(MessagePayload payload) {
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

}  // namespace nebula::discord
