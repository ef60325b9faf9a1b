#include "gateway/auth/ip_allowlist.hpp"

#include <charconv>

namespace nebula::gateway {
namespace {

std::array<std::uint8_t, 16> to_v6_bytes(const boost::asio::ip::address& address) {
    if (address.is_v4()) {
        return boost::asio::ip::make_address_v6(boost::asio::ip::v4_mapped, address.to_v4()).to_bytes();
    }
    return address.to_v6().to_bytes();
}

}  // namespace

common::Result<IpNetwork, std::string> IpNetwork::parse(std::string_view text) {
    IpNetwork net;
    net.text_ = std::string(text);
    std::string_view addr_text = text;
    int prefix = -1;
    if (auto slash = text.find('/'); slash != std::string_view::npos) {
        addr_text = text.substr(0, slash);
        std::string_view bits = text.substr(slash + 1);
        auto [ptr, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), prefix);
        if (bits.empty() || ec != std::errc{} || ptr != bits.data() + bits.size()) {
            return common::unexpected("\"" + std::string(text) + "\" has an invalid prefix length");
        }
    }
    boost::system::error_code ec;
    auto address = boost::asio::ip::make_address(std::string(addr_text), ec);
    if (ec) return common::unexpected("\"" + std::string(text) + "\" is not an IP address or CIDR range");
    const int max_bits = address.is_v4() ? 32 : 128;
    if (prefix == -1) prefix = max_bits;
    if (prefix < 0 || prefix > max_bits) {
        return common::unexpected("\"" + std::string(text) + "\" has a prefix longer than " +
                                  std::to_string(max_bits));
    }
    net.prefix_ = address.is_v4() ? prefix + 96 : prefix;
    net.bytes_ = to_v6_bytes(address);
    // Clear host bits so "10.1.2.3/8" means 10.0.0.0/8.
    for (int bit = net.prefix_; bit < 128; ++bit) {
        net.bytes_[static_cast<std::size_t>(bit / 8)] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
    }
    return net;
}

bool IpNetwork::contains(const boost::asio::ip::address& address) const {
    auto bytes = to_v6_bytes(address);
    int full = prefix_ / 8;
    for (int i = 0; i < full; ++i) {
        if (bytes[static_cast<std::size_t>(i)] != bytes_[static_cast<std::size_t>(i)]) return false;
    }
    int rest = prefix_ % 8;
    if (rest == 0) return true;
    auto mask = static_cast<std::uint8_t>(0xffu << (8 - rest));
    return (bytes[static_cast<std::size_t>(full)] & mask) == bytes_[static_cast<std::size_t>(full)];
}

common::Result<IpAllowlist, std::string> IpAllowlist::parse(const std::vector<std::string>& entries) {
    IpAllowlist list;
    std::string errors;
    for (const auto& entry : entries) {
        auto net = IpNetwork::parse(entry);
        if (!net) {
            errors += (errors.empty() ? "" : "; ") + net.error();
            continue;
        }
        list.networks_.push_back(std::move(net.value()));
    }
    if (!errors.empty()) return common::unexpected(std::move(errors));
    return list;
}

bool IpAllowlist::contains(const boost::asio::ip::address& address) const {
    for (const auto& net : networks_) {
        if (net.contains(address)) return true;
    }
    return false;
}

bool is_loopback(const boost::asio::ip::address& address) {
    if (address.is_loopback()) return true;
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
        return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6()).is_loopback();
    }
    return false;
}

}  // namespace nebula::gateway
