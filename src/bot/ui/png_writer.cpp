#include "bot/ui/png_writer.hpp"

#include <png.h>

#include <csetjmp>
#include <stdexcept>
#include <vector>

namespace nebula::bot::ui::detail {
namespace {

struct Target {
    std::string* out;
};

void append_bytes(png_structp png, png_bytep data, png_size_t length) {
    auto* target = static_cast<Target*>(png_get_io_ptr(png));
    try {
        target->out->append(reinterpret_cast<const char*>(data), length);
    } catch (...) {
        // An exception must not unwind through libpng's C frames; png_error longjmps instead.
        png_error(png, "out of memory");
    }
}

void flush_nothing(png_structp) {}

// libpng reports errors by longjmp. Everything with a destructor lives in the caller, so the
// jump skips no C++ cleanup; this function only touches raw pointers after setjmp.
bool write_png(std::string& out, int width, int height, int color_type, int bit_depth,
               const png_color* palette, int palette_size, png_bytepp rows) {
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
    if (png == nullptr) return false;
    png_infop info = png_create_info_struct(png);
    if (info == nullptr) {
        png_destroy_write_struct(&png, nullptr);
        return false;
    }
    Target target{&out};
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return false;
    }
    png_set_write_fn(png, &target, append_bytes, flush_nothing);
    png_set_IHDR(png, info, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height), bit_depth,
                 color_type, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (palette != nullptr) png_set_PLTE(png, info, palette, palette_size);
    png_set_compression_level(png, 9);
    png_write_info(png, info);
    png_write_image(png, rows);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    return true;
}

std::string finish(std::vector<std::uint8_t>& data, std::size_t stride, int width, int height, int color_type,
                   int bit_depth, const std::vector<png_color>& palette) {
    std::vector<png_bytep> rows(static_cast<std::size_t>(height));
    for (std::size_t y = 0; y < rows.size(); ++y) rows[y] = data.data() + y * stride;
    std::string out;
    out.reserve(data.size() / 4 + 256);
    if (!write_png(out, width, height, color_type, bit_depth, palette.empty() ? nullptr : palette.data(),
                   static_cast<int>(palette.size()), rows.data())) {
        throw std::runtime_error("libpng could not encode the image");
    }
    return out;
}

void check_size(int width, int height, std::size_t pixels) {
    if (width <= 0 || height <= 0 ||
        pixels != static_cast<std::size_t>(width) * static_cast<std::size_t>(height)) {
        throw std::invalid_argument("image size does not match its pixel count");
    }
}

}  // namespace

std::string encode_png_gray1(int width, int height, std::span<const std::uint8_t> dark) {
    check_size(width, height, dark.size());
    const std::size_t stride = (static_cast<std::size_t>(width) + 7) / 8;
    // Gray 1-bit: a set bit is white, so every byte starts white and dark pixels clear their bit.
    std::vector<std::uint8_t> data(stride * static_cast<std::size_t>(height), 0xFF);
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            if (dark[static_cast<std::size_t>(y) * static_cast<std::size_t>(width) +
                     static_cast<std::size_t>(x)]) {
                data[static_cast<std::size_t>(y) * stride + static_cast<std::size_t>(x / 8)] &=
                    static_cast<std::uint8_t>(~(0x80U >> (x % 8)));
            }
        }
    }
    // Padding bits at the end of each row stay white; decoders ignore them.
    return finish(data, stride, width, height, PNG_COLOR_TYPE_GRAY, 1, {});
}

}  // namespace nebula::bot::ui::detail
