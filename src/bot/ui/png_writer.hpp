#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace nebula::bot::ui::detail {

/// An 8-bit palette image: one palette index per pixel, row by row.
struct IndexedImage {
    int width = 0;
    int height = 0;
    std::vector<std::uint8_t> pixels;    ///< width × height indices into palette
    std::vector<std::uint32_t> palette;  ///< 0xRRGGBB, at most 256 entries
};

/// Encodes a 1-bit grayscale PNG; `dark[i]` non-zero paints pixel i black, zero white.
/// Deterministic (no timestamps). Throws std::runtime_error when libpng fails (out of memory).
std::string encode_png_gray1(int width, int height, std::span<const std::uint8_t> dark);

/// Encodes an 8-bit palette PNG. Deterministic. Throws std::runtime_error when libpng fails.
std::string encode_png_indexed(const IndexedImage& image);

}  // namespace nebula::bot::ui::detail
