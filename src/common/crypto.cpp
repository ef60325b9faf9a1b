#include "common/crypto.hpp"

#include <cctype>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <array>
#include <stdexcept>

namespace nebula::common {
namespace {

// Algorithm objects are fetched once: an implicit fetch on every call costs a lookup each time.
const EVP_MD* sha256_md() {
    static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return md != nullptr ? md : EVP_sha256();
}

EVP_MAC* hmac_mac() {
    static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (mac == nullptr) throw std::runtime_error("HMAC is not available from OpenSSL");
    return mac;
}

}  // namespace

struct HmacSha256::Impl {
    EVP_MAC_CTX* ctx = nullptr;
    ~Impl() { EVP_MAC_CTX_free(ctx); }
};

HmacSha256::HmacSha256(std::string_view key) : impl_(std::make_unique<Impl>()) {
    impl_->ctx = EVP_MAC_CTX_new(hmac_mac());
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    // An empty key is valid HMAC; OpenSSL wants a non-null pointer for it.
    static constexpr unsigned char kEmpty = 0;
    const auto* bytes = key.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(key.data());
    if (impl_->ctx == nullptr || EVP_MAC_init(impl_->ctx, bytes, key.size(), params) != 1) {
        throw std::runtime_error("cannot set up HMAC-SHA256");
    }
}

HmacSha256::~HmacSha256() = default;
HmacSha256::HmacSha256(HmacSha256&&) noexcept = default;
HmacSha256& HmacSha256::operator=(HmacSha256&&) noexcept = default;

std::string HmacSha256::hex(std::string_view data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    std::size_t length = 0;
    // Re-initialising without a key reuses the prepared key.
    if (EVP_MAC_init(impl_->ctx, nullptr, 0, nullptr) != 1 ||
        EVP_MAC_update(impl_->ctx, reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1 ||
        EVP_MAC_final(impl_->ctx, out, &length, sizeof out) != 1) {
        throw std::runtime_error("HMAC-SHA256 failed");
    }
    return to_hex({reinterpret_cast<const char*>(out), length});
}

std::string to_hex(std::string_view bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        out += kDigits[c >> 4];
        out += kDigits[c & 0x0f];
    }
    return out;
}

std::optional<std::string> normalize_sha256_pin(std::string_view text) {
    // "sha256 Fingerprint=AB:…" and "SHA2-256(stdin)= ab…": the value follows the last '='.
    if (const auto eq = text.rfind('='); eq != std::string_view::npos) text.remove_prefix(eq + 1);
    std::string out;
    out.reserve(64);
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == ':' || c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
        // sha256sum's "  -" (read from stdin) or "  *-" after the digits.
        if ((c == '-' || c == '*') && out.size() == 64) {
            if (text.find_first_not_of("-* \t\r\n", i) != std::string_view::npos) return std::nullopt;
            break;
        }
        if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
        out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (out.empty()) return std::string();
    if (out.size() != 64) return std::nullopt;
    return out;
}

bool is_hex(std::string_view text) {
    if (text.empty() || text.size() % 2 != 0) return false;
    for (char c : text) {
        bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (!ok) return false;
    }
    return true;
}

std::string sha256_raw(std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(data.data(), data.size(), digest, &length, sha256_md(), nullptr) != 1) {
        throw std::runtime_error("SHA-256 failed");
    }
    return {reinterpret_cast<const char*>(digest), length};
}

std::string sha256_hex(std::string_view data) { return to_hex(sha256_raw(data)); }

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &length) == nullptr) {
        throw std::runtime_error("HMAC-SHA256 failed");
    }
    return to_hex({reinterpret_cast<const char*>(digest), length});
}

namespace {

EVP_MAC* siphash_mac() {
    static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "SIPHASH", nullptr);
    if (mac == nullptr) throw std::runtime_error("SipHash is not available from OpenSSL");
    return mac;
}

}  // namespace

struct SipHash64::Impl {
    EVP_MAC_CTX* ctx = nullptr;
    ~Impl() { EVP_MAC_CTX_free(ctx); }
};

SipHash64::SipHash64(std::string_view key) : impl_(std::make_unique<Impl>()) {
    if (key.size() != 16) throw std::invalid_argument("a SipHash key is 16 bytes");
    impl_->ctx = EVP_MAC_CTX_new(siphash_mac());
    std::size_t size = 8;
    const std::array<OSSL_PARAM, 2> params{OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size),
                                           OSSL_PARAM_construct_end()};
    if (impl_->ctx == nullptr || EVP_MAC_init(impl_->ctx, reinterpret_cast<const unsigned char*>(key.data()),
                                              key.size(), params.data()) != 1) {
        throw std::runtime_error("cannot set up SipHash");
    }
}

SipHash64::~SipHash64() = default;
SipHash64::SipHash64(SipHash64&&) noexcept = default;
SipHash64& SipHash64::operator=(SipHash64&&) noexcept = default;

std::uint64_t SipHash64::operator()(std::string_view data) {
    std::array<unsigned char, 8> out{};
    std::size_t length = 0;
    // Re-initialising without a key reuses the prepared key.
    if (EVP_MAC_init(impl_->ctx, nullptr, 0, nullptr) != 1 ||
        EVP_MAC_update(impl_->ctx, reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1 ||
        EVP_MAC_final(impl_->ctx, out.data(), &length, out.size()) != 1 || length != out.size()) {
        throw std::runtime_error("SipHash failed");
    }
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < out.size(); ++i) value |= static_cast<std::uint64_t>(out[i]) << (8 * i);
    return value;
}

std::string random_bytes(std::size_t count) {
    std::string out(count, '\0');
    if (count > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(count)) != 1) {
        throw std::runtime_error("the system random number generator failed");
    }
    return out;
}

std::string random_hex(std::size_t count) { return to_hex(random_bytes(count)); }

std::string random_alnum(std::size_t length) {
    static constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::string out;
    out.reserve(length);
    while (out.size() < length) {
        for (unsigned char c : random_bytes(length)) {
            // 252 = 7 * 36: rejecting the top values keeps every character equally likely.
            if (c < 252 && out.size() < length) out += kAlphabet[c % kAlphabet.size()];
        }
    }
    return out;
}

std::string uuid_v4() {
    std::string b = random_bytes(16);
    b[6] = static_cast<char>((static_cast<unsigned char>(b[6]) & 0x0f) | 0x40);
    b[8] = static_cast<char>((static_cast<unsigned char>(b[8]) & 0x3f) | 0x80);
    std::string hex = to_hex(b);
    return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) +
           "-" + hex.substr(20);
}

bool is_uuid(std::string_view text) {
    if (text.size() != 36) return false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return false;
        }
    }
    return true;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    if (a.empty()) return true;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string base64_encode(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    int n =
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                        reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

}  // namespace nebula::common
