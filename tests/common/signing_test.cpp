#include "common/signing.hpp"

#include <gtest/gtest.h>

namespace nebula::common::signing {
namespace {

// The vectors published in docs/api.md, computed independently of this code base.
constexpr std::string_view kKey = "nebula-test-key-0123456789abcdef0123456789";

struct Vector {
    const char* method;
    const char* target;
    std::int64_t timestamp;
    const char* nonce;
    const char* body;
    const char* signature;
};

const Vector kVectors[] = {
    {"GET", "/api/health", 1767225600, "000102030405060708090a0b0c0d0e0f", "",
     "1de90024d1380f1ddefcfb349a5af752a5be7bc9fce62be6a0f0b7254e351b24"},
    {"POST", "/api/clients", 1767225600, "f0e1d2c3b4a5968778695a4b3c2d1e0f",
     R"({"inbound_id":1,"email":"nl-000123","total_bytes":32212254720,"expiry_ms":1769904000000,"limit_ip":2})",
     "06ac98ecb4d09ff14f334151b73a9ba8cd34a285e11a6f9748c2c0f0c9eeb455"},
    {"DELETE", "/api/clients/nl-000123?keep=1", 1767225900, "a1a2a3a4a5a6a7a8a9aaabacadaeafb0", "",
     "4b2d2c35021270e48d4cc92bfde439b8d21ae74bf2aca0311adf68fd3e52c509"},
};

TEST(Signing, CanonicalForm) {
    EXPECT_EQ(canonical("GET", "/api/health", 1767225600, "000102030405060708090a0b0c0d0e0f", ""),
              "v1\nGET\n/api/health\n1767225600\n000102030405060708090a0b0c0d0e0f\n"
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Signing, PublishedTestVectors) {
    for (const auto& v : kVectors) {
        auto h = sign_with_nonce(kKey, v.method, v.target, v.timestamp, v.nonce, v.body);
        EXPECT_EQ(h.signature, std::string("v1=") + v.signature) << v.method << " " << v.target;
        EXPECT_EQ(h.timestamp, std::to_string(v.timestamp));
        std::vector<std::string> keys{std::string(kKey)};
        EXPECT_EQ(verify(keys, v.method, v.target, v.body, h.timestamp, h.nonce, h.signature, v.timestamp),
                  std::nullopt);
    }
}

class Window : public ::testing::Test {
  protected:
    std::vector<std::string> keys{"current-key-0123456789abcdef012345"};
    std::optional<VerifyError> at(std::int64_t signed_at, std::int64_t now) {
        auto h = sign(keys[0], "GET", "/api/health", signed_at, "");
        return verify(keys, "GET", "/api/health", "", h.timestamp, h.nonce, h.signature, now);
    }
};

TEST_F(Window, EdgesOfThe300SecondWindow) {
    const std::int64_t t = 1'800'000'000;
    EXPECT_EQ(at(t, t + 300), std::nullopt);
    EXPECT_EQ(at(t, t - 300), std::nullopt);
    EXPECT_EQ(at(t, t + 301), VerifyError::stale_timestamp);
    EXPECT_EQ(at(t, t - 301), VerifyError::stale_timestamp);
}

TEST(Signing, EitherKeyDuringRotation) {
    std::vector<std::string> keys{"new-key-0123456789abcdef0123456789", "old-key-0123456789abcdef0123456789"};
    for (const auto& k : keys) {
        auto h = sign(k, "POST", "/api/clients", 100, "{}");
        EXPECT_EQ(verify(keys, "POST", "/api/clients", "{}", h.timestamp, h.nonce, h.signature, 100),
                  std::nullopt);
    }
    auto h = sign("third-key-0123456789abcdef01234567", "POST", "/api/clients", 100, "{}");
    EXPECT_EQ(verify(keys, "POST", "/api/clients", "{}", h.timestamp, h.nonce, h.signature, 100),
              VerifyError::bad_signature);
}

TEST(Signing, VerifierIsReusableAndSkipsEmptyKeys) {
    Verifier verifier({"new-key-0123456789abcdef0123456789", ""});
    for (int i = 0; i < 20; ++i) {
        const std::string body = "{\"n\":" + std::to_string(i) + "}";
        auto h = sign("new-key-0123456789abcdef0123456789", "POST", "/api/clients", 500, body);
        EXPECT_EQ(verifier.verify("POST", "/api/clients", body, h.timestamp, h.nonce, h.signature, 500),
                  std::nullopt);
        EXPECT_EQ(verifier.verify("POST", "/api/clients", body + " ", h.timestamp, h.nonce, h.signature, 500),
                  VerifyError::bad_signature);
    }
    auto unsigned_key = sign("", "GET", "/", 500, "");
    EXPECT_EQ(verifier.verify("GET", "/", "", unsigned_key.timestamp, unsigned_key.nonce,
                              unsigned_key.signature, 500),
              VerifyError::bad_signature);
}

TEST(Signing, TamperingIsDetected) {
    std::vector<std::string> keys{"key-0123456789abcdef0123456789abcd"};
    auto h = sign(keys[0], "POST", "/api/clients?x=1", 100, R"({"a":1})");
    auto check = [&](std::string_view m, std::string_view t, std::string_view b, std::string_view ts,
                     std::string_view n, std::string_view s) { return verify(keys, m, t, b, ts, n, s, 100); };
    EXPECT_EQ(check("POST", "/api/clients?x=1", R"({"a":1})", h.timestamp, h.nonce, h.signature),
              std::nullopt);
    EXPECT_EQ(check("PUT", "/api/clients?x=1", R"({"a":1})", h.timestamp, h.nonce, h.signature),
              VerifyError::bad_signature);
    EXPECT_EQ(check("POST", "/api/clients?x=2", R"({"a":1})", h.timestamp, h.nonce, h.signature),
              VerifyError::bad_signature);
    EXPECT_EQ(check("POST", "/api/clients?x=1", R"({"a":2})", h.timestamp, h.nonce, h.signature),
              VerifyError::bad_signature);
    EXPECT_EQ(check("POST", "/api/clients?x=1", R"({"a":1})", "101", h.nonce, h.signature),
              VerifyError::bad_signature);
    std::string other_nonce = h.nonce;
    other_nonce[0] = other_nonce[0] == 'a' ? 'b' : 'a';
    EXPECT_EQ(check("POST", "/api/clients?x=1", R"({"a":1})", h.timestamp, other_nonce, h.signature),
              VerifyError::bad_signature);
}

TEST(Signing, MalformedHeadersAreMissingSignature) {
    std::vector<std::string> keys{"key-0123456789abcdef0123456789abcd"};
    auto h = sign(keys[0], "GET", "/", 100, "");
    auto v = [&](std::optional<std::string_view> ts, std::optional<std::string_view> n,
                 std::optional<std::string_view> s) { return verify(keys, "GET", "/", "", ts, n, s, 100); };
    EXPECT_EQ(v(std::nullopt, h.nonce, h.signature), VerifyError::missing_signature);
    EXPECT_EQ(v(h.timestamp, std::nullopt, h.signature), VerifyError::missing_signature);
    EXPECT_EQ(v(h.timestamp, h.nonce, std::nullopt), VerifyError::missing_signature);
    EXPECT_EQ(v("12x", h.nonce, h.signature), VerifyError::missing_signature);
    EXPECT_EQ(v("-5", h.nonce, h.signature), VerifyError::missing_signature);
    EXPECT_EQ(v(h.timestamp, "abcd", h.signature), VerifyError::missing_signature);  // too short
    EXPECT_EQ(v(h.timestamp, std::string(130, 'a'), h.signature),
              VerifyError::missing_signature);                                                     // too long
    EXPECT_EQ(v(h.timestamp, std::string(32, 'z'), h.signature), VerifyError::missing_signature);  // not hex
    EXPECT_EQ(v(h.timestamp, h.nonce, h.signature.substr(3)), VerifyError::missing_signature);     // no v1=
}

}  // namespace
}  // namespace nebula::common::signing
