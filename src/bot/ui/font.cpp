#include "bot/ui/font.hpp"

#include <cairo.h>
#include <pango/pangocairo.h>

#include <memory>
#include <stdexcept>

namespace nebula::bot::ui::detail {
namespace {

struct GObjectUnref {
    void operator()(void* object) const { g_object_unref(object); }
};
using LayoutPtr = std::unique_ptr<PangoLayout, GObjectUnref>;

// A layout for `text` at `size_px` with fixed font options: grey anti-aliasing and no hinting,
// so the same text gives the same pixels whatever the machine's defaults are.
LayoutPtr make_layout(cairo_t* cr, std::string_view text, double size_px, bool bold) {
    LayoutPtr layout{pango_cairo_create_layout(cr)};
    if (!layout) throw std::runtime_error("pango_cairo_create_layout failed");
    cairo_font_options_t* options = cairo_font_options_create();
    cairo_font_options_set_antialias(options, CAIRO_ANTIALIAS_GRAY);
    cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE);
    cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF);
    PangoContext* context = pango_layout_get_context(layout.get());
    pango_cairo_context_set_font_options(context, options);
    cairo_font_options_destroy(options);
    pango_layout_context_changed(layout.get());

    PangoFontDescription* font = pango_font_description_from_string(kChartFontFamilies);
    pango_font_description_set_absolute_size(font, size_px * PANGO_SCALE);
    pango_font_description_set_weight(font, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
    pango_layout_set_font_description(layout.get(), font);
    pango_font_description_free(font);
    pango_layout_set_single_paragraph_mode(layout.get(), TRUE);
    pango_layout_set_text(layout.get(), text.data(), static_cast<int>(text.size()));
    return layout;
}

// A scratch surface for measuring text without a chart to draw on.
struct Scratch {
    cairo_surface_t* surface = cairo_image_surface_create(CAIRO_FORMAT_A8, 1, 1);
    cairo_t* cr = cairo_create(surface);
    Scratch() = default;
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
    ~Scratch() {
        cairo_destroy(cr);
        cairo_surface_destroy(surface);
    }
};

}  // namespace

TextLayoutInfo measure_text(std::string_view text, double size_px, bool bold) {
    Scratch scratch;
    const LayoutPtr layout = make_layout(scratch.cr, text, size_px, bold);
    TextLayoutInfo info;
    PangoRectangle logical;
    pango_layout_get_extents(layout.get(), nullptr, &logical);
    info.width = static_cast<double>(logical.width) / PANGO_SCALE;
    info.height = static_cast<double>(logical.height) / PANGO_SCALE;
    info.unknown_glyphs = pango_layout_get_unknown_glyphs_count(layout.get());
    PangoLayoutLine* line = pango_layout_get_line_readonly(layout.get(), 0);
    info.right_to_left = line != nullptr && line->resolved_dir == PANGO_DIRECTION_RTL;
    if (line != nullptr && line->runs != nullptr) {
        const auto* run = static_cast<const PangoGlyphItem*>(line->runs->data);
        PangoFontDescription* used = pango_font_describe(run->item->analysis.font);
        const char* family = pango_font_description_get_family(used);
        info.first_family = family != nullptr ? family : "";
        pango_font_description_free(used);
    }
    return info;
}

double text_width(cairo_t* cr, std::string_view text, double size_px, bool bold) {
    const LayoutPtr layout = make_layout(cr, text, size_px, bold);
    PangoRectangle logical;
    pango_layout_get_extents(layout.get(), nullptr, &logical);
    return static_cast<double>(logical.width) / PANGO_SCALE;
}

double draw_text(cairo_t* cr, std::string_view text, double size_px, double x, double top, Anchor anchor,
                 std::uint32_t color, double max_width, bool bold) {
    const LayoutPtr layout = make_layout(cr, text, size_px, bold);
    if (max_width > 0) {
        pango_layout_set_width(layout.get(), static_cast<int>(max_width * PANGO_SCALE));
        pango_layout_set_ellipsize(layout.get(), PANGO_ELLIPSIZE_END);
    }
    PangoRectangle logical;
    pango_layout_get_extents(layout.get(), nullptr, &logical);
    // With a width set, the line's own position inside that width is in logical.x.
    const double width = static_cast<double>(logical.width) / PANGO_SCALE;
    const double offset = static_cast<double>(logical.x) / PANGO_SCALE;
    double left = x;
    if (anchor == Anchor::center) left = x - width / 2;
    if (anchor == Anchor::right) left = x - width;
    cairo_save(cr);
    cairo_set_source_rgb(cr, ((color >> 16) & 0xFF) / 255.0, ((color >> 8) & 0xFF) / 255.0,
                         (color & 0xFF) / 255.0);
    cairo_move_to(cr, left - offset, top);
    pango_cairo_show_layout(cr, layout.get());
    cairo_new_path(cr);
    cairo_restore(cr);
    return width;
}

}  // namespace nebula::bot::ui::detail

#if defined(__SANITIZE_ADDRESS__)
// LeakSanitizer's suppression list for every binary that draws text (the hook is part of the
// sanitizer runtime's interface). fontconfig's match cache, kept for the whole run by cairo's and
// Pango's font caches, links its patterns by encoded offsets rather than pointers, so LSan cannot
// see that they are still reachable and reports them at exit. Only fontconfig's own allocations
// are exempt.
extern "C" const char* __lsan_default_suppressions() {  // NOLINT(bugprone-reserved-identifier)
    return "leak:libfontconfig.so\n";
}
#endif
