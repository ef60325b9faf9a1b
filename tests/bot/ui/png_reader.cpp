#include "bot/ui/png_reader.hpp"

#include <png.h>

#include <cstring>

namespace nebula::bot::ui::testing {

std::optional<PngHeader> read_png_header(std::string_view png) {
    if (png.size() < 33 || png.substr(0, 8) != std::string_view("\x89PNG\r\n\x1A\n", 8)) return std::nullopt;
    if (png.substr(8, 8) != std::string_view("\0\0\0\x0dIHDR", 8)) return std::nullopt;
    const auto be32 = [&](std::size_t at) {
        return static_cast<std::uint32_t>(static_cast<unsigned char>(png[at])) << 24 |
               static_cast<std::uint32_t>(static_cast<unsigned char>(png[at + 1])) << 16 |
               static_cast<std::uint32_t>(static_cast<unsigned char>(png[at + 2])) << 8 |
               static_cast<std::uint32_t>(static_cast<unsigned char>(png[at + 3]));
    };
    return PngHeader{be32(16), be32(20), static_cast<unsigned char>(png[24]),
                     static_cast<unsigned char>(png[25])};
}

std::optional<RgbImage> decode_png(std::string_view png) {
    png_image image;
    std::memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&image, png.data(), png.size())) return std::nullopt;
    image.format = PNG_FORMAT_RGB;
    RgbImage out;
    out.width = static_cast<int>(image.width);
    out.height = static_cast<int>(image.height);
    out.rgb.resize(PNG_IMAGE_SIZE(image));
    if (!png_image_finish_read(&image, nullptr, out.rgb.data(), 0, nullptr)) {
        png_image_free(&image);
        return std::nullopt;
    }
    return out;
}

}  // namespace nebula::bot::ui::testing
