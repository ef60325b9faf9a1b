#include "bot/handlers/dispatcher.hpp"

#include <numeric>

#include <spdlog/spdlog.h>

#include "bot/domain/users.hpp"

namespace nebula::bot::handlers {
namespace asio = boost::asio;

namespace {

std::string join_path(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& part : parts) {
        if (!out.empty()) out += ' ';
        out += part;
    }
    return out;
}

}  // namespace

void Dispatcher::post(const discord::Event& event) {
    ++in_flight_;
    // An interaction travels alone: its raw payload (a whole JSON tree to copy and free per press)
    // is not needed once parsed. Its responder holds the press's only copy (about 1 KB, plus its
    // strings) from here to the answer: in a burst every press in flight keeps one.
    if (const auto* interaction = event.interaction()) {
        tasks_.spawn(event.name, run_interaction(discord::make_responder(ctx_.executor, ctx_.rest, ctx_.clock,
                                                                         *interaction)));
    } else {
        tasks_.spawn(event.name, run(event));
    }
}

asio::awaitable<void> Dispatcher::join() { co_await tasks_.join(); }

asio::awaitable<void> Dispatcher::run(discord::Event event) {
    try {
        co_await handle_event(std::move(event));
    } catch (const std::exception& e) {
        spdlog::error("event handler failed: {}", e.what());
    }
    finished();
}

asio::awaitable<void> Dispatcher::run_interaction(std::shared_ptr<discord::InteractionResponder> responder) {
    try {
        co_await answer(std::move(responder));
    } catch (const std::exception& e) {
        spdlog::error("event handler failed: {}", e.what());
    }
    finished();
}

void Dispatcher::finished() {
    --in_flight_;
    ++completed_;
    if (idle_) idle_();
}

asio::awaitable<void> Dispatcher::handle_event(discord::Event event) {
    for (const auto* handler : router_.events(event.name)) {
        try {
            co_await (*handler)(event);
        } catch (const std::exception& e) {
            spdlog::error("{} handler failed: {}", event.name, e.what());
        }
    }
}

asio::awaitable<void> Dispatcher::handle(discord::Interaction interaction) {
    co_await answer(discord::make_responder(ctx_.executor, ctx_.rest, ctx_.clock, std::move(interaction)));
}

asio::awaitable<void> Dispatcher::answer(std::shared_ptr<discord::InteractionResponder> responder) {
    const auto& received = responder->interaction();
    const domain::DiscordId discord_id = received.user.id;
    // A handler that reads the clicker's row in its own database task gets it from there: one hop.
    const bool handler_reads = router_.reads_clicker(received);
    std::optional<domain::User> user;
    if (!handler_reads) {
        try {
            user = co_await ctx_.db.run([&](db::Connection& c) { return ctx_.users.find(c, discord_id); });
        } catch (const std::exception& e) {
            spdlog::warn("locale lookup failed: {}", e.what());
        }
    }
    Call call{ctx_, received, *responder,
              ui::choose_locale(user ? user->locale_choice.value_or("") : "", received.locale,
                                ctx_.shop.default_locale),
              is_admin(ctx_.shop, received)};
    if (user) {
        // Remember the language of this interaction for what the bot writes them later.
        co_await note_locale(*user, received.locale);
    }
    bool failed = false;
    try {
        co_await route(call);
    } catch (const std::exception& e) {
        spdlog::error("interaction {} ({}) failed: {}", received.id.str(), static_cast<int>(received.type),
                      e.what());
        failed = true;
    }
    if (failed && received.type != discord::InteractionType::autocomplete) {
        co_await reply_ephemeral(call, call.tr(ui::Msg::error_internal));
    }
    if (handler_reads && call.clicker) {
        if (*call.clicker) co_await note_locale(**call.clicker, received.locale);
    } else if (!user && !received.locale.empty()) {
        // A first interaction may have created the customer (choosing a plan does): note its language.
        try {
            co_await ctx_.db.run([&](db::Connection& c) {
                // A read first: admins and passers-by have no row, and need no write.
                return ctx_.users.find(c, discord_id) &&
                       ctx_.users.note_discord_locale(c, discord_id, received.locale);
            });
        } catch (const std::exception& e) {
            spdlog::warn("locale not saved: {}", e.what());
        }
    }
}

asio::awaitable<void> Dispatcher::note_locale(const domain::User& user, const std::string& locale) {
    if (locale.empty() || user.last_locale == locale) co_return;
    try {
        co_await ctx_.db.run(
            [&](db::Connection& c) { return ctx_.users.note_discord_locale(c, user.discord_id, locale); });
    } catch (const std::exception& e) {
        spdlog::warn("locale not saved: {}", e.what());
    }
}

asio::awaitable<void> Dispatcher::route(Call& call) {
    const auto& interaction = call.interaction;
    switch (interaction.type) {
        case discord::InteractionType::application_command: {
            const std::string path = join_path(interaction.command()->path());
            if (const auto* handler = router_.command(path)) {
                co_await (*handler)(call);
                co_return;
            }
            spdlog::warn("no handler for command /{}", path);
            break;
        }
        case discord::InteractionType::autocomplete: {
            const std::string path = join_path(interaction.command()->path());
            if (const auto* handler = router_.autocomplete(path)) {
                co_await (*handler)(call);
            } else {
                std::vector<discord::OptionChoice> none;
                co_await call.responder.autocomplete(std::move(none));
            }
            co_return;
        }
        case discord::InteractionType::message_component: {
            if (auto handler = router_.component(interaction.component()->custom_id)) {
                co_await (*handler)(call);
                co_return;
            }
            break;
        }
        case discord::InteractionType::modal_submit: {
            if (auto handler = router_.modal(interaction.modal()->custom_id)) {
                co_await (*handler)(call);
                co_return;
            }
            break;
        }
        case discord::InteractionType::ping:
            co_return;
    }
    co_await reply_ephemeral(call, call.tr(ui::Msg::error_stale_button));
}

}  // namespace nebula::bot::handlers
