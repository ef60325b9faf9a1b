#include "bot/ui/chart.hpp"

#include <cairo.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>

#include "bot/ui/font.hpp"
#include "bot/ui/png_reader.hpp"

namespace nebula::bot::ui {
namespace {

using testing::read_png_header;
using testing::RgbImage;

// The PNG read back by Cairo itself, as 8-bit RGB; nothing when Cairo cannot read it.
std::optional<RgbImage> decode(const std::string& png) {
    struct Source {
        const std::string* data;
        std::size_t pos = 0;
    } source{&png};
    const auto read = [](void* closure, unsigned char* out, unsigned int length) {
        auto* s = static_cast<Source*>(closure);
        if (s->data->size() - s->pos < length) return CAIRO_STATUS_READ_ERROR;
        std::memcpy(out, s->data->data() + s->pos, length);
        s->pos += length;
        return CAIRO_STATUS_SUCCESS;
    };
    cairo_surface_t* surface = cairo_image_surface_create_from_png_stream(read, &source);
    std::optional<RgbImage> image;
    if (cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS) {
        image.emplace();
        image->width = cairo_image_surface_get_width(surface);
        image->height = cairo_image_surface_get_height(surface);
        const int stride = cairo_image_surface_get_stride(surface);
        const unsigned char* data = cairo_image_surface_get_data(surface);
        for (int y = 0; y < image->height; ++y) {
            for (int x = 0; x < image->width; ++x) {
                std::uint32_t pixel = 0;
                std::memcpy(&pixel, data + static_cast<std::ptrdiff_t>(y) * stride + x * 4, 4);
                image->rgb.push_back(static_cast<std::uint8_t>(pixel >> 16));
                image->rgb.push_back(static_cast<std::uint8_t>(pixel >> 8));
                image->rgb.push_back(static_cast<std::uint8_t>(pixel));
            }
        }
    }
    cairo_surface_destroy(surface);
    return image;
}

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

constexpr std::uint32_t kGridColor = 0xE3E5E8;
constexpr std::uint32_t kAxisColor = 0x99AAB5;

// What is drawn in a window: text pixels in the exact text colour, and pixels that are
// neither background, bar, grid, axis nor text colour (the anti-aliased edges of glyphs).
struct Ink {
    int solid = 0;
    int blended = 0;
    int left = 1 << 30, right = -1;
    int count() const { return solid + blended; }
};
Ink ink_in(const RgbImage& image, int x0, int y0, int x1, int y1, std::uint32_t solid_color) {
    Ink ink;
    for (int y = y0; y < y1; ++y) {
        for (int x = x0; x < x1; ++x) {
            const auto c = image.at(x, y);
            if (c == kChartBackground || c == kChartBar || c == kGridColor || c == kAxisColor) continue;
            (c == solid_color ? ink.solid : ink.blended)++;
            ink.left = std::min(ink.left, x);
            ink.right = std::max(ink.right, x);
        }
    }
    return ink;
}

TEST(BarChartPng, DecodesWithCairoAtTheRequestedSize) {
    const std::string png = render_bar_chart(thirty_days());
    const auto header = read_png_header(png);
    ASSERT_TRUE(header.has_value());
    EXPECT_EQ(header->width, 900u);
    EXPECT_EQ(header->height, 400u);
    EXPECT_EQ(header->color_type, 2);  // RGB
    EXPECT_EQ(header->bit_depth, 8);

    BarChart small = thirty_days();
    small.width = 320;
    small.height = 200;
    const auto image = decode(render_bar_chart(small));
    ASSERT_TRUE(image.has_value());
    EXPECT_EQ(image->width, 320);
    EXPECT_EQ(image->height, 200);
    EXPECT_FALSE(decode(png.substr(0, png.size() / 2)).has_value()) << "a cut PNG does not decode";
}

TEST(BarChartPng, BarHeightsAreProportionalToValues) {
    const BarChart chart = thirty_days();
    const auto image = decode(render_bar_chart(chart));
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
        EXPECT_NEAR(bars[i].right - bars[i].left, bars[0].right - bars[0].left, 1) << "bars share one width";
        if (i > 0) {
            EXPECT_GT(bars[i].left, bars[i - 1].right + 1) << "bars are separated";
        }
    }
}

TEST(BarChartPng, ZeroBarsLeaveAGapAndTheRestStayProportional) {
    BarChart chart;
    chart.title = "Revenue";
    chart.bars = {{"1", 100}, {"2", 0}, {"3", 50}, {"4", 25}};
    const auto image = decode(render_bar_chart(chart));
    ASSERT_TRUE(image.has_value());
    const auto bars = find_bars(*image);
    ASSERT_EQ(bars.size(), 3u);
    const int full = bars[0].bottom - bars[0].top + 1;
    EXPECT_NEAR(bars[1].bottom - bars[1].top + 1, full / 2.0, 1.0);
    EXPECT_NEAR(bars[2].bottom - bars[2].top + 1, full / 4.0, 1.0);
    // The gap where bar "2" would be is wider than the gap between other neighbours.
    EXPECT_GT(bars[1].left - bars[0].right, 2 * (bars[2].left - bars[1].right));
}

TEST(BarChartPng, EmptyOrZeroDataSaysNoDataInTheReadersLanguage) {
    BarChart empty;
    empty.title = "Revenue, last 30 days";
    BarChart zeros = empty;
    for (int day = 1; day <= 30; ++day) zeros.bars.push_back({std::to_string(day), 0});

    const std::string empty_png = render_bar_chart(empty);
    EXPECT_TRUE(render_bar_chart(zeros) == empty_png) << "all-zero data renders as no data";

    const auto image = decode(empty_png);
    ASSERT_TRUE(image.has_value());
    EXPECT_TRUE(find_bars(*image).empty());
    // The message is the only ink in the middle band of the plot, centred.
    const Ink message = ink_in(*image, 100, 150, 800, 250, 0x72767D);
    EXPECT_GT(message.count(), 100);
    EXPECT_NEAR((message.left + message.right) / 2.0, 450 + 20, 40);

    BarChart arabic = empty;
    arabic.no_data = "لا توجد بيانات";
    arabic.right_to_left = true;
    const auto arabic_image = decode(render_bar_chart(arabic));
    ASSERT_TRUE(arabic_image.has_value());
    EXPECT_GT(ink_in(*arabic_image, 100, 150, 800, 250, 0x72767D).count(), 100);
    EXPECT_FALSE(render_bar_chart(arabic) == empty_png);
}

TEST(BarChartPng, TitleIsAntiAliasedText) {
    const auto image = decode(render_bar_chart(thirty_days()));
    ASSERT_TRUE(image.has_value());
    // Title row: left-aligned from the padding, solid stems and grey glyph edges.
    const Ink title = ink_in(*image, 0, 10, 900, 46, kChartText);
    EXPECT_GT(title.solid, 50);
    EXPECT_GT(title.blended, 50) << "glyph edges are anti-aliased";
    EXPECT_GE(title.left, 16);
    EXPECT_LT(title.left, 24);
    EXPECT_LT(title.right, 450) << "an English title starts at the left";
}

// Titles come in the admin's language: Arabic is shaped (letters joined), laid out right to
// left, drawn in a font that has every glyph, and right-aligned in a mirrored chart.
TEST(BarChartPng, ArabicTitleIsShapedAndRightToLeft) {
    const std::string title = "الإيرادات، آخر 30 يومًا";
    const auto info = detail::measure_text(title, 22);
    EXPECT_EQ(info.unknown_glyphs, 0) << "a chart font covers Arabic";
    EXPECT_TRUE(info.right_to_left);
    EXPECT_EQ(info.first_family, "Noto Sans Arabic");
    EXPECT_GT(info.width, 100);

    // Shaping: the joined word differs in width from its letters kept apart (ZERO WIDTH NON-JOINER
    // between them forces their isolated forms).
    const std::string joined = "مرحبا";
    const std::string apart = "م\u200Cر\u200Cح\u200Cب\u200Cا";
    EXPECT_GT(std::abs(detail::measure_text(joined, 22).width - detail::measure_text(apart, 22).width), 2.0);

    const auto english = detail::measure_text("Revenue, last 30 days", 22);
    EXPECT_EQ(english.unknown_glyphs, 0);
    EXPECT_FALSE(english.right_to_left);
    EXPECT_EQ(english.first_family, "Noto Sans");

    BarChart chart = thirty_days();
    chart.title = title;
    chart.right_to_left = true;
    const auto image = decode(render_bar_chart(chart));
    ASSERT_TRUE(image.has_value());
    const Ink ink = ink_in(*image, 0, 10, 900, 46, kChartText);
    EXPECT_GT(ink.count(), 200) << "the Arabic title is drawn";
    EXPECT_LE(ink.right, 900 - 16);
    EXPECT_GT(ink.right, 900 - 24) << "right-aligned";
    EXPECT_GT(ink.left, 450);
}

TEST(BarChartPng, RightToLeftMirrorsThePlot) {
    BarChart chart;
    chart.title = "T";
    chart.bars = {{"1", 100}, {"2", 50}, {"3", 25}};
    const auto ltr = find_bars(*decode(render_bar_chart(chart)));
    chart.right_to_left = true;
    const auto rtl = find_bars(*decode(render_bar_chart(chart)));
    ASSERT_EQ(ltr.size(), 3u);
    ASSERT_EQ(rtl.size(), 3u);
    // Left to right on screen the RTL bars are 3, 2, 1: the first bar is rightmost.
    EXPECT_EQ(rtl[2].bottom - rtl[2].top, ltr[0].bottom - ltr[0].top);
    EXPECT_EQ(rtl[0].bottom - rtl[0].top, ltr[2].bottom - ltr[2].top);
    EXPECT_NEAR(rtl[2].right, 900 - 1 - ltr[0].left, 1.0);
}

TEST(BarChartPng, DrawsTheAverageLineOverTheBars) {
    BarChart chart;
    chart.title = "Revenue";
    std::vector<double> values;
    for (int day = 1; day <= 14; ++day) {
        values.push_back(day % 2 == 0 ? 100 : 0);
        chart.bars.push_back({std::to_string(day), values.back()});
    }
    chart.line = std::vector<double>(values.size(), 50);
    chart.line_label = "7-day average";
    const auto image = decode(render_bar_chart(chart));
    ASSERT_TRUE(image.has_value());
    // A flat line at half height: one row of line-coloured pixels across the plot, at the middle
    // of the full bars.
    const auto bars = find_bars(*image);
    ASSERT_FALSE(bars.empty());
    const int middle = (bars[0].top + bars[0].bottom) / 2;
    int on_line = 0;
    for (int x = bars[0].left; x <= bars.back().right; ++x) {
        for (int y = middle - 2; y <= middle + 2; ++y) {
            if (image->at(x, y) == kChartLine) {
                ++on_line;
                break;
            }
        }
    }
    EXPECT_GT(on_line, (bars.back().right - bars[0].left) * 9 / 10);
    int stray = 0;  // line-coloured pixels away from the line and the legend
    for (int y = 80; y < image->height; ++y) {
        for (int x = 0; x < image->width; ++x) {
            if (std::abs(y - middle) > 3 && image->at(x, y) == kChartLine) ++stray;
        }
    }
    EXPECT_EQ(stray, 0);
    // The legend: a swatch in the line colour and its label, at the top right.
    EXPECT_GT(ink_in(*image, 600, 40, 900, 70, kChartText).count(), 50);

    chart.line.pop_back();
    EXPECT_THROW(render_bar_chart(chart), std::invalid_argument);
}

TEST(BarChartPng, RevenueChartSpeaksTheReadersLanguage) {
    std::vector<ChartBar> days;
    for (int day = 1; day <= 30; ++day) days.push_back({std::to_string(day), 100.0 * (day % 4)});
    const BarChart english = revenue_chart(Locale::en, tr(Locale::en, Msg::period_30_days), days, false);
    EXPECT_EQ(english.title, "Revenue — Last 30 days");
    EXPECT_EQ(english.x_label, "Day");
    EXPECT_EQ(english.line_label, "7-day average");
    EXPECT_EQ(english.line.size(), 30u);
    EXPECT_FALSE(english.right_to_left);

    const BarChart arabic = revenue_chart(Locale::ar, tr(Locale::ar, Msg::period_30_days), days, false);
    EXPECT_TRUE(arabic.right_to_left);
    // The title as tr() makes it, direction marks and isolates included, has a glyph for
    // every character and reads right to left.
    for (const std::string& text : {arabic.title, arabic.x_label, arabic.y_label, arabic.line_label}) {
        SCOPED_TRACE(text);
        const auto info = detail::measure_text(text, 14);
        EXPECT_EQ(info.unknown_glyphs, 0);
        EXPECT_TRUE(info.right_to_left);
    }
    const auto image = decode(render_bar_chart(arabic));
    ASSERT_TRUE(image.has_value());
    EXPECT_EQ(image->width, 900);
    const Ink title = ink_in(*image, 0, 10, 900, 46, kChartText);
    EXPECT_GT(title.left, 300) << "the Arabic title sits on the right";
    EXPECT_GT(title.right, 900 - 24);

    const BarChart monthly = revenue_chart(Locale::en, "All time", {{"2025-01", 10}, {"2025-02", 20}}, true);
    EXPECT_EQ(monthly.x_label, "Month");
    EXPECT_TRUE(monthly.line.empty()) << "no 7-day average over months";
    const BarChart empty = revenue_chart(Locale::ar, "x", {}, false);
    EXPECT_EQ(empty.no_data, tr(Locale::ar, Msg::chart_no_data));
}

TEST(BarChartPng, TrailingAverage) {
    const auto average = trailing_average({7, 0, 14, 7, 7, 0, 14, 21}, 7);
    ASSERT_EQ(average.size(), 8u);
    EXPECT_DOUBLE_EQ(average[0], 7);
    EXPECT_DOUBLE_EQ(average[1], 3.5);
    EXPECT_DOUBLE_EQ(average[2], 7);
    EXPECT_DOUBLE_EQ(average[6], 7);
    EXPECT_DOUBLE_EQ(average[7], 9);  // (0+14+7+7+0+14+21) / 7
    EXPECT_TRUE(trailing_average({}, 7).empty());
    EXPECT_THROW(trailing_average({1}, 0), std::invalid_argument);
}

TEST(BarChartPng, LabelsTheMaximumBesideTheTallestBar) {
    BarChart chart;
    chart.title = "T";
    chart.bars = {{"1", 1250}, {"2", 400}};
    const auto image = decode(render_bar_chart(chart));
    ASSERT_TRUE(image.has_value());
    const auto bars = find_bars(*image);
    ASSERT_EQ(bars.size(), 2u);
    // "1,250" sits left of the plot, vertically centred on the top of the tallest bar.
    const Ink label = ink_in(*image, 0, bars[0].top - 8, bars[0].left - 20, bars[0].top + 8, 0x72767D);
    EXPECT_GT(label.count(), 30);
    const double width = detail::measure_text("1,250", 13).width;
    EXPECT_NEAR(label.right - label.left + 1, width, 4);
}

TEST(BarChartPng, SameInputSameBytes) {
    const BarChart chart = thirty_days();
    // Compared as booleans: a failure should not print kilobytes of PNG.
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
    const auto image = decode(render_bar_chart(chart));
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
