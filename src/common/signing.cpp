#include "common/signing.hpp"

#include <charconv>

#include "common/crypto.hpp"

namespace nebula::common::signing {
namespace {

constexpr std::string_view kPrefix = "v1=";
constexpr std::string_view kEmptyBodyHash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::optional<std::int64_t> parse_timestamp(std::string_view text) {
    if (text.empty() || text.size() > 12) return std::nullopt;
    std::int64_t value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || ptr != text.data() + text.size() || value < 0) return std::nullopt;
    return value;
}

bool valid_nonce(std::string_view nonce) {
    return nonce.size() >= 2 * kMinNonceBytes && nonce.size() <= 2 * kMaxNonceBytes && is_hex(nonce);
}

}  // namespace

std::string canonical(std::string_view method, std::string_view target, std::int64_t timestamp,
                      std::string_view nonce, std::string_view body) {
    std::string out;
    out.reserve(3 + method.size() + target.size() + nonce.size() + 96);
    out += "v1\n";
    out += method;
    out += '\n';
    out += target;
    out += '\n';
    out += std::to_string(timestamp);
    out += '\n';
    out += nonce;
    out += '\n';
    if (body.empty()) {
        out += kEmptyBodyHash;  // most requests are GETs
    } else {
        out += sha256_hex(body);
    }
    return out;
}

SignedHeaders sign_with_nonce(std::string_view key, std::string_view method, std::string_view target,
                              std::int64_t now, std::string_view nonce, std::string_view body) {
    SignedHeaders h;
    h.timestamp = std::to_string(now);
    h.nonce = std::string(nonce);
    h.signature = std::string(kPrefix) + hmac_sha256_hex(key, canonical(method, target, now, nonce, body));
    return h;
}

SignedHeaders sign(std::string_view key, std::string_view method, std::string_view target, std::int64_t now,
                   std::string_view body) {
    return sign_with_nonce(key, method, target, now, random_hex(kMinNonceBytes), body);
}

std::string_view to_string(VerifyError error) {
    switch (error) {
        case VerifyError::missing_signature:
            return "missing_signature";
        case VerifyError::bad_signature:
            return "bad_signature";
        case VerifyError::stale_timestamp:
            return "stale_timestamp";
    }
    return "bad_signature";
}

Verifier::Verifier(const std::vector<std::string>& keys) {
    for (const auto& key : keys) {
        if (!key.empty()) macs_.emplace_back(key);
    }
}

std::optional<VerifyError> Verifier::verify(std::string_view method, std::string_view target,
                                            std::string_view body, std::optional<std::string_view> timestamp,
                                            std::optional<std::string_view> nonce,
                                            std::optional<std::string_view> signature, std::int64_t now) {
    if (!timestamp || !nonce || !signature) return VerifyError::missing_signature;
    auto ts = parse_timestamp(*timestamp);
    if (!ts || !valid_nonce(*nonce) || signature->substr(0, kPrefix.size()) != kPrefix) {
        return VerifyError::missing_signature;
    }
    std::string_view given = signature->substr(kPrefix.size());
    // The signature is checked before the clock, so an attacker learns nothing about the
    // window from unsigned probes.
    const std::string text = canonical(method, target, *ts, *nonce, body);
    bool matched = false;
    for (auto& mac : macs_) {
        // Evaluate every key so timing does not reveal which one matched.
        matched = constant_time_equal(mac.hex(text), given) || matched;
    }
    if (!matched) return VerifyError::bad_signature;
    std::int64_t skew = now - *ts;
    if (skew > kWindowSeconds || skew < -kWindowSeconds) return VerifyError::stale_timestamp;
    return std::nullopt;
}

std::optional<VerifyError> verify(const std::vector<std::string>& keys, std::string_view method,
                                  std::string_view target, std::string_view body,
                                  std::optional<std::string_view> timestamp,
                                  std::optional<std::string_view> nonce,
                                  std::optional<std::string_view> signature, std::int64_t now) {
    return Verifier(keys).verify(method, target, body, timestamp, nonce, signature, now);
}

}  // namespace nebula::common::signing
