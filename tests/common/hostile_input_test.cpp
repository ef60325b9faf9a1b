// Parsers that see network or operator input, fed with mutated and random data (fixed seeds, so
// a failure reproduces). Under the sanitizer build any out-of-bounds read or UB fails the test.
#include <gtest/gtest.h>

#include <random>

#include "common/dotenv.hpp"
#include "common/http.hpp"
#include "common/signing.hpp"

namespace nebula {
namespace {

std::string mutate(std::string s, std::mt19937& rng) {
    std::uniform_int_distribution<int> op(0, 3);
    std::uniform_int_distribution<int> byte(0, 255);
    const int edits = 1 + static_cast<int>(rng() % 8);
    for (int i = 0; i < edits; ++i) {
        const std::size_t pos = s.empty() ? 0 : rng() % s.size();
        switch (op(rng)) {
            case 0:
                if (!s.empty()) s[pos] = static_cast<char>(byte(rng));
                break;
            case 1:
                s.insert(pos, 1, static_cast<char>(byte(rng)));
                break;
            case 2:
                if (!s.empty()) s.erase(pos, 1 + rng() % 4);
                break;
            default:
                s.insert(pos, s.substr(0, rng() % (s.size() + 1)));
                break;
        }
    }
    return s;
}

TEST(HostileInput, DotenvNeverCrashesAndReportsLinesInRange) {
    std::mt19937 rng(20261126);
    const std::string seed =
        "# comment\nexport A=1\nB='two # x'\nC=\"three\\n\\\"q\\\"\"\nD=plain # c\nE=\"multi\nline\"\n";
    for (int i = 0; i < 20000; ++i) {
        const std::string text = mutate(seed, rng);
        auto r = common::parse_dotenv(text);
        if (!r) {
            const int lines = 1 + static_cast<int>(std::count(text.begin(), text.end(), '\n'));
            for (const auto& e : r.error()) {
                ASSERT_GE(e.line, 1);
                ASSERT_LE(e.line, lines);
            }
        }
    }
}

TEST(HostileInput, UrlParserAndDecoder) {
    std::mt19937 rng(7);
    for (int i = 0; i < 20000; ++i) {
        const std::string text = mutate("https://[2001:db8::1]:8443/a%20b/?q=%41#f", rng);
        auto u = common::http::Url::parse(text);
        if (u) {
            ASSERT_FALSE(u->host.empty());
            ASSERT_GT(u->port, 0);
        }
        (void)common::http::url_decode(text, true);
    }
}

TEST(HostileInput, SignatureVerifierRejectsEveryMutation) {
    std::mt19937 rng(99);
    const std::vector<std::string> keys{"key-0123456789abcdef0123456789abcd"};
    const auto h = common::signing::sign(keys[0], "POST", "/api/clients", 1000, R"({"a":1})");
    int accepted = 0;
    for (int i = 0; i < 5000; ++i) {
        const std::string ts = rng() % 2 ? mutate(h.timestamp, rng) : h.timestamp;
        const std::string nonce = rng() % 2 ? mutate(h.nonce, rng) : h.nonce;
        const std::string sig = mutate(h.signature, rng);
        if (sig == h.signature && ts == h.timestamp && nonce == h.nonce) continue;
        if (!common::signing::verify(keys, "POST", "/api/clients", R"({"a":1})", ts, nonce, sig, 1000))
            ++accepted;
    }
    // Upper- and lower-case hex are different signatures, and nothing else may pass.
    EXPECT_EQ(accepted, 0);
}

}  // namespace
}  // namespace nebula
