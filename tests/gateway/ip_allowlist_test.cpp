#include "gateway/auth/ip_allowlist.hpp"

#include <gtest/gtest.h>

namespace nebula::gateway {
namespace {

boost::asio::ip::address ip(const char* text) { return boost::asio::ip::make_address(text); }

TEST(IpAllowlist, SingleAddressesV4AndV6) {
    auto list = IpAllowlist::parse({"203.0.113.7", "2001:db8::1"});
    ASSERT_TRUE(list);
    EXPECT_TRUE(list->contains(ip("203.0.113.7")));
    EXPECT_FALSE(list->contains(ip("203.0.113.8")));
    EXPECT_TRUE(list->contains(ip("2001:db8::1")));
    EXPECT_FALSE(list->contains(ip("2001:db8::2")));
}

TEST(IpAllowlist, CidrRanges) {
    auto list = IpAllowlist::parse({"10.1.0.0/16", "2001:db8:abcd::/48", "192.168.1.77/25"});
    ASSERT_TRUE(list);
    EXPECT_TRUE(list->contains(ip("10.1.255.255")));
    EXPECT_FALSE(list->contains(ip("10.2.0.0")));
    EXPECT_TRUE(list->contains(ip("2001:db8:abcd:ffff::1")));
    EXPECT_FALSE(list->contains(ip("2001:db8:abce::1")));
    // Host bits in the entry are ignored: 192.168.1.77/25 is 192.168.1.0/25.
    EXPECT_TRUE(list->contains(ip("192.168.1.5")));
    EXPECT_FALSE(list->contains(ip("192.168.1.200")));
}

TEST(IpAllowlist, MappedIpv6PeersMatchIpv4Entries) {
    auto list = IpAllowlist::parse({"198.51.100.0/24"});
    ASSERT_TRUE(list);
    EXPECT_TRUE(list->contains(ip("::ffff:198.51.100.20")));
    EXPECT_FALSE(list->contains(ip("::ffff:198.51.101.20")));
    auto mapped_entry = IpAllowlist::parse({"::ffff:203.0.113.9"});
    ASSERT_TRUE(mapped_entry);
    EXPECT_TRUE(mapped_entry->contains(ip("203.0.113.9")));
}

TEST(IpAllowlist, ZeroPrefixMatchesEverythingOfThatFamily) {
    auto list = IpAllowlist::parse({"0.0.0.0/0"});
    ASSERT_TRUE(list);
    EXPECT_TRUE(list->contains(ip("8.8.8.8")));
    EXPECT_FALSE(list->contains(ip("2001:db8::1")));
}

TEST(IpAllowlist, GarbageIsRejectedNamingEachBadEntry) {
    auto list = IpAllowlist::parse(
        {"10.0.0.1", "not-an-ip", "10.0.0.0/33", "::/129", "1.2.3.4/", "1.2.3.4/x", "300.1.1.1"});
    ASSERT_FALSE(list);
    for (const char* bad : {"not-an-ip", "10.0.0.0/33", "::/129", "1.2.3.4/\"", "1.2.3.4/x", "300.1.1.1"}) {
        EXPECT_NE(list.error().find(bad), std::string::npos) << bad << " in " << list.error();
    }
}

TEST(IpAllowlist, Loopback) {
    EXPECT_TRUE(is_loopback(ip("127.0.0.1")));
    EXPECT_TRUE(is_loopback(ip("127.5.6.7")));
    EXPECT_TRUE(is_loopback(ip("::1")));
    EXPECT_TRUE(is_loopback(ip("::ffff:127.0.0.1")));
    EXPECT_FALSE(is_loopback(ip("10.0.0.1")));
    EXPECT_FALSE(is_loopback(ip("0.0.0.0")));
}

}  // namespace
}  // namespace nebula::gateway
