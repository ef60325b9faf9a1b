#pragma once

// Small helpers shared by the fuzz targets: splitting an input into line-separated fields (so
// seed files stay readable) and a check that stops the run with a message when a property does
// not hold (libFuzzer then saves the input as a crash).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace nebula::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

/// The text up to the first '\n' (removed from `rest` with the '\n'); all of `rest` if none.
inline std::string_view take_line(std::string_view& rest) {
    const auto at = rest.find('\n');
    std::string_view line = rest.substr(0, at);
    rest = at == std::string_view::npos ? std::string_view() : rest.substr(at + 1);
    return line;
}

/// A property of the code under test; when it fails the input is a finding.
inline void check(bool holds, const char* property) {
    if (!holds) {
        std::fprintf(stderr, "fuzz property violated: %s\n", property);
        std::abort();
    }
}

}  // namespace nebula::fuzz
