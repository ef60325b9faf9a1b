// An outsider must not be able to make the gateway refuse the bot: while other hosts flood it
// with connections that never finish (silent TCP, half-open TLS, slow request heads), every
// signed request from the allowlisted address is answered. 127.0.0.x addresses other than
// 127.0.0.1 stand for other hosts.
#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>

#include <memory>
#include <vector>

#include "gateway_harness.hpp"

namespace nebula::testing {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

/// Connections from another host that are opened and then left hanging.
class Flood {
  public:
    explicit Flood(std::uint16_t port) : port_(port) {}

    /// Connects and sends nothing.
    void silent(const std::string& from, int count) {
        for (int i = 0; i < count; ++i) connect(from);
    }
    /// Starts a TLS ClientHello record and never finishes it.
    void half_open_tls(const std::string& from, int count) {
        const unsigned char partial[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01};
        for (int i = 0; i < count; ++i) {
            boost::system::error_code ec;
            asio::write(connect(from), asio::buffer(partial), ec);  // refused peers may be reset already
        }
    }
    /// Completes the TLS handshake when it can and sends the start of a request head, no more.
    void slow_heads(const std::string& from, int count) {
        for (int i = 0; i < count; ++i) {
            auto stream = std::make_unique<asio::ssl::stream<tcp::socket>>(io_, tls_);
            auto& socket = stream->next_layer();
            socket.open(tcp::v4());
            socket.bind({asio::ip::make_address(from), 0});
            socket.connect({asio::ip::make_address("127.0.0.1"), port_});
            boost::system::error_code ec;
            stream->handshake(asio::ssl::stream_base::client, ec);
            if (!ec)
                asio::write(*stream, asio::buffer(std::string("GET /api/health HTTP/1.1\r\nHost: x\r\n")),
                            ec);
            tls_streams_.push_back(std::move(stream));
        }
    }
    std::size_t size() const { return sockets_.size() + tls_streams_.size(); }

  private:
    tcp::socket& connect(const std::string& from) {
        auto& socket = sockets_.emplace_back(io_);
        socket.open(tcp::v4());
        socket.bind({asio::ip::make_address(from), 0});
        socket.connect({asio::ip::make_address("127.0.0.1"), port_});
        return socket;
    }

    std::uint16_t port_;
    asio::io_context io_;
    asio::ssl::context tls_{asio::ssl::context::tls_client};
    std::vector<tcp::socket> sockets_;
    std::vector<std::unique_ptr<asio::ssl::stream<tcp::socket>>> tls_streams_;
};

void hold_floods_open(gateway::GatewayConfig& c, common::http::ServerOptions& s) {
    c.max_connections = 64;
    // Long enough that no flood connection times out during the test: the defence under test is
    // admission, not deadlines.
    s.header_timeout = 1h;
}

TEST(GatewayFlood, SignedRequestsFromTheAllowedAddressSucceedWhileAnotherHostFloods) {
    GatewayHarness gw({}, hold_floods_open);
    Flood flood(gw.port);
    flood.silent("127.0.0.2", 300);
    flood.half_open_tls("127.0.0.3", 40);
    flood.slow_heads("127.0.0.3", 40);
    for (int i = 0; i < 20; ++i) {
        auto r = gw.try_send({.target = "/api/health"});
        ASSERT_TRUE(r) << "request " << i << ": " << r.error().message;
        EXPECT_EQ(r->status, 200) << i;
    }
    // Nothing of the flood is held: it was closed at accept.
    EXPECT_LE(gw.io.call([&] { return gw.server->connection_count(); }), 20u);
}

TEST(GatewayFlood, ReservedSlotsKeepTheBotInWhileATrustedProxyHoldsItsShare) {
    GatewayHarness gw({}, [](gateway::GatewayConfig& c, common::http::ServerOptions& s) {
        hold_floods_open(c, s);
        c.trusted_proxies = *gateway::IpAllowlist::parse({"127.0.0.4", "127.0.0.5"});
        c.max_connections = 8;
        c.max_connections_per_ip = 4;  // and 4 slots kept for allowlisted peers
        s = gateway::server_options(c);
        s.header_timeout = 1h;
    });
    // Outsiders behind two trusted proxies leave connections hanging: the proxies can only take
    // their per-address share of the unreserved slots.
    Flood flood(gw.port);
    flood.silent("127.0.0.4", 30);
    flood.silent("127.0.0.5", 30);
    auto& bot = gw.client();
    auto& monitor = gw.client();
    for (int i = 0; i < 20; ++i) {
        auto r = gw.try_send({.target = "/api/health", .via = i % 2 == 0 ? &bot : &monitor});
        ASSERT_TRUE(r) << "request " << i << ": " << r.error().message;
        EXPECT_EQ(r->status, 200) << i;
    }
    EXPECT_EQ(gw.io.call([&] { return gw.server->connection_count(); }), 6u);  // 4 proxied + 2 bot
}

}  // namespace
}  // namespace nebula::testing
