#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace nebula::common {

/// Lowercase hex of SHA-256(data).
std::string sha256_hex(std::string_view data);
/// Raw 32-byte SHA-256(data).
std::string sha256_raw(std::string_view data);
/// Lowercase hex of HMAC-SHA256(key, data).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

/// HMAC-SHA256 with its key prepared once, for code that signs or verifies many messages with
/// the same key. Not thread-safe: use one per thread. Throws if OpenSSL fails.
class HmacSha256 {
  public:
    explicit HmacSha256(std::string_view key);
    ~HmacSha256();
    HmacSha256(HmacSha256&&) noexcept;
    HmacSha256& operator=(HmacSha256&&) noexcept;

    /// Lowercase hex of HMAC-SHA256(key, data).
    std::string hex(std::string_view data);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// SipHash-2-4 (OpenSSL's SIPHASH MAC, 64-bit output) with its 16-byte key prepared once: a
/// fast keyed hash for tables whose keys come from outside, so nobody without the key can choose
/// keys that collide. Not thread-safe: use one per thread. Throws if OpenSSL fails or the key is
/// not 16 bytes.
class SipHash64 {
  public:
    explicit SipHash64(std::string_view key);
    ~SipHash64();
    SipHash64(SipHash64&&) noexcept;
    SipHash64& operator=(SipHash64&&) noexcept;

    /// The 64-bit SipHash-2-4 of `data`, its 8 output bytes read little-endian.
    std::uint64_t operator()(std::string_view data);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

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

/// A certificate's SHA-256 fingerprint (a TLS pin) in its one stored and compared form: 64
/// lower-case hex digits. Accepts every way a person pastes it: the output of
/// `openssl x509 -noout -fingerprint -sha256` ("sha256 Fingerprint=AB:CD:…"), of
/// `openssl dgst -sha256` ("SHA2-256(stdin)= ab…") or of `sha256sum` ("ab…  -"), and bare hex with
/// or without colons or spaces, in any case. Empty (or blank) text gives "" (no pin); anything
/// else that is not 32 bytes in hex gives nullopt.
std::optional<std::string> normalize_sha256_pin(std::string_view text);
/// What normalize_sha256_pin accepts, for error messages.
inline constexpr std::string_view kPinFormatHint =
    "the certificate's SHA-256 fingerprint: 64 hex digits, with or without colons, as "
    "`openssl x509 -in cert.pem -noout -fingerprint -sha256` prints it";

/// Standard base64 (RFC 4648, with padding).
std::string base64_encode(std::string_view bytes);

}  // namespace nebula::common
