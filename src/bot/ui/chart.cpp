#include "bot/ui/chart.hpp"

#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "bot/ui/font.hpp"

namespace nebula::bot::ui {
namespace {

using detail::Anchor;

constexpr std::uint32_t kGrid = 0xE3E5E8;
constexpr std::uint32_t kAxis = 0x99AAB5;
constexpr std::uint32_t kMuted = 0x72767D;

constexpr double kPad = 16;
constexpr double kTitleSize = 22;
constexpr double kLabelSize = 13;
constexpr double kAxisTitleSize = 14;

void set_color(cairo_t* cr, std::uint32_t color) {
    cairo_set_source_rgb(cr, ((color >> 16) & 0xFF) / 255.0, ((color >> 8) & 0xFF) / 255.0,
                         (color & 0xFF) / 255.0);
}

// Whole-pixel rectangles drawn without anti-aliasing, so bars and grid lines have exact colours.
void fill_rect(cairo_t* cr, double x0, double y0, double x1, double y1, std::uint32_t color) {
    cairo_save(cr);
    cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE);
    set_color(cr, color);
    const double left = std::round(std::min(x0, x1));
    const double right = std::round(std::max(x0, x1));
    cairo_rectangle(cr, left, std::round(y0), right - left, std::round(y1) - std::round(y0));
    cairo_fill(cr);
    cairo_restore(cr);
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

struct SurfaceDeleter {
    void operator()(cairo_surface_t* surface) const { cairo_surface_destroy(surface); }
};
struct ContextDeleter {
    void operator()(cairo_t* cr) const { cairo_destroy(cr); }
};

cairo_status_t append_png(void* closure, const unsigned char* data, unsigned int length) {
    static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
    return CAIRO_STATUS_SUCCESS;
}

}  // namespace

BarChart usage_chart(Locale locale, std::string_view period, std::vector<ChartBar> bars) {
    constexpr double kGigabyte = 1024.0 * 1024.0 * 1024.0;
    constexpr double kMegabyte = 1024.0 * 1024.0;
    double busiest = 0;
    for (const ChartBar& bar : bars) busiest = std::max(busiest, bar.value);
    const bool gigabytes = busiest >= kGigabyte;
    for (ChartBar& bar : bars) bar.value /= gigabytes ? kGigabyte : kMegabyte;
    BarChart chart;
    chart.title = tr(locale, Msg::chart_usage_title, {{"period", period}});
    chart.x_label = tr(locale, Msg::chart_axis_day);
    chart.y_label = tr(locale, gigabytes ? Msg::chart_axis_gigabytes : Msg::chart_axis_megabytes);
    chart.no_data = tr(locale, Msg::chart_no_usage);
    chart.right_to_left = locale == Locale::ar;
    chart.bars = std::move(bars);
    return chart;
}

std::vector<double> trailing_average(const std::vector<double>& values, int window) {
    if (window < 1) throw std::invalid_argument("trailing_average: window must be positive");
    std::vector<double> averages;
    averages.reserve(values.size());
    double sum = 0;
    for (std::size_t i = 0; i < values.size(); ++i) {
        sum += values[i];
        if (i >= static_cast<std::size_t>(window)) sum -= values[i - static_cast<std::size_t>(window)];
        averages.push_back(sum / static_cast<double>(std::min(i + 1, static_cast<std::size_t>(window))));
    }
    return averages;
}

BarChart revenue_chart(Locale locale, std::string_view period, std::vector<ChartBar> bars, bool monthly) {
    BarChart chart;
    chart.title = tr(locale, Msg::chart_revenue_title, {{"period", period}});
    chart.x_label = tr(locale, monthly ? Msg::chart_axis_month : Msg::chart_axis_day);
    chart.y_label = tr(locale, Msg::chart_axis_money);
    chart.no_data = tr(locale, Msg::chart_no_data);
    chart.right_to_left = locale == Locale::ar;
    if (!monthly && bars.size() >= 7) {
        std::vector<double> values;
        values.reserve(bars.size());
        for (const ChartBar& bar : bars) values.push_back(bar.value);
        chart.line = trailing_average(values, 7);
        chart.line_label = tr(locale, Msg::chart_average_7_days);
    }
    chart.bars = std::move(bars);
    return chart;
}

std::string render_bar_chart(const BarChart& chart) {
    if (chart.width < 240 || chart.height < 160 || chart.width > 4000 || chart.height > 4000) {
        throw std::invalid_argument("render_bar_chart: size must be within 240x160 .. 4000x4000");
    }
    if (!chart.line.empty() && chart.line.size() != chart.bars.size()) {
        throw std::invalid_argument("render_bar_chart: the line needs one value per bar");
    }
    double max_value = 0;
    const auto check = [&](double value) {
        if (!std::isfinite(value) || value < 0) {
            throw std::invalid_argument("render_bar_chart: values must be finite and not negative");
        }
        max_value = std::max(max_value, value);
    };
    for (const ChartBar& bar : chart.bars) check(bar.value);
    for (const double value : chart.line) check(value);
    const bool has_data = max_value > 0;

    const std::unique_ptr<cairo_surface_t, SurfaceDeleter> surface{
        cairo_image_surface_create(CAIRO_FORMAT_RGB24, chart.width, chart.height)};
    const std::unique_ptr<cairo_t, ContextDeleter> context{cairo_create(surface.get())};
    cairo_t* cr = context.get();
    if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) throw std::runtime_error("render_bar_chart: out of memory");
    set_color(cr, kChartBackground);
    cairo_paint(cr);

    // Everything is placed as for a left-to-right reader, then mirrored for a right-to-left one.
    const double width = chart.width;
    const bool rtl = chart.right_to_left;
    const auto x_of = [&](double x) { return rtl ? width - x : x; };
    const auto anchor_of = [&](Anchor anchor) {
        if (!rtl || anchor == Anchor::center) return anchor;
        return anchor == Anchor::left ? Anchor::right : Anchor::left;
    };
    const auto text = [&](std::string_view s, double size, double x, double top, Anchor anchor,
                          std::uint32_t color, double max_width, bool bold = false) {
        return detail::draw_text(cr, s, size, x_of(x), top, anchor_of(anchor), color, max_width, bold);
    };
    const double line_height = kLabelSize * 1.5;

    text(chart.title, kTitleSize, kPad, kPad, Anchor::left, kChartText, width - 2 * kPad, true);
    const double y_title_top = kPad + kTitleSize * 1.5 + 6;
    const double legend_width = chart.line.empty() || chart.line_label.empty()
                                    ? 0
                                    : detail::text_width(cr, chart.line_label, kLabelSize) + 28;
    text(chart.y_label, kAxisTitleSize, kPad, y_title_top, Anchor::left, kMuted,
         width - 2 * kPad - legend_width - 16);
    if (legend_width > 0 && has_data) {
        const double right = width - kPad;
        const double middle = y_title_top + kAxisTitleSize * 0.75;
        text(chart.line_label, kLabelSize, right, y_title_top, Anchor::right, kChartText, 0);
        const double swatch_right = right - (legend_width - 28) - 6;
        fill_rect(cr, x_of(swatch_right - 18), middle - 1, x_of(swatch_right), middle + 2, kChartLine);
    }

    // Vertical layout, bottom up: x axis title, bar labels, then the plot.
    const double x_title_top = chart.height - kPad - kAxisTitleSize * 1.4;
    const double plot_bottom = std::round(x_title_top - 6 - line_height - 6);
    const double plot_top = std::round(y_title_top + kAxisTitleSize * 1.5 + 14);

    const std::string top_label = has_data ? format_value(max_value) : "";
    const std::string mid_label = has_data ? format_value(max_value / 2) : "";
    const double y_labels_width =
        std::max({detail::text_width(cr, top_label, kLabelSize),
                  detail::text_width(cr, mid_label, kLabelSize), detail::text_width(cr, "0", kLabelSize)});
    const double plot_left = std::round(kPad + y_labels_width + 10);
    const double plot_right = width - kPad;
    const double plot_width = plot_right - plot_left;
    const double plot_height = plot_bottom - plot_top;

    // Grid lines at 0, half and the maximum, each with its value beside the axis.
    const double mid_y = std::round(plot_bottom - plot_height / 2);
    const auto axis_value = [&](const std::string& value, double center_y) {
        text(value, kLabelSize, plot_left - 8, center_y - line_height / 2, Anchor::right, kMuted, 0);
    };
    axis_value("0", plot_bottom);
    if (has_data) {
        fill_rect(cr, x_of(plot_left), plot_top, x_of(plot_right), plot_top + 1, kGrid);
        fill_rect(cr, x_of(plot_left), mid_y, x_of(plot_right), mid_y + 1, kGrid);
        axis_value(top_label, plot_top);
        axis_value(mid_label, mid_y);
    }
    text(chart.x_label, kAxisTitleSize, plot_left + plot_width / 2, x_title_top, Anchor::center, kMuted,
         plot_width);

    if (has_data) {
        const double slot = plot_width / static_cast<double>(chart.bars.size());
        const double bar_width = std::max(1.0, std::floor(slot * 0.7));
        double widest_label = 0;
        for (const ChartBar& bar : chart.bars) {
            widest_label = std::max(widest_label, detail::text_width(cr, bar.label, kLabelSize));
        }
        // Show every k-th label so neighbours keep at least 6 px between them.
        const auto every =
            std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil((widest_label + 6) / slot)));
        const auto center_of = [&](std::size_t i) {
            const double x0 = std::round(plot_left + static_cast<double>(i) * slot + (slot - bar_width) / 2);
            return x0 + bar_width / 2;
        };
        const auto height_of = [&](double value) { return std::round(value / max_value * plot_height); };
        for (std::size_t i = 0; i < chart.bars.size(); ++i) {
            const double x0 = center_of(i) - bar_width / 2;
            fill_rect(cr, x_of(x0), plot_bottom - height_of(chart.bars[i].value), x_of(x0 + bar_width),
                      plot_bottom, kChartBar);
            if (i % every == 0) {
                text(chart.bars[i].label, kLabelSize, center_of(i), plot_bottom + 6, Anchor::center,
                     kChartText, 0);
            }
        }
        if (!chart.line.empty()) {
            cairo_save(cr);
            set_color(cr, kChartLine);
            cairo_set_line_width(cr, 2.5);
            cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
            cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
            cairo_new_path(cr);  // drawing text leaves a current point behind
            for (std::size_t i = 0; i < chart.line.size(); ++i) {
                cairo_line_to(cr, x_of(center_of(i)), plot_bottom - height_of(chart.line[i]));
            }
            cairo_stroke(cr);
            cairo_restore(cr);
        }
    } else {
        text(chart.no_data, 24, plot_left + plot_width / 2, plot_top + plot_height / 2 - 18, Anchor::center,
             kMuted, plot_width);
    }
    fill_rect(cr, x_of(plot_left), plot_bottom, x_of(plot_right), plot_bottom + 1, kAxis);
    fill_rect(cr, x_of(plot_left - 1), plot_top, x_of(plot_left), plot_bottom + 1, kAxis);

    cairo_surface_flush(surface.get());
    std::string png;
    if (cairo_surface_write_to_png_stream(surface.get(), append_png, &png) != CAIRO_STATUS_SUCCESS) {
        throw std::runtime_error("render_bar_chart: writing the PNG failed");
    }
    return png;
}

}  // namespace nebula::bot::ui
