#include "bot/ui/qr.hpp"

#include <gtest/gtest.h>
#include <qrencode.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "bot/ui/png_reader.hpp"

namespace nebula::bot::ui {
namespace {

using testing::decode_png;
using testing::read_png_header;

struct QrFree {
    void operator()(QRcode* code) const { QRcode_free(code); }
};

// The reference symbol, encoded here independently with the parameters qr_png promises.
std::unique_ptr<QRcode, QrFree> reference(std::string_view text) {
    return std::unique_ptr<QRcode, QrFree>(QRcode_encodeData(
        static_cast<int>(text.size()), reinterpret_cast<const unsigned char*>(text.data()), 0, QR_ECLEVEL_M));
}

// Checks the PNG's header and that every pixel is the colour of the module (or margin) under it.
void expect_matches_modules(std::string_view text, int scale, int margin) {
    SCOPED_TRACE("text of " + std::to_string(text.size()) + " bytes, scale " + std::to_string(scale) +
                 ", margin " + std::to_string(margin));
    const auto png = qr_png(text, scale, margin);
    ASSERT_TRUE(png.has_value()) << png.error();
    const auto code = reference(text);
    ASSERT_NE(code, nullptr);
    const int side = (code->width + 2 * margin) * scale;

    const auto header = read_png_header(*png);
    ASSERT_TRUE(header.has_value());
    EXPECT_EQ(header->width, static_cast<std::uint32_t>(side));
    EXPECT_EQ(header->height, static_cast<std::uint32_t>(side));
    EXPECT_EQ(header->bit_depth, 1);
    EXPECT_EQ(header->color_type, 0);  // grayscale

    const auto image = decode_png(*png);
    ASSERT_TRUE(image.has_value());
    ASSERT_EQ(image->width, side);
    ASSERT_EQ(image->height, side);
    int mismatches = 0;
    for (int y = 0; y < side; ++y) {
        for (int x = 0; x < side; ++x) {
            const int mx = x / scale - margin;
            const int my = y / scale - margin;
            const bool inside = mx >= 0 && my >= 0 && mx < code->width && my < code->width;
            const bool dark = inside && (code->data[my * code->width + mx] & 1) != 0;
            const std::uint32_t expected = dark ? 0x000000 : 0xFFFFFF;
            if (image->at(x, y) != expected && ++mismatches <= 5) {
                ADD_FAILURE() << "pixel (" << x << ", " << y << ") is " << std::hex << image->at(x, y);
            }
        }
    }
    EXPECT_EQ(mismatches, 0);
}

TEST(QrPng, VlessLinkMatchesTheEncoderModules) {
    const std::string link =
        "vless://3f1c9a2e-5b7d-4e21-9c3a-8d6f0b2e4a11@vpn1.example.com:443?type=tcp&security=reality"
        "&pbk=Zl9kX3Jh&fp=chrome&sni=www.google.com&sid=6ba85179e30d4fc2&spx=%2F&flow=xtls-rprx-vision"
        "#NebulaLinks-NL-000123";
    expect_matches_modules(link, 8, 4);
    expect_matches_modules(link, 1, 0);
    expect_matches_modules(link, 3, 2);
}

TEST(QrPng, SmallestVersionForShortText) {
    const auto png = qr_png("NL-000123", 1, 0);
    ASSERT_TRUE(png.has_value());
    // Version 1 is 21 modules wide.
    EXPECT_EQ(read_png_header(*png)->width, 21u);
}

TEST(QrPng, TwoKilobyteLinkWorks) {
    std::string link = "https://sub.example.com/sub/";
    while (link.size() < 2048) link += static_cast<char>('a' + link.size() % 26);
    expect_matches_modules(link, 2, 4);
    const auto code = reference(link);
    EXPECT_GE(code->version, 35);
}

TEST(QrPng, EveryByteIsEncodedIncludingNul) {
    const std::string bytes("a\0b\xff\x01 c", 7);
    expect_matches_modules(bytes, 2, 1);
    // A string encoder would have stopped at the NUL and drawn a different symbol.
    const auto truncated = qr_png("a", 2, 1);
    EXPECT_NE(*qr_png(bytes, 2, 1), *truncated);
}

TEST(QrPng, CapacityLimitIsExact) {
    const std::string at_limit(kQrMaxBytes, 'x');
    const auto fits = qr_png(at_limit, 1, 0);
    ASSERT_TRUE(fits.has_value()) << fits.error();
    EXPECT_EQ(read_png_header(*fits)->width, 177u);  // version 40

    const auto too_long = qr_png(std::string(kQrMaxBytes + 1, 'x'));
    ASSERT_FALSE(too_long.has_value());
    EXPECT_NE(too_long.error().find("too long"), std::string::npos) << too_long.error();
    EXPECT_NE(too_long.error().find("2332"), std::string::npos) << too_long.error();
}

TEST(QrPng, EmptyTextIsAnError) {
    const auto png = qr_png("");
    ASSERT_FALSE(png.has_value());
    EXPECT_NE(png.error().find("empty"), std::string::npos);
}

TEST(QrPng, BadGeometryIsABug) {
    EXPECT_THROW(static_cast<void>(qr_png("x", 0, 4)), std::invalid_argument);
    EXPECT_THROW(static_cast<void>(qr_png("x", 33, 4)), std::invalid_argument);
    EXPECT_THROW(static_cast<void>(qr_png("x", 8, -1)), std::invalid_argument);
    EXPECT_THROW(static_cast<void>(qr_png("x", 8, 17)), std::invalid_argument);
}

TEST(QrPng, Deterministic) { EXPECT_EQ(*qr_png("vless://same", 4, 2), *qr_png("vless://same", 4, 2)); }

}  // namespace
}  // namespace nebula::bot::ui
