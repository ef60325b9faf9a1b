#pragma once

#include <cstdint>
#include <string>
#include <string_view>

using cairo_t = struct _cairo;  // NOLINT(bugprone-reserved-identifier): cairo.h's own name

namespace nebula::bot::ui::detail {

/// The fonts charts use, as fontconfig family names, in order: Noto Sans for Latin, Noto Sans
/// Arabic for Arabic (Debian's fonts-noto-core), DejaVu Sans (fonts-dejavu-core, which also
/// covers Arabic) when Noto is not installed. Naming families, never a generic "sans-serif",
/// keeps the rendering the same whatever the machine's fontconfig preferences say.
inline constexpr const char* kChartFontFamilies = "Noto Sans,Noto Sans Arabic,DejaVu Sans";

/// Where a text's anchor x lies on the laid-out line.
enum class Anchor { left, center, right };

/// What Pango made of a text: its ink-independent logical size in pixels, how many characters
/// no installed font could draw, the paragraph direction and the family of the font used for
/// the first run (e.g. "Noto Sans Arabic").
struct TextLayoutInfo {
    double width = 0;
    double height = 0;
    int unknown_glyphs = 0;
    bool right_to_left = false;
    std::string first_family;
};

/// Lays `text` (UTF-8, any script: Pango shapes it with HarfBuzz and orders it with the Unicode
/// bidirectional algorithm) out at `size_px` without drawing it. Thread-safe: each thread uses
/// its own Pango font map.
TextLayoutInfo measure_text(std::string_view text, double size_px, bool bold = false);

/// Draws `text` on `cr` with its top at `top` and its anchor at `x`, anti-aliased, in colour
/// 0xRRGGBB; a text wider than `max_width` is cut with an ellipsis. Returns the drawn width.
double draw_text(cairo_t* cr, std::string_view text, double size_px, double x, double top, Anchor anchor,
                 std::uint32_t color, double max_width, bool bold = false);

/// The width `text` takes at `size_px`.
double text_width(cairo_t* cr, std::string_view text, double size_px, bool bold = false);

}  // namespace nebula::bot::ui::detail
