// The HTTP server's request parsing (head and body, chunked, pipelined keep-alive requests):
// any bytes, sent by a client over a real loopback connection to an common::http::Server, then EOF.
// The handler answers each request with what the server made of it; a target starting with
// /refuse is refused when its head arrives (before the body) and /throw makes the handler throw.
// Properties: no crash, no sanitizer report, no hang; everything the server sends back is a
// sequence of well-formed HTTP/1.1 responses, each with a known status.
#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <memory>
#include <stdexcept>
#include <string>

#include "common/http_server.hpp"
#include "fuzz_util.hpp"

using namespace nebula;
namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

class EchoHandler final : public common::http::Handler {
  public:
    std::optional<common::http::Response> screen(const common::http::Request& head,
                                                 const common::http::Peer&) override {
        if (!head.target.starts_with("/refuse")) return std::nullopt;
        common::http::Response r;
        r.status = 403;
        r.body = "refused";
        return r;
    }
    asio::awaitable<common::http::Response> handle(common::http::Request request,
                                                   common::http::Peer) override {
        if (request.target.starts_with("/throw")) throw std::runtime_error("handler failed");
        common::http::Response r;
        r.headers.set("Content-Type", "text/plain");
        r.body = request.method + " " + std::to_string(request.target.size()) + " " +
                 std::to_string(request.headers.fields().size()) + " " + std::to_string(request.body.size());
        co_return r;
    }
};

struct World {
    asio::io_context io;
    EchoHandler handler;
    std::unique_ptr<common::http::Server> server;
    tcp::endpoint endpoint;

    World() {
        spdlog::set_level(spdlog::level::off);
        common::http::ServerOptions options;
        options.address = "127.0.0.1";
        options.max_body_bytes = 4096;
        options.max_header_bytes = 2048;
        server = common::http::Server::create(io.get_executor(), options, handler).value();
        server->start();
        endpoint = tcp::endpoint(asio::ip::make_address("127.0.0.1"), server->port());
    }
};

asio::awaitable<void> client(tcp::socket& socket, const tcp::endpoint& server, std::string_view input,
                             std::string& answer, bool& done) {
    // Asynchronous: a blocking connect() fails with EINTR when libFuzzer's timer signal arrives.
    auto [cec] = co_await socket.async_connect(server, kUseTuple);
    fuzz::check(!cec, "the harness connects to the server");
    // A server that answers early and closes may refuse the rest: that is fine.
    (void)co_await asio::async_write(socket, asio::buffer(input.data(), input.size()), kUseTuple);
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_send, ignored);
    std::array<char, 4096> chunk{};
    for (;;) {
        auto [ec, n] = co_await socket.async_read_some(asio::buffer(chunk), kUseTuple);
        answer.append(chunk.data(), n);
        if (ec) break;
    }
    done = true;
}

/// Every byte the server sent must form whole HTTP/1.1 responses.
void check_responses(std::string_view answer) {
    while (!answer.empty()) {
        bhttp::response_parser<bhttp::string_body> parser;
        parser.eager(true);
        parser.body_limit(1 << 20);
        boost::system::error_code ec;
        const std::size_t used = parser.put(asio::buffer(answer.data(), answer.size()), ec);
        fuzz::check(!ec && parser.is_done(), "the server sends well-formed responses");
        const int status = static_cast<int>(parser.get().result_int());
        fuzz::check(status == 200 || status == 400 || status == 403 || status == 413 || status == 431 ||
                        status == 500,
                    "the server answers with a known status");
        answer.remove_prefix(used);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static World world;
    tcp::socket socket(world.io);
    std::string answer;
    bool done = false;
    asio::co_spawn(world.io, client(socket, world.endpoint, fuzz::as_text(data, size), answer, done),
                   asio::detached);
    while (!done || world.server->connection_count() > 0) world.io.run_one();
    // Closed with a reset rather than left in TIME_WAIT, to keep local ports free.
    boost::system::error_code ignored;
    socket.set_option(asio::socket_base::linger(true, 0), ignored);
    check_responses(answer);
    return 0;
}
