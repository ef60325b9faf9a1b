// Discord REST models (JSON → typed structs). Input: first line names the model (user, member,
// attachment, channel, guild, message, interaction), the rest is its JSON as a REST answer.
// Property: nothing throws; a payload either parses or yields a ParseError.
#include <nlohmann/json.hpp>

#include "discord/model.hpp"
#include "fuzz_util.hpp"

using namespace nebula;
using nlohmann::json;

namespace {

template <typename T>
void read(const discord::Parsed<T>& parsed) {
    if (!parsed) (void)parsed.error().describe();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view rest = fuzz::as_text(data, size);
    const std::string_view model = fuzz::take_line(rest);
    const json doc = json::parse(rest, nullptr, false);
    if (doc.is_discarded()) return 0;
    if (model == "user") {
        read(discord::parse_user(doc));
    } else if (model == "member") {
        read(discord::parse_member(doc));
    } else if (model == "attachment") {
        read(discord::parse_attachment(doc));
    } else if (model == "channel") {
        read(discord::parse_channel(doc));
    } else if (model == "guild") {
        read(discord::parse_guild(doc));
    } else if (model == "message") {
        read(discord::parse_message(doc));
    } else if (model == "interaction") {
        read(discord::parse_interaction(doc));
    } else if (doc.is_array()) {
        // A list answer (GET guild channels, members): each element as every model.
        for (const auto& item : doc) {
            read(discord::parse_channel(item));
            read(discord::parse_member(item));
            read(discord::parse_message(item));
        }
    }
    return 0;
}
