#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "bot/handlers/context.hpp"
#include "discord/builders.hpp"
#include "discord/custom_id.hpp"
#include "discord/events.hpp"

namespace nebula::bot::handlers {

/// Where every interaction and gateway event goes. Modules register during start-up
/// (`register_*_handlers(Router&, BotContext&)`); the app then dispatches. Registration is not
/// thread-safe; dispatch lookups are const and happen on the Discord executor.
///
/// Slash commands: declare definitions with define_command(). Several modules may contribute to
/// the same top-level command (e.g. "admin"): the options (subcommands, groups) of every
/// definition with that name are concatenated in registration order; the first definition's
/// description and default_member_permissions win. commands() gives the merged list for the one
/// bulk PUT per guild. Handlers are keyed by the invoked path joined by spaces, exactly as
/// CommandData::path() gives it: "admin plan create", "admin setup", "admin stats".
/// The panel module registers "admin setup"; the admin module registers every other "admin ...".
///
/// Components (buttons, selects) and modal submits are keyed by custom_id prefix and typed
/// parameters, as in discord::custom_id (`order:42:approve` → prefix "order", params 42,
/// "approve"). Handler functions receive the Call first, then the parsed parameters by value:
///
///     router.on_component<std::int64_t>("plan_pick", [&ctx](Call& call, std::int64_t order) {
///         return pick_plan(call, order);   // a coroutine function taking its arguments by value
///     });
///
/// The handler object is kept alive while its coroutine runs, so capturing references to
/// long-lived objects is safe; prefer calling a free coroutine function that takes its
/// parameters by value (g++ 12: no default arguments on coroutines).
/// A custom_id that matches no route, or whose parameters do not parse, gets the "this button
/// is stale" reply from the dispatcher.
class Router {
  public:
    using Handler = std::function<boost::asio::awaitable<void>(Call&)>;
    using EventHandler = std::function<boost::asio::awaitable<void>(const discord::Event&)>;

    /// Adds (or extends) a top-level command definition.
    void define_command(discord::Command command);
    /// The merged definitions, in first-registration order.
    const std::vector<discord::Command>& commands() const { return commands_; }

    /// The handler of a command path ("admin plan create"). Throws std::invalid_argument when the
    /// path is registered twice.
    void on_command(std::string path, Handler handler);
    /// The autocomplete handler of a command path; find the option with
    /// `call.interaction.command()->focused()`.
    void on_autocomplete(std::string path, Handler handler);

    template <typename... Params, typename F>
    void on_component(std::string prefix, F handler) {
        components_.add<Params...>(std::move(prefix), bind<Params...>(std::move(handler)));
    }
    template <typename... Params, typename F>
    void on_modal(std::string prefix, F handler) {
        modals_.add<Params...>(std::move(prefix), bind<Params...>(std::move(handler)));
    }

    /// Marks the component with exactly this custom_id ("panel:buy") as one whose handler reads the
    /// clicker's users row inside its own database task and hands it to Call::know_clicker(), so
    /// the click makes one database hop instead of two. Such a handler never creates the row
    /// without handing it over either.
    void reads_clicker(std::string custom_id) { reads_clicker_.insert(std::move(custom_id)); }
    bool reads_clicker(const discord::Interaction& interaction) const {
        const auto* component = interaction.component();
        return component != nullptr && reads_clicker_.contains(component->custom_id);
    }
    /// A gateway event by name ("MESSAGE_CREATE", "CHANNEL_DELETE", ...); several per name.
    void on_event(std::string name, EventHandler handler);

    /// Lookups for the dispatcher: nullptr / empty when nothing matches.
    const Handler* command(std::string_view path) const;
    const Handler* autocomplete(std::string_view path) const;
    std::optional<Handler> component(std::string_view custom_id) const {
        return components_.dispatch(custom_id);
    }
    std::optional<Handler> modal(std::string_view custom_id) const { return modals_.dispatch(custom_id); }
    std::vector<const EventHandler*> events(std::string_view name) const;

  private:
    template <typename... Params, typename F>
    static auto bind(F handler) {
        auto shared = std::make_shared<F>(std::move(handler));
        return [shared](Params... params) -> Handler {
            return [shared, params...](Call& call) { return (*shared)(call, params...); };
        };
    }

    std::vector<discord::Command> commands_;
    std::map<std::string, Handler, std::less<>> command_handlers_;
    std::map<std::string, Handler, std::less<>> autocomplete_handlers_;
    discord::custom_id::Router<Handler> components_;
    discord::custom_id::Router<Handler> modals_;
    std::multimap<std::string, EventHandler, std::less<>> event_handlers_;
    std::set<std::string, std::less<>> reads_clicker_;
};

}  // namespace nebula::bot::handlers
