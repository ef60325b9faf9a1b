#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nebula::bot::ui {

/// One bar: its axis label (e.g. the day of the month, "7") and its value (e.g. EGP).
struct ChartBar {
    std::string label;
    double value = 0;
};

/// A bar chart to render. Text is drawn with a built-in 5×7 ASCII font (no font files): bytes
/// outside printable ASCII draw as '?', so titles and labels should be English/ASCII.
struct BarChart {
    std::string title;    ///< e.g. "Revenue, last 30 days"
    std::string x_label;  ///< e.g. "Day"
    std::string y_label;  ///< e.g. "EGP"
    std::vector<ChartBar> bars;
    int width = 900;
    int height = 400;
};

/// Colours of the rendered chart (0xRRGGBB), exposed so tests and callers can find its parts.
inline constexpr std::uint32_t kChartBackground = 0xFFFFFF;
inline constexpr std::uint32_t kChartBar = 0x5865F2;
inline constexpr std::uint32_t kChartText = 0x23272A;

/// Renders `chart` as an 8-bit palette PNG of chart.width × chart.height pixels: the title, a
/// y axis labelled 0, half and the maximum value, one bar per entry scaled to the maximum
/// (the tallest bar reaches the top grid line), and the bar labels under the x axis (every
/// k-th label when they would overlap). With no bars, or all values zero, the plot area says
/// "No data". The output is deterministic: the same chart gives the same bytes.
///
/// A size below 240 × 160 or above 4000 × 4000, or a negative or non-finite value, is a bug
/// and throws std::invalid_argument. Thread-safe (no shared state).
std::string render_bar_chart(const BarChart& chart);

}  // namespace nebula::bot::ui
