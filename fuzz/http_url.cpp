// URL helpers: common::http::Url::parse (PANEL_URL, SUB_URL_BASE, gateway URLs) and percent-encoding.
// Input: first line a URL, the rest text to encode and decode. Properties: nothing throws; a
// parsed URL built again from its parts parses to the same parts; decoding undoes encoding.
#include <string>

#include "common/http.hpp"
#include "fuzz_util.hpp"

using namespace nebula;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view rest = fuzz::as_text(data, size);
    const std::string_view line = fuzz::take_line(rest);
    if (auto url = common::http::Url::parse(line)) {
        fuzz::check(!url->host.empty() && url->port != 0, "a parsed URL has a host and a port");
        fuzz::check(!url->path.empty() && url->path.front() == '/', "a parsed URL's path starts with '/'");
        const std::string again_text = url->scheme + "://" + url->authority() + url->path;
        auto again = common::http::Url::parse(again_text);
        fuzz::check(again.has_value(), "a URL built from parsed parts parses");
        fuzz::check(again->scheme == url->scheme && again->host == url->host && again->port == url->port &&
                        again->path == url->path,
                    "a URL built from parsed parts has the same parts");
    }
    const std::string encoded = common::http::url_encode(rest);
    const auto decoded = common::http::url_decode(encoded);
    fuzz::check(decoded.has_value() && *decoded == rest, "url_decode undoes url_encode");
    (void)common::http::url_decode(rest, true);
    (void)common::http::url_decode(line, false);
    return 0;
}
