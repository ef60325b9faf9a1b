// The 3x-ui answer envelope {"success","msg","obj"}. Input: first line the HTTP status, the
// rest the body. Properties: nothing throws; only an HTTP 200 envelope with success=true yields obj; a
// failure's message is one printable line of at most 200 bytes (summarise).
#include <charconv>
#include <string>

#include "fuzz_util.hpp"
#include "gateway/xui/envelope.hpp"

using namespace nebula;
namespace xui = gateway::xui;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view rest = fuzz::as_text(data, size);
    const std::string_view status_line = fuzz::take_line(rest);
    int status = 200;
    std::from_chars(status_line.data(), status_line.data() + status_line.size(), status);
    const std::string_view body = rest;

    auto result = xui::parse_envelope(status, body);
    if (result) {
        fuzz::check(status == 200, "only an HTTP 200 answer is a success");
        (void)result->dump();
    } else {
        fuzz::check(result.error().message.size() <= 1024, "a panel error's message is bounded");
        (void)xui::classify_panel_message(result.error().message);
    }
    (void)xui::classify_panel_message(body);
    const std::string line = xui::summarise(body);
    fuzz::check(line.size() <= 200, "a summary is at most 200 bytes");
    for (char c : line) {
        const auto u = static_cast<unsigned char>(c);
        fuzz::check(u >= 0x20 && u != 0x7f, "a summary is one printable line");
    }
    return 0;
}
