// The v1 signature check of nebula-gateway. Input lines: method, target, timestamp, nonce,
// signature, then the body. A signature line of "*" (current key) or "*old" (previous key) is
// replaced by the correct signature for the other fields, so the fuzzer also explores accepted
// requests. Properties: nothing throws; a request is accepted only when it is signed with one of
// the keys, carries a well-formed nonce and a timestamp within ±300 s; an accepted request is
// refused once its method, target or body changes.
#include <charconv>
#include <string>
#include <vector>

#include "common/crypto.hpp"
#include "common/signing.hpp"
#include "fuzz_util.hpp"

using namespace nebula;
namespace signing = common::signing;

namespace {

constexpr std::int64_t kNow = 1'800'000'000;
const std::string kKey = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const std::string kOldKey = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

std::optional<std::int64_t> decimal(std::string_view text) {
    std::int64_t value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size()) return std::nullopt;
    return value;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view rest = fuzz::as_text(data, size);
    const std::string_view method = fuzz::take_line(rest);
    const std::string_view target = fuzz::take_line(rest);
    const std::string_view timestamp = fuzz::take_line(rest);
    const std::string_view nonce = fuzz::take_line(rest);
    std::string signature(fuzz::take_line(rest));
    const std::string_view body = rest;

    static signing::Verifier verifier(std::vector<std::string>{kKey, kOldKey});
    const auto ts = decimal(timestamp);
    bool signed_by_us = false;
    if ((signature == "*" || signature == "*old") && ts) {
        signature = "v1=" + common::hmac_sha256_hex(signature == "*" ? kKey : kOldKey,
                                                    signing::canonical(method, target, *ts, nonce, body));
        signed_by_us = true;
    }

    const auto error = verifier.verify(method, target, body, timestamp, nonce, signature, kNow);
    // Each header missing on its own is refused as such.
    fuzz::check(verifier.verify(method, target, body, std::nullopt, nonce, signature, kNow) ==
                    signing::VerifyError::missing_signature,
                "a request without a timestamp is refused");
    fuzz::check(verifier.verify(method, target, body, timestamp, std::nullopt, signature, kNow) ==
                    signing::VerifyError::missing_signature,
                "a request without a nonce is refused");
    fuzz::check(verifier.verify(method, target, body, timestamp, nonce, std::nullopt, kNow) ==
                    signing::VerifyError::missing_signature,
                "a request without a signature is refused");
    if (error) return 0;

    // Accepted: only with a signature made with one of the keys over exactly these fields.
    fuzz::check(signed_by_us, "only a correctly signed request is accepted");
    fuzz::check(ts && *ts >= kNow - signing::kWindowSeconds && *ts <= kNow + signing::kWindowSeconds,
                "an accepted request's timestamp is within the window");
    fuzz::check(nonce.size() >= 2 * signing::kMinNonceBytes && nonce.size() <= 2 * signing::kMaxNonceBytes &&
                    common::is_hex(nonce),
                "an accepted request's nonce is 32 to 128 hex digits");
    const std::string other_body = std::string(body) + "x";
    const std::string other_target = std::string(target) + "x";
    fuzz::check(verifier.verify(method, target, other_body, timestamp, nonce, signature, kNow) ==
                    signing::VerifyError::bad_signature,
                "the signature covers the body");
    fuzz::check(verifier.verify(method, other_target, body, timestamp, nonce, signature, kNow) ==
                    signing::VerifyError::bad_signature,
                "the signature covers the target");
    fuzz::check(verifier.verify(method == "GET" ? "POST" : "GET", target, body, timestamp, nonce, signature,
                                kNow) == signing::VerifyError::bad_signature,
                "the signature covers the method");
    fuzz::check(
        verifier.verify(method, target, body, timestamp, nonce, signature,
                        kNow + 2 * signing::kWindowSeconds + 1) == signing::VerifyError::stale_timestamp,
        "a signature expires");
    return 0;
}
