#include "common/http.hpp"

#include <gtest/gtest.h>

namespace nebula::common::http {
namespace {

TEST(Url, ParsesSchemesHostsPortsAndPaths) {
    auto u = Url::parse("https://vpn.example.com:8443/base/");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->scheme, "https");
    EXPECT_EQ(u->host, "vpn.example.com");
    EXPECT_EQ(u->port, 8443);
    EXPECT_EQ(u->path, "/base/");
    EXPECT_EQ(u->authority(), "vpn.example.com:8443");

    auto v6 = Url::parse("http://[::1]:2053");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->host, "::1");
    EXPECT_EQ(v6->authority(), "[::1]:2053");
    EXPECT_EQ(v6->path, "/");

    auto dflt = Url::parse("HTTPS://example.com?x=1");
    ASSERT_TRUE(dflt);
    EXPECT_EQ(dflt->port, 443);
    EXPECT_EQ(dflt->authority(), "example.com");
}

TEST(Url, RejectsWhatIsNotAnHttpUrl) {
    for (const char* bad : {"ftp://x", "example.com", "http://", "http://:80", "http://h:0", "http://h:70000",
                            "http://h:12a", "http://user:pw@h", "http://[::1", "http://bad host/",
                            // Found by fuzz/http_url.cpp: hosts that cannot be written back.
                            "http://\xff[::1]:8443", "http://a:b:80", "http://[a]b]:80", "http://h\x01st"}) {
        EXPECT_FALSE(Url::parse(bad)) << bad;
    }
}

TEST(Headers, CaseInsensitiveFindSetRemove) {
    Headers h;
    h.add("Content-Type", "text/plain");
    h.add("X-A", "1");
    EXPECT_EQ(h.find("content-type"), "text/plain");
    h.set("x-a", "2");
    EXPECT_EQ(h.find("X-A"), "2");
    EXPECT_EQ(h.fields().size(), 2u);
    h.remove("X-a");
    EXPECT_FALSE(h.find("x-a"));
}

TEST(UrlEncoding, RoundTripsAndRejectsBadEscapes) {
    EXPECT_EQ(url_encode("a b/c?d=é"), "a%20b%2Fc%3Fd%3D%C3%A9");
    EXPECT_EQ(url_decode("a%20b%2Fc"), "a b/c");
    EXPECT_EQ(url_decode("a+b", true), "a b");
    EXPECT_EQ(url_decode("a+b"), "a+b");
    EXPECT_FALSE(url_decode("%zz"));
    EXPECT_FALSE(url_decode("abc%2"));
    EXPECT_FALSE(url_decode("%"));
}

}  // namespace
}  // namespace nebula::common::http
