#pragma once

#include <cstdint>
#include <string_view>

#include "bot/ui/png_writer.hpp"

namespace nebula::bot::ui::detail {

/// A built-in 5×7 pixel font for printable ASCII (32..126), drawn with a 1-pixel gap between
/// glyphs; any other byte draws as '?'. At scale s a glyph is 5s × 7s and advances 6s.
inline constexpr int kGlyphWidth = 5;
inline constexpr int kGlyphHeight = 7;
inline constexpr int kGlyphAdvance = 6;

/// Width in pixels of `text` at `scale` (no trailing gap).
int text_width(std::string_view text, int scale);

/// Draws `text` with its top-left corner at (x, y) in palette colour `color`; pixels outside the
/// image are clipped.
void draw_text(IndexedImage& image, int x, int y, std::string_view text, int scale, std::uint8_t color);

/// True when glyph `c` has its pixel (column, row) set; used by tests to check rendering.
bool glyph_pixel(char c, int column, int row);

}  // namespace nebula::bot::ui::detail
