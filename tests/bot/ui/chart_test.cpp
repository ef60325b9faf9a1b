#include "bot/ui/chart.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "bot/ui/font.hpp"
#include "bot/ui/png_reader.hpp"

namespace nebula::bot::ui {
namespace {

using testing::decode_png;
using testing::read_png_header;
using testing::RgbImage;

BarChart thirty_days() {
    BarChart chart;
    chart.title = "Revenue, last 30 days";
    chart.x_label = "Day";
    chart.y_label = "EGP";
    for (int day = 1; day <= 30; ++day) {
        // Varied, all positive, including a small one and a fractional one.
        const double value = day == 7 ? 35.5 : 150.0 * ((day * 7) % 11 + 1);
        chart.bars.push_back({std::to_string(day), value});
    }
    return chart;
}

struct Column {
    int left = 0;
    int right = 0;  // inclusive
    int top = 0;
    int bottom = 0;  // inclusive
};

// The bars as runs of columns holding bar-coloured pixels, left to right.
std::vector<Column> find_bars(const RgbImage& image) {
    std::vector<Column> bars;
    bool open = false;
    for (int x = 0; x < image.width; ++x) {
        int top = -1;
        int bottom = -1;
        for (int y = 0; y < image.height; ++y) {
            if (image.at(x, y) == kChartBar) {
                if (top < 0) top = y;
                bottom = y;
            }
        }
        if (top < 0) {
            open = false;
            continue;
        }
        if (!open) {
            bars.push_back({x, x, top, bottom});
            open = true;
        } else {
            Column& bar = bars.back();
            bar.right = x;
            EXPECT_EQ(bar.top, top) << "bar columns differ in height at x=" << x;
            EXPECT_EQ(bar.bottom, bottom) << "bar columns differ in base at x=" << x;
        }
    }
    return bars;
}

TEST(BarChartPng, HasTheRequestedSizeAsAPalettePng) {
    const std::string png = render_bar_chart(thirty_days());
    const auto header = read_png_header(png);
    ASSERT_TRUE(header.has_value());
    EXPECT_EQ(header->width, 900u);
    EXPECT_EQ(header->height, 400u);
    EXPECT_EQ(header->color_type, 3);
    EXPECT_EQ(header->bit_depth, 8);

    BarChart small = thirty_days();
    small.width = 320;
    small.height = 200;
    const auto image = decode_png(render_bar_chart(small));
    ASSERT_TRUE(image.has_value());
    EXPECT_EQ(image->width, 320);
    EXPECT_EQ(image->height, 200);
}

TEST(BarChartPng, BarHeightsAreProportionalToValues) {
    const BarChart chart = thirty_days();
    const auto image = decode_png(render_bar_chart(chart));
    ASSERT_TRUE(image.has_value());
    const auto bars = find_bars(*image);
    ASSERT_EQ(bars.size(), chart.bars.size());

    double max_value = 0;
    int max_height = 0;
    for (std::size_t i = 0; i < bars.size(); ++i) {
        max_value = std::max(max_value, chart.bars[i].value);
        max_height = std::max(max_height, bars[i].bottom - bars[i].top + 1);
    }
    ASSERT_GT(max_height, 200);  // the plot uses most of the 400 px height
    for (std::size_t i = 0; i < bars.size(); ++i) {
        SCOPED_TRACE("bar " + chart.bars[i].label);
        const int height = bars[i].bottom - bars[i].top + 1;
        const double expected = chart.bars[i].value / max_value * max_height;
        EXPECT_NEAR(height, expected, 1.0);
        EXPECT_EQ(bars[i].bottom, bars[0].bottom) << "bars share one baseline";
        EXPECT_EQ(bars[i].right - bars[i].left, bars[0].right - bars[0].left) << "bars share one width";
        if (i > 0) {
            EXPECT_GT(bars[i].left, bars[i - 1].right + 1) << "bars are separated";
        }
    }
}

TEST(BarChartPng, ZeroBarsLeaveAGapAndTheRestStayProportional) {
    BarChart chart;
    chart.title = "Revenue";
    chart.bars = {{"1", 100}, {"2", 0}, {"3", 50}, {"4", 25}};
    const auto image = decode_png(render_bar_chart(chart));
    ASSERT_TRUE(image.has_value());
    const auto bars = find_bars(*image);
    ASSERT_EQ(bars.size(), 3u);
    const int full = bars[0].bottom - bars[0].top + 1;
    EXPECT_NEAR(bars[1].bottom - bars[1].top + 1, full / 2.0, 1.0);
    EXPECT_NEAR(bars[2].bottom - bars[2].top + 1, full / 4.0, 1.0);
    // The gap where bar "2" would be is wider than the gap between other neighbours.
    EXPECT_GT(bars[1].left - bars[0].right, 2 * (bars[2].left - bars[1].right));
}

// Finds the bounding box of pixels that are neither background nor bar inside a window.
struct Box {
    int left = 1 << 30, top = 1 << 30, right = -1, bottom = -1;
};
Box ink_box(const RgbImage& image, int x0, int y0, int x1, int y1) {
    Box box;
    for (int y = y0; y < y1; ++y) {
        for (int x = x0; x < x1; ++x) {
            const auto c = image.at(x, y);
            if (c == kChartBackground || c == kChartBar) continue;
            box.left = std::min(box.left, x);
            box.top = std::min(box.top, y);
            box.right = std::max(box.right, x);
            box.bottom = std::max(box.bottom, y);
        }
    }
    return box;
}

// True when the text drawn at (x, y) with `scale` matches the font pixel for pixel.
bool text_matches(const RgbImage& image, int x, int y, std::string_view text, int scale) {
    for (std::size_t i = 0; i < text.size(); ++i) {
        for (int row = 0; row < detail::kGlyphHeight * scale; ++row) {
            for (int col = 0; col < detail::kGlyphWidth * scale; ++col) {
                const int px = x + static_cast<int>(i) * detail::kGlyphAdvance * scale + col;
                const bool ink = image.at(px, y + row) != kChartBackground;
                const bool expected = detail::glyph_pixel(text[i], col / scale, row / scale);
                if (ink != expected) return false;
            }
        }
    }
    return true;
}

TEST(BarChartPng, EmptyOrZeroDataSaysNoData) {
    BarChart empty;
    empty.title = "Revenue, last 30 days";
    BarChart zeros = empty;
    for (int day = 1; day <= 30; ++day) zeros.bars.push_back({std::to_string(day), 0});

    const std::string empty_png = render_bar_chart(empty);
    EXPECT_TRUE(render_bar_chart(zeros) == empty_png) << "all-zero data renders as no data";

    const auto image = decode_png(empty_png);
    ASSERT_TRUE(image.has_value());
    EXPECT_TRUE(find_bars(*image).empty());
    // The message is the only ink in the middle band of the plot.
    const Box box = ink_box(*image, 150, 140, 750, 260);
    const int scale = 3;
    ASSERT_EQ(box.right - box.left + 1, detail::text_width("No data", scale));
    // Glyph boxes are 7 rows high but "N" fills all of them.
    ASSERT_EQ(box.bottom - box.top + 1, detail::kGlyphHeight * scale);
    EXPECT_TRUE(text_matches(*image, box.left, box.top, "No data", scale));
}

TEST(BarChartPng, DrawsTheTitleWithTheBuiltInFont) {
    const auto image = decode_png(render_bar_chart(thirty_days()));
    ASSERT_TRUE(image.has_value());
    EXPECT_TRUE(text_matches(*image, 16, 16, "Revenue, last 30 days", 3));
    EXPECT_EQ(image->at(16 + 1, 16 + 1), kChartText);
    EXPECT_FALSE(text_matches(*image, 16, 16, "Revenue, last 31 days", 3));
}

TEST(BarChartPng, LabelsTheMaximumOnTheYAxis) {
    BarChart chart;
    chart.title = "T";
    chart.bars = {{"1", 1250}, {"2", 400}};
    const auto image = decode_png(render_bar_chart(chart));
    ASSERT_TRUE(image.has_value());
    const auto bars = find_bars(*image);
    ASSERT_EQ(bars.size(), 2u);
    // The label sits left of the plot, vertically centred on the top of the tallest bar.
    const std::string label = "1,250";
    const int scale = 2;
    const int y = bars[0].top - detail::kGlyphHeight * scale / 2;
    bool found = false;
    for (int x = 0; x + detail::text_width(label, scale) < bars[0].left && !found; ++x) {
        found = text_matches(*image, x, y, label, scale);
    }
    EXPECT_TRUE(found) << "no \"1,250\" beside the top of the tallest bar";
}

TEST(BarChartPng, SameInputSameBytes) {
    const BarChart chart = thirty_days();
    // Compared as booleans: a failure should not print 3 KB of PNG.
    EXPECT_TRUE(render_bar_chart(chart) == render_bar_chart(chart));
    BarChart changed = chart;
    changed.bars[3].value *= 1.5;
    EXPECT_FALSE(render_bar_chart(changed) == render_bar_chart(chart));
    changed = chart;
    changed.bars[0].label = "X";
    EXPECT_FALSE(render_bar_chart(changed) == render_bar_chart(chart));
}

TEST(BarChartPng, ManyLongLabelsStillRender) {
    BarChart chart;
    chart.title = "Revenue by day";
    for (int i = 0; i < 90; ++i) chart.bars.push_back({"2025-01-" + std::to_string(i), 10.0 + i});
    const auto image = decode_png(render_bar_chart(chart));
    ASSERT_TRUE(image.has_value());
    EXPECT_EQ(find_bars(*image).size(), 90u);
}

TEST(BarChartPng, InvalidInputIsABug) {
    BarChart chart = thirty_days();
    chart.bars[0].value = -1;
    EXPECT_THROW(render_bar_chart(chart), std::invalid_argument);
    chart.bars[0].value = std::numeric_limits<double>::quiet_NaN();
    EXPECT_THROW(render_bar_chart(chart), std::invalid_argument);
    chart = thirty_days();
    chart.width = 100;
    EXPECT_THROW(render_bar_chart(chart), std::invalid_argument);
}

}  // namespace
}  // namespace nebula::bot::ui
