#include "common/crypto.hpp"

#include <gtest/gtest.h>

#include <set>

namespace nebula::common {
namespace {

TEST(Crypto, Sha256KnownAnswers) {
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Crypto, HmacSha256Rfc4231Case2) {
    EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Crypto, KeyedHmacMatchesOneShotAcrossManyMessages) {
    HmacSha256 mac("Jefe");
    EXPECT_EQ(mac.hex("what do ya want for nothing?"),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    for (int i = 0; i < 50; ++i) {
        const std::string msg = "message " + std::to_string(i);
        EXPECT_EQ(mac.hex(msg), hmac_sha256_hex("Jefe", msg));
    }
    HmacSha256 empty_key("");
    EXPECT_EQ(empty_key.hex("x"), hmac_sha256_hex("", "x"));
    HmacSha256 moved = std::move(mac);
    EXPECT_EQ(moved.hex("a"), hmac_sha256_hex("Jefe", "a"));
}

// The reference vectors of the SipHash paper (key 00..0f, message 00..len-1).
TEST(Crypto, SipHash64ReferenceVectors) {
    std::string key;
    for (char c = 0; c < 16; ++c) key.push_back(c);
    SipHash64 hash(key);
    std::string message;
    EXPECT_EQ(hash(message), 0x726fdb47dd0e0e31ULL);
    for (char c = 0; c < 15; ++c) message.push_back(c);
    EXPECT_EQ(hash(message), 0xa129ca6149be45e5ULL);
    EXPECT_EQ(hash(message), 0xa129ca6149be45e5ULL) << "the prepared key is kept between calls";
    SipHash64 other(std::string(16, 'k'));
    EXPECT_NE(other(message), hash(message));
    EXPECT_THROW(SipHash64("short"), std::invalid_argument);
}

TEST(Crypto, RandomValuesAreFreshAndWellFormed) {
    std::set<std::string> seen;
    for (int i = 0; i < 100; ++i) {
        auto id = uuid_v4();
        EXPECT_TRUE(is_uuid(id)) << id;
        EXPECT_EQ(id[14], '4');
        EXPECT_TRUE(id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b');
        seen.insert(id);
    }
    EXPECT_EQ(seen.size(), 100u);
    EXPECT_EQ(random_hex(16).size(), 32u);
    auto alnum = random_alnum(16);
    EXPECT_EQ(alnum.size(), 16u);
    for (char c : alnum) EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'));
}

TEST(Crypto, ConstantTimeEqual) {
    EXPECT_TRUE(constant_time_equal("abc", "abc"));
    EXPECT_FALSE(constant_time_equal("abc", "abd"));
    EXPECT_FALSE(constant_time_equal("abc", "abcd"));
    EXPECT_TRUE(constant_time_equal("", ""));
}

TEST(Crypto, UuidAndHexChecks) {
    EXPECT_TRUE(is_uuid("5f1c7c2e-8d4a-4b61-9b0e-2a7d7f3c9e11"));
    EXPECT_FALSE(is_uuid("5f1c7c2e8d4a-4b61-9b0e-2a7d7f3c9e11-"));
    EXPECT_FALSE(is_uuid("5f1c7c2e-8d4a-4b61-9b0e-2a7d7f3c9e1g"));
    EXPECT_TRUE(is_hex("00ff"));
    EXPECT_FALSE(is_hex("0ff"));
    EXPECT_FALSE(is_hex("zz"));
    EXPECT_EQ(base64_encode("hello"), "aGVsbG8=");
}

TEST(Crypto, EveryPastedFormOfAPinHasOneNormalForm) {
    const std::string normal = "3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b";
    std::string colons;  // "3A:7B:…" as openssl prints it
    for (std::size_t i = 0; i < normal.size(); i += 2) {
        if (i > 0) colons += ':';
        colons += static_cast<char>(std::toupper(static_cast<unsigned char>(normal[i])));
        colons += static_cast<char>(std::toupper(static_cast<unsigned char>(normal[i + 1])));
    }
    for (const std::string& pasted :
         {normal, colons, "sha256 Fingerprint=" + colons, "SHA256 Fingerprint=" + colons + "\n",
          "  " + colons + "  ", "SHA2-256(stdin)= " + normal, normal + "  -", normal + " *-",
          std::string("3A 7B D3 E2 36 0A 3D 29 EE A4 36 FC FB 7E 44 C7 35 D1 17 C4 2D 1C 18 35 42 0B 6B 99 "
                      "42 DD 4F 1B")}) {
        const auto pin = normalize_sha256_pin(pasted);
        ASSERT_TRUE(pin) << pasted;
        EXPECT_EQ(*pin, normal) << pasted;
    }
    EXPECT_EQ(normalize_sha256_pin(""), std::string());
    EXPECT_EQ(normalize_sha256_pin("  \n"), std::string());
    EXPECT_FALSE(normalize_sha256_pin(normal.substr(2)));          // too short
    EXPECT_FALSE(normalize_sha256_pin(normal + "00"));             // too long
    EXPECT_FALSE(normalize_sha256_pin("sha1 Fingerprint=AB:CD"));  // not SHA-256
    EXPECT_FALSE(normalize_sha256_pin(normal.substr(1) + "g"));
    EXPECT_FALSE(normalize_sha256_pin(normal + "-x"));
}

}  // namespace
}  // namespace nebula::common
