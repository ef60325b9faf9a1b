#pragma once

#include <cstdint>
#include <optional>

#include <string>
#include <string_view>
#include <vector>
#include "common/crypto.hpp"

namespace nebula::common {

/// The v1 request signature shared by nebula-bot (signer) and nebula-gateway (verifier).
/// canonical = "v1\n" METHOD "\n" path-with-query "\n" timestamp "\n" nonce "\n" hex(SHA-256(body))
/// header X-Nebula-Signature = "v1=" + lowercase hex HMAC-SHA256(key, canonical).
namespace signing {

inline constexpr std::string_view kTimestampHeader = "X-Nebula-Timestamp";
inline constexpr std::string_view kNonceHeader = "X-Nebula-Nonce";
inline constexpr std::string_view kSignatureHeader = "X-Nebula-Signature";
inline constexpr std::int64_t kWindowSeconds = 300;
inline constexpr std::int64_t kReplaySeconds = 600;
inline constexpr std::size_t kMinNonceBytes = 16;
inline constexpr std::size_t kMaxNonceBytes = 64;

std::string canonical(std::string_view method, std::string_view target, std::int64_t timestamp,
                      std::string_view nonce, std::string_view body);

/// The three header values for one request.
struct SignedHeaders {
    std::string timestamp;
    std::string nonce;
    std::string signature;
};

/// Signs with a fresh random nonce (16 bytes).
SignedHeaders sign(std::string_view key, std::string_view method, std::string_view target, std::int64_t now,
                   std::string_view body);
/// Signs with the given nonce (test vectors).
SignedHeaders sign_with_nonce(std::string_view key, std::string_view method, std::string_view target,
                              std::int64_t now, std::string_view nonce, std::string_view body);

enum class VerifyError {
    missing_signature,  ///< a header is absent or malformed
    bad_signature,      ///< no key produced this signature
    stale_timestamp,    ///< outside the ±300 s window
};

std::string_view to_string(VerifyError error);

/// Verifies requests against the current key and, during a rotation, the previous one, with the
/// keys prepared once. Not thread-safe: one per thread.
class Verifier {
  public:
    explicit Verifier(const std::vector<std::string>& keys);
    /// As the free function verify() below.
    std::optional<VerifyError> verify(std::string_view method, std::string_view target, std::string_view body,
                                      std::optional<std::string_view> timestamp,
                                      std::optional<std::string_view> nonce,
                                      std::optional<std::string_view> signature, std::int64_t now);

  private:
    std::vector<HmacSha256> macs_;
};

/// Checks the headers of one request against each key in `keys` (current first, then the
/// previous one during rotation). Replay is the caller's concern (it needs state).
/// Returns nothing on success.
std::optional<VerifyError> verify(const std::vector<std::string>& keys, std::string_view method,
                                  std::string_view target, std::string_view body,
                                  std::optional<std::string_view> timestamp,
                                  std::optional<std::string_view> nonce,
                                  std::optional<std::string_view> signature, std::int64_t now);

}  // namespace signing
}  // namespace nebula::common
