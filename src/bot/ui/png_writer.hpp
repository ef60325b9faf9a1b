#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace nebula::bot::ui::detail {

/// Encodes a 1-bit grayscale PNG; `dark[i]` non-zero paints pixel i black, zero white.
/// Deterministic (no timestamps). Throws std::runtime_error when libpng fails (out of memory).
std::string encode_png_gray1(int width, int height, std::span<const std::uint8_t> dark);

}  // namespace nebula::bot::ui::detail
