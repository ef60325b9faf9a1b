#include "bot/ui/qr.hpp"

#include <qrencode.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <stdexcept>
#include <vector>

#include "bot/ui/png_writer.hpp"

namespace nebula::bot::ui {
namespace {

struct QrFree {
    void operator()(QRcode* code) const { QRcode_free(code); }
};

}  // namespace

common::Result<std::string, std::string> qr_png(std::string_view text, int scale, int margin) {
    if (scale < 1 || scale > 32) throw std::invalid_argument("qr_png: scale must be 1..32");
    if (margin < 0 || margin > 16) throw std::invalid_argument("qr_png: margin must be 0..16");
    if (text.empty()) return common::unexpected(std::string("nothing to encode: the text is empty"));
    if (text.size() > kQrMaxBytes) {
        return common::unexpected("text too long for a QR code: " + std::to_string(text.size()) +
                                  " bytes, at most " + std::to_string(kQrMaxBytes));
    }
    // QRcode_encodeData takes the bytes as they are (8-bit mode), unlike QRcode_encodeString,
    // which would switch modes and stop at a NUL.
    errno = 0;
    std::unique_ptr<QRcode, QrFree> code(QRcode_encodeData(
        static_cast<int>(text.size()), reinterpret_cast<const unsigned char*>(text.data()), 0, QR_ECLEVEL_M));
    if (!code) {
        if (errno == ERANGE) return common::unexpected(std::string("text too long for a QR code"));
        return common::unexpected("the QR encoder failed (errno " + std::to_string(errno) + ")");
    }

    const int modules = code->width;
    const int side = (modules + 2 * margin) * scale;
    std::vector<std::uint8_t> dark(static_cast<std::size_t>(side) * static_cast<std::size_t>(side), 0);
    for (int my = 0; my < modules; ++my) {
        for (int mx = 0; mx < modules; ++mx) {
            // Bit 0 of each module byte is "dark"; the other bits describe the module's role.
            if ((code->data[my * modules + mx] & 1) == 0) continue;
            const int x0 = (mx + margin) * scale;
            const int y0 = (my + margin) * scale;
            for (int y = y0; y < y0 + scale; ++y) {
                std::fill_n(dark.begin() + static_cast<std::ptrdiff_t>(y) * side + x0, scale,
                            std::uint8_t{1});
            }
        }
    }
    try {
        return detail::encode_png_gray1(side, side, dark);
    } catch (const std::runtime_error& error) {
        return common::unexpected(std::string(error.what()));
    }
}

}  // namespace nebula::bot::ui
