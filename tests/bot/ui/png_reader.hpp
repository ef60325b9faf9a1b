#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nebula::bot::ui::testing {

/// The IHDR fields of a PNG, read straight from the bytes (after checking the signature).
struct PngHeader {
    std::uint32_t width = 0;
    std::uint32_t height = 0;
    int bit_depth = 0;
    int color_type = 0;
};
std::optional<PngHeader> read_png_header(std::string_view png);

/// A PNG decoded by libpng into 8-bit RGB.
struct RgbImage {
    int width = 0;
    int height = 0;
    std::vector<std::uint8_t> rgb;  ///< 3 bytes per pixel, row by row

    std::uint32_t at(int x, int y) const {
        const std::size_t i =
            (static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x)) * 3;
        return static_cast<std::uint32_t>(rgb[i]) << 16 | static_cast<std::uint32_t>(rgb[i + 1]) << 8 |
               rgb[i + 2];
    }
};
/// Nothing when libpng rejects the data.
std::optional<RgbImage> decode_png(std::string_view png);

}  // namespace nebula::bot::ui::testing
