#pragma once

#include <string>
#include <string_view>

#include "common/result.hpp"

namespace nebula::bot::ui {

/// The longest text a QR code holds at error correction M in 8-bit mode (version 40).
inline constexpr std::size_t kQrMaxBytes = 2331;

/// Encodes `text` (bytes, taken as-is: a vless:// link, a subscription URL) as a QR code at error
/// correction level M in 8-bit mode, the smallest version that fits, and renders it as a 1-bit
/// grayscale PNG: each module is `scale` × `scale` pixels and a quiet zone of `margin` modules
/// surrounds the symbol, so the image is (modules + 2 × margin) × scale pixels square.
///
/// Errors (as text fit to show an admin): empty text, text longer than kQrMaxBytes, or an
/// encoder failure. `scale` outside 1..32 or `margin` outside 0..16 is a bug and throws
/// std::invalid_argument. Thread-safe: no shared state (libqrencode is built with its thread-safety option by
/// default).
common::Result<std::string, std::string> qr_png(std::string_view text, int scale = 8, int margin = 4);

}  // namespace nebula::bot::ui
