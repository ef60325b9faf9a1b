#pragma once

#include <chrono>
#include <memory>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "common/clock.hpp"
#include "discord/builders.hpp"
#include "discord/model.hpp"
#include "discord/rest.hpp"

namespace nebula::discord {

struct ResponderOptions {
    /// Defer automatically when nothing was sent by then; Discord's window is 3 s.
    std::chrono::milliseconds auto_defer_after{2'000};
    /// Whether an automatic defer of a command or modal makes the eventual reply ephemeral.
    bool ephemeral_defer = true;
    /// The interaction token's lifetime for edits and follow-ups.
    std::chrono::minutes token_lifetime{15};
    /// Discord's window for the initial response. An initial response that never reached
    /// Discord (connect, TLS or write failure) is sent again while this window allows.
    std::chrono::milliseconds response_window{3'000};
};

/// Answers one interaction correctly whatever the handler does: the initial response goes out
/// once (a second answer becomes an edit or a follow-up instead of a 40060), an automatic defer
/// is sent when the handler is slow, and nothing is sent on a token older than 15 minutes.
///
/// After a defer (type 5 for commands and modals, type 6 for components): reply() edits the
/// deferred response (commands) or posts a follow-up (components); update_message() edits the
/// component's message. Ephemerality is fixed by the first response.
///
/// Every failure of a response (initial, edit, follow-up, the automatic defer) is logged at warn
/// with its cause and counted in RestClient::stats().interaction_failures, so a caller that
/// ignores a returned status still leaves a trace. An initial response that failed before Discord
/// saw it is sent again, with a short growing pause, while Discord's 3 s window allows; one that
/// may have reached Discord is never sent twice.
///
/// Create with make_responder() and keep the shared_ptr while handling. Use from one executor;
/// not thread-safe.
class InteractionResponder : public std::enable_shared_from_this<InteractionResponder> {
  public:
    InteractionResponder(boost::asio::any_io_executor executor, RestClient& rest, const common::Clock& clock,
                         Interaction interaction, ResponderOptions options);

    /// Arms the automatic defer.
    void start();

    /// A message in answer (type 4), or the edit/follow-up that replaces it once acknowledged.
    [[nodiscard]] boost::asio::awaitable<RestStatus> reply(MessagePayload payload);
    /// "Thinking…" (type 5) for commands and modals, a silent ack (type 6) for components.
    [[nodiscard]] boost::asio::awaitable<RestStatus> defer(bool ephemeral);
    /// Edits the message a component is on (type 7, or an edit after a defer).
    [[nodiscard]] boost::asio::awaitable<RestStatus> update_message(MessagePayload payload);
    /// Opens a modal (type 9). Only possible as the first response: invalid_state otherwise.
    [[nodiscard]] boost::asio::awaitable<RestStatus> show_modal(Modal modal);
    /// Autocomplete choices (type 8), at most 25.
    [[nodiscard]] boost::asio::awaitable<RestStatus> autocomplete(std::vector<OptionChoice> choices);
    /// A further message (may carry kEphemeralFlag).
    [[nodiscard]] boost::asio::awaitable<RestResult<Message>> follow_up(MessagePayload payload);

    bool acknowledged() const { return state_ == State::deferred || state_ == State::answered; }
    bool deferred() const { return state_ == State::deferred; }
    const Interaction& interaction() const { return interaction_; }

  private:
    enum class State { none, sending, deferred, answered };
    boost::asio::awaitable<RestStatus> initial(CallbackType type, std::optional<nlohmann::json> data,
                                               std::vector<FileData> files, State after);
    boost::asio::awaitable<RestStatus> send_initial(CallbackType type, std::optional<nlohmann::json> data,
                                                    std::vector<FileData> files);
    boost::asio::awaitable<void> wait_initial();
    boost::asio::awaitable<RestStatus> edit_original(MessagePayload payload);
    boost::asio::awaitable<RestStatus> send_reply(MessagePayload payload);
    boost::asio::awaitable<RestStatus> send_defer(bool ephemeral);
    boost::asio::awaitable<RestStatus> send_update(MessagePayload payload);
    boost::asio::awaitable<RestStatus> send_modal(Modal modal);
    boost::asio::awaitable<RestStatus> send_choices(std::vector<OptionChoice> choices);
    boost::asio::awaitable<RestResult<Message>> send_follow_up(MessagePayload payload);
    /// Logs a failed response at warn with its cause and counts it.
    void report(std::string_view what, const RestError& error);
    bool expired() const;

    boost::asio::any_io_executor executor_;
    RestClient& rest_;
    const common::Clock& clock_;
    Interaction interaction_;
    ResponderOptions options_;
    std::chrono::steady_clock::time_point received_;
    State state_ = State::none;
    std::shared_ptr<void> timer_;  // the auto-defer timer (an asio::steady_timer)
    std::shared_ptr<void> sent_;   // signalled when the initial response completes
};

/// Creates a responder and arms its automatic defer.
std::shared_ptr<InteractionResponder> make_responder(boost::asio::any_io_executor executor, RestClient& rest,
                                                     const common::Clock& clock, Interaction interaction,
                                                     ResponderOptions options = {});

}  // namespace nebula::discord
