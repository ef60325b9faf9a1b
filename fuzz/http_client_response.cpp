// The HTTP client's response parsing: a loopback server answers the client's first request
// with the input bytes and closes; the client then sends a second request (on the kept-alive
// connection when the first answer allowed it, else on a new one, which is closed without an
// answer). Properties: no crash, no sanitizer report, no hang; each send() ends with a
// response or an error; a response body is never larger than the bytes received.
#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <memory>
#include <string>

#include "common/http_client.hpp"
#include "fuzz_util.hpp"

using namespace nebula;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

struct World {
    asio::io_context io;
    tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
    std::string input;
    int accepted = 0;  ///< connections in this run
    int open = 0;      ///< server-side connections not yet finished

    World() { spdlog::set_level(spdlog::level::off); }

    /// One server connection: reads the request head, answers with the input (first connection
    /// only), stops sending and waits for the client to close.
    asio::awaitable<void> serve(tcp::socket socket, bool answer) {
        std::string received;
        std::array<char, 4096> chunk{};
        while (received.find("\r\n\r\n") == std::string::npos) {
            auto [ec, n] = co_await socket.async_read_some(asio::buffer(chunk), kUseTuple);
            received.append(chunk.data(), n);
            if (ec) break;
        }
        if (answer) co_await asio::async_write(socket, asio::buffer(input), kUseTuple);
        boost::system::error_code ignored;
        socket.shutdown(tcp::socket::shutdown_send, ignored);
        for (;;) {
            auto [ec, n] = co_await socket.async_read_some(asio::buffer(chunk), kUseTuple);
            if (ec) break;
        }
        // This side closed first: a reset instead of TIME_WAIT keeps local ports free.
        socket.set_option(asio::socket_base::linger(true, 0), ignored);
        --open;
    }

    asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, socket] = co_await acceptor.async_accept(kUseTuple);
            if (ec) co_return;
            ++open;
            const bool first = accepted++ == 0;
            asio::co_spawn(io, serve(std::move(socket), first), asio::detached);
        }
    }
};

World& world() {
    static World* w = [] {
        auto* made = new World();
        asio::co_spawn(made->io, made->accept_loop(), asio::detached);
        return made;
    }();
    return *w;
}

asio::awaitable<void> exchange(common::http::Client& client, std::size_t input_size, bool& done) {
    for (int i = 0; i < 2; ++i) {
        common::http::Request request{"GET", "/panel/api/inbounds/list", {}, {}};
        auto result = co_await client.send(std::move(request));
        if (result) {
            fuzz::check(result->body.size() <= input_size, "a response body comes from the bytes received");
            fuzz::check(result->status >= 0 && result->status <= 999, "a response status has three digits");
        } else {
            fuzz::check(!result.error().message.empty(), "a failed exchange says why");
        }
    }
    done = true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    World& w = world();
    w.input.assign(reinterpret_cast<const char*>(data), size);
    w.accepted = 0;
    common::http::ClientOptions options;
    options.base =
        common::http::Url::parse("http://127.0.0.1:" + std::to_string(w.acceptor.local_endpoint().port()))
            .value();
    options.max_response_bytes = 64 * 1024;
    bool done = false;
    {
        auto client = common::http::Client::create(w.io.get_executor(), options).value();
        asio::co_spawn(w.io, exchange(*client, size, done), asio::detached);
        while (!done) w.io.run_one();
    }
    // The client is gone and has closed its connections; let the server side finish.
    while (w.open > 0) w.io.run_one();
    return 0;
}
