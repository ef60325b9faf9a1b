#include "bot/ui/chart.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "bot/ui/font.hpp"
#include "bot/ui/png_writer.hpp"

namespace nebula::bot::ui {
namespace {

// Palette indices.
constexpr std::uint8_t kBackground = 0;
constexpr std::uint8_t kText = 1;
constexpr std::uint8_t kGrid = 2;
constexpr std::uint8_t kAxis = 3;
constexpr std::uint8_t kBar = 4;
constexpr std::uint8_t kMuted = 5;

constexpr int kPad = 16;

void fill_rect(detail::IndexedImage& image, int x0, int y0, int x1, int y1, std::uint8_t color) {
    x0 = std::max(x0, 0);
    y0 = std::max(y0, 0);
    x1 = std::min(x1, image.width);
    y1 = std::min(y1, image.height);
    for (int y = y0; y < y1; ++y) {
        std::fill(image.pixels.begin() + static_cast<std::ptrdiff_t>(y) * image.width + x0,
                  image.pixels.begin() + static_cast<std::ptrdiff_t>(y) * image.width + x1, color);
    }
}

// "1,250" for whole amounts, "12.50" otherwise; fixed format so output never depends on locale.
std::string format_value(double value) {
    const auto hundredths = static_cast<long long>(std::llround(value * 100));
    const long long whole = hundredths / 100;
    std::string digits = std::to_string(whole);
    std::string grouped;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) grouped += ',';
        grouped += digits[i];
    }
    if (hundredths % 100 != 0) {
        const long long cents = hundredths % 100;
        grouped += '.';
        grouped += static_cast<char>('0' + cents / 10);
        grouped += static_cast<char>('0' + cents % 10);
    }
    return grouped;
}

// The largest scale (at most `preferred`) at which `text` fits in `width`; at least 1.
int fitting_scale(std::string_view text, int width, int preferred) {
    int scale = preferred;
    while (scale > 1 && detail::text_width(text, scale) > width) --scale;
    return scale;
}

}  // namespace

std::string render_bar_chart(const BarChart& chart) {
    if (chart.width < 240 || chart.height < 160 || chart.width > 4000 || chart.height > 4000) {
        throw std::invalid_argument("render_bar_chart: size must be within 240x160 .. 4000x4000");
    }
    double max_value = 0;
    for (const ChartBar& bar : chart.bars) {
        if (!std::isfinite(bar.value) || bar.value < 0) {
            throw std::invalid_argument("render_bar_chart: values must be finite and not negative");
        }
        max_value = std::max(max_value, bar.value);
    }
    const bool has_data = max_value > 0;

    detail::IndexedImage image;
    image.width = chart.width;
    image.height = chart.height;
    image.pixels.assign(static_cast<std::size_t>(chart.width) * static_cast<std::size_t>(chart.height),
                        kBackground);
    image.palette = {kChartBackground, kChartText, 0xE3E5E8, 0x99AAB5, kChartBar, 0x72767D};

    const int label_scale = 2;
    const int title_scale = fitting_scale(chart.title, chart.width - 2 * kPad, 3);
    detail::draw_text(image, kPad, kPad, chart.title, title_scale, kText);
    const int y_title_top = kPad + detail::kGlyphHeight * title_scale + 12;
    const int y_title_scale = fitting_scale(chart.y_label, chart.width - 2 * kPad, label_scale);
    detail::draw_text(image, kPad, y_title_top, chart.y_label, y_title_scale, kMuted);

    // Vertical layout, bottom up: x axis title, bar labels, then the plot.
    const int x_title_scale = fitting_scale(chart.x_label, chart.width - 2 * kPad, label_scale);
    const int x_title_top = chart.height - kPad - detail::kGlyphHeight * x_title_scale;
    const int plot_bottom = x_title_top - 10 - detail::kGlyphHeight * label_scale - 8;
    const int plot_top = y_title_top + detail::kGlyphHeight * label_scale + 20;

    const std::string top_label = has_data ? format_value(max_value) : "";
    const std::string mid_label = has_data ? format_value(max_value / 2) : "";
    const int y_labels_width =
        std::max({detail::text_width(top_label, label_scale), detail::text_width(mid_label, label_scale),
                  detail::text_width("0", label_scale)});
    const int plot_left = kPad + y_labels_width + 10;
    const int plot_right = chart.width - kPad;
    const int plot_width = plot_right - plot_left;
    const int plot_height = plot_bottom - plot_top;

    // Grid lines at 0, half and the maximum, each with its value at the left.
    const int glyph_half = detail::kGlyphHeight * label_scale / 2;
    const int mid_y = plot_bottom - plot_height / 2;
    const auto right_aligned = [&](const std::string& text, int center_y) {
        detail::draw_text(image, plot_left - 10 - detail::text_width(text, label_scale),
                          center_y - glyph_half, text, label_scale, kMuted);
    };
    right_aligned("0", plot_bottom);
    if (has_data) {
        fill_rect(image, plot_left, plot_top, plot_right, plot_top + 1, kGrid);
        fill_rect(image, plot_left, mid_y, plot_right, mid_y + 1, kGrid);
        right_aligned(top_label, plot_top);
        right_aligned(mid_label, mid_y);
    }

    detail::draw_text(image, plot_left + (plot_width - detail::text_width(chart.x_label, x_title_scale)) / 2,
                      x_title_top, chart.x_label, x_title_scale, kMuted);

    if (has_data) {
        const double slot = static_cast<double>(plot_width) / static_cast<double>(chart.bars.size());
        const int bar_width = std::max(1, static_cast<int>(slot * 0.7));
        int widest_label = 0;
        for (const ChartBar& bar : chart.bars) {
            widest_label = std::max(widest_label, detail::text_width(bar.label, label_scale));
        }
        // Show every k-th label so neighbours keep at least 6 px between them.
        const auto every = std::max<std::size_t>(
            1, static_cast<std::size_t>(std::ceil((widest_label + 6) / std::max(slot, 1.0))));
        for (std::size_t i = 0; i < chart.bars.size(); ++i) {
            const double left = plot_left + static_cast<double>(i) * slot;
            const int x0 = static_cast<int>(left + (slot - bar_width) / 2);
            const int height = static_cast<int>(std::lround(chart.bars[i].value / max_value * plot_height));
            fill_rect(image, x0, plot_bottom - height, x0 + bar_width, plot_bottom, kBar);
            if (i % every == 0) {
                const int center = x0 + bar_width / 2;
                detail::draw_text(image, center - detail::text_width(chart.bars[i].label, label_scale) / 2,
                                  plot_bottom + 8, chart.bars[i].label, label_scale, kText);
            }
        }
    } else {
        const std::string message = "No data";
        const int scale = 3;
        detail::draw_text(image, plot_left + (plot_width - detail::text_width(message, scale)) / 2,
                          plot_top + (plot_height - detail::kGlyphHeight * scale) / 2, message, scale,
                          kMuted);
    }
    fill_rect(image, plot_left, plot_bottom, plot_right, plot_bottom + 1, kAxis);
    fill_rect(image, plot_left - 1, plot_top, plot_left, plot_bottom + 1, kAxis);

    return detail::encode_png_indexed(image);
}

}  // namespace nebula::bot::ui
