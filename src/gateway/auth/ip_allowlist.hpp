#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "common/result.hpp"

namespace nebula::gateway {

/// An IPv4 or IPv6 network (an address is a /32 or /128). IPv4 networks are stored as
/// IPv4-mapped IPv6 so that mapped peers (::ffff:a.b.c.d) match their IPv4 entries.
class IpNetwork {
  public:
    /// Parses "203.0.113.7", "10.0.0.0/8", "2001:db8::1", "2001:db8::/32", "::ffff:10.0.0.1".
    static common::Result<IpNetwork, std::string> parse(std::string_view text);
    bool contains(const boost::asio::ip::address& address) const;
    std::string to_string() const { return text_; }

  private:
    std::array<std::uint8_t, 16> bytes_{};
    int prefix_ = 128;  // bits, over the 128-bit (mapped) form
    std::string text_;
};

/// A set of networks. Immutable after construction; thread-safe to read.
class IpAllowlist {
  public:
    /// Parses a comma list; every bad entry is named in the error.
    static common::Result<IpAllowlist, std::string> parse(const std::vector<std::string>& entries);
    bool contains(const boost::asio::ip::address& address) const;
    bool empty() const { return networks_.empty(); }
    std::size_t size() const { return networks_.size(); }

  private:
    std::vector<IpNetwork> networks_;
};

/// True for 127.0.0.0/8, ::1 and their mapped forms.
bool is_loopback(const boost::asio::ip::address& address);

}  // namespace nebula::gateway
