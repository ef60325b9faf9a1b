#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bot/ui/i18n.hpp"

namespace nebula::bot::ui {

/// One bar: its axis label (e.g. the day of the month, "7") and its value (e.g. EGP).
struct ChartBar {
    std::string label;
    double value = 0;
};

/// A bar chart to render. Texts are UTF-8 in any language the chart fonts cover (Latin and
/// Arabic): the caller passes them in the reader's language.
struct BarChart {
    std::string title;    ///< e.g. "Revenue, last 30 days"
    std::string x_label;  ///< e.g. "Day"
    std::string y_label;  ///< e.g. "EGP"
    std::vector<ChartBar> bars;
    /// A line drawn over the bars, one value per bar (e.g. the 7-day average); empty for none.
    std::vector<double> line;
    std::string line_label;           ///< its legend, e.g. "7-day average"
    std::string no_data = "No data";  ///< said in the plot when there is nothing to draw
    /// For Arabic readers: the chart is mirrored (title and value axis on the right, the first
    /// bar rightmost) and texts are laid out right to left.
    bool right_to_left = false;
    int width = 900;
    int height = 400;
};

/// Colours of the rendered chart (0xRRGGBB), exposed so tests and callers can find its parts.
inline constexpr std::uint32_t kChartBackground = 0xFFFFFF;
inline constexpr std::uint32_t kChartBar = 0x5865F2;
inline constexpr std::uint32_t kChartLine = 0xED4245;
inline constexpr std::uint32_t kChartText = 0x23272A;

/// Renders `chart` with Cairo as an 8-bit RGB PNG of chart.width × chart.height pixels: the
/// title, a value axis labelled 0, half and the maximum, one bar per entry scaled to the
/// maximum (the tallest bar or line point reaches the top grid line), the line with its
/// legend, and the bar labels under the axis (every k-th label when they would overlap). Text
/// is laid out by Pango (see font.hpp) and anti-aliased; bars are filled edge to edge in
/// kChartBar. With no bars, or all values zero, the plot says `no_data`. The output is
/// deterministic: the same chart gives the same bytes on the same fonts.
///
/// A size below 240 × 160 or above 4000 × 4000, a negative or non-finite value, or a line that
/// does not have one value per bar is a bug and throws std::invalid_argument. Thread-safe.
std::string render_bar_chart(const BarChart& chart);

/// The revenue chart in `locale`: "Revenue — <period>" over EGP per day (with the 7-day average
/// line when there are at least 7 days) or per month (`monthly`), right to left in Arabic.
BarChart revenue_chart(Locale locale, std::string_view period, std::vector<ChartBar> bars, bool monthly);

/// The usage chart in `locale`: "Traffic used — <period>" with one bar per day, `bars` holding
/// bytes, drawn in GB (MB when the busiest day used less than 1 GB), right to left in Arabic.
BarChart usage_chart(Locale locale, std::string_view period, std::vector<ChartBar> bars);

/// The trailing average of `values` over `window` entries (fewer at the start), e.g. the
/// 7-day average of daily revenue. `window` must be positive.
std::vector<double> trailing_average(const std::vector<double>& values, int window);

}  // namespace nebula::bot::ui
