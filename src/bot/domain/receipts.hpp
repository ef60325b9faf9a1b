#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace nebula::bot::domain {

/// What the shop accepts as a payment receipt: PNG, JPEG and WebP screenshots and PDF receipts,
/// up to `max_bytes` (MAX_RECEIPT_BYTES). The handlers check an attachment against it before
/// downloading; OrderService::submit_receipt() checks the bytes again.
struct ReceiptPolicy {
    std::size_t max_bytes = 8 * 1024 * 1024;
};

/// The accepted content types, in the order they are named to customers.
const std::vector<std::string>& receipt_types();
/// True for one of receipt_types() (parameters such as "; name=x" aside).
bool is_receipt_type(std::string_view content_type);
/// The file extension (without the dot) of an accepted type; empty for any other.
std::string_view receipt_extension(std::string_view content_type);

/// True when `bytes` start as a file of `content_type` does: the PNG signature, JPEG's SOI
/// marker, a RIFF/WEBP header, or `%PDF-`. False for any other type.
bool receipt_bytes_match(std::string_view bytes, std::string_view content_type);

}  // namespace nebula::bot::domain
