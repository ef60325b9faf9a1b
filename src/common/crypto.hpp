#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace nebula::common {

/// Lowercase hex of SHA-256(data).
std::string sha256_hex(std::string_view data);
/// Raw 32-byte SHA-256(data).
std::string sha256_raw(std::string_view data);
/// Lowercase hex of HMAC-SHA256(key, data).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

/// `count` bytes from the operating system's CSPRNG (OpenSSL RAND_bytes). Throws on failure.
std::string random_bytes(std::size_t count);
/// Lowercase hex of `count` random bytes.
std::string random_hex(std::size_t count);
/// `length` random characters from [a-z0-9] (the panel's subscription id alphabet).
std::string random_alnum(std::size_t length);
/// A random (version 4) UUID in canonical lowercase form.
std::string uuid_v4();
/// True when `text` is a canonical UUID (8-4-4-4-12 hex digits).
bool is_uuid(std::string_view text);

/// Compares in time that depends only on the lengths, never on where the inputs differ.
bool constant_time_equal(std::string_view a, std::string_view b);

std::string to_hex(std::string_view bytes);
/// True when `text` is non-empty, even-length lowercase or uppercase hex.
bool is_hex(std::string_view text);

/// Standard base64 (RFC 4648, with padding).
std::string base64_encode(std::string_view bytes);

}  // namespace nebula::common
