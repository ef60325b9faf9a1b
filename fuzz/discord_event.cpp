// Discord gateway events: any text, as one websocket frame from Discord. A dispatch (op 0) with
// a name is turned into an Event as the gateway client does. Properties: nothing throws (the
// typed view is either set or the error says why); the event's name and sequence are kept.
#include <nlohmann/json.hpp>

#include "discord/events.hpp"
#include "fuzz_util.hpp"

using namespace nebula;
using nlohmann::json;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const json payload = json::parse(fuzz::as_text(data, size), nullptr, false);
    if (!payload.is_object() || !payload.contains("op") || !payload["op"].is_number_integer()) return 0;
    if (payload["op"].get<std::int64_t>() != 0 || !payload.contains("t") || !payload["t"].is_string())
        return 0;
    const std::int64_t seq =
        payload.contains("s") && payload["s"].is_number_integer() ? payload["s"].get<std::int64_t>() : 0;
    const std::string name = payload["t"].get<std::string>();
    const discord::Event event =
        discord::make_event(name, seq, payload.contains("d") ? payload["d"] : json());
    fuzz::check(event.name == name && event.seq == seq, "an event keeps its name and sequence");
    if (event.error) {
        fuzz::check(std::holds_alternative<std::monostate>(event.typed),
                    "an event that failed to parse has no typed view");
        (void)event.error->describe();
    }
    if (const auto* interaction = event.interaction()) {
        (void)interaction->command();
        (void)interaction->component();
        (void)interaction->modal();
    }
    return 0;
}
