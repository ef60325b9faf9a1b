#include "bot/handlers/router.hpp"

#include <stdexcept>

namespace nebula::bot::handlers {

void Router::define_command(discord::Command command) {
    for (auto& existing : commands_) {
        if (existing.name != command.name) continue;
        for (auto& option : command.options) existing.options.push_back(std::move(option));
        return;
    }
    commands_.push_back(std::move(command));
}

void Router::on_command(std::string path, Handler handler) {
    if (!command_handlers_.emplace(path, std::move(handler)).second) {
        throw std::invalid_argument("command handler registered twice: " + path);
    }
}

void Router::on_autocomplete(std::string path, Handler handler) {
    if (!autocomplete_handlers_.emplace(path, std::move(handler)).second) {
        throw std::invalid_argument("autocomplete handler registered twice: " + path);
    }
}

void Router::on_event(std::string name, EventHandler handler) {
    event_handlers_.emplace(std::move(name), std::move(handler));
}

const Router::Handler* Router::command(std::string_view path) const {
    const auto it = command_handlers_.find(path);
    return it == command_handlers_.end() ? nullptr : &it->second;
}

const Router::Handler* Router::autocomplete(std::string_view path) const {
    const auto it = autocomplete_handlers_.find(path);
    return it == autocomplete_handlers_.end() ? nullptr : &it->second;
}

std::vector<const Router::EventHandler*> Router::events(std::string_view name) const {
    std::vector<const EventHandler*> out;
    const auto [first, last] = event_handlers_.equal_range(name);
    for (auto it = first; it != last; ++it) out.push_back(&it->second);
    return out;
}

}  // namespace nebula::bot::handlers
