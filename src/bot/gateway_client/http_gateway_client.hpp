#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "bot/domain/catalog.hpp"
#include "bot/domain/gateway_client.hpp"
#include "common/clock.hpp"
#include "common/result.hpp"

namespace nebula::common::http {
class Client;
}

namespace nebula::bot::gateway_client {

struct HttpGatewayOptions {
    std::string base_url;       ///< https://host:port of the gateway
    std::string key;            ///< shared HMAC key (v1 signature)
    std::string pinned_sha256;  ///< hex SHA-256 of the gateway certificate; empty = verify with CAs
    std::string ca_file;        ///< CA bundle replacing the system store (when not pinning)
    std::chrono::milliseconds timeout{10'000};
    std::string local_address;  ///< bind the client socket (tests)
    /// Attempts of an idempotent call when the gateway is not there (connection refused, reset
    /// or closed before the answer), each signed with a fresh nonce and timestamp, all within
    /// `timeout`; the pause doubles after each attempt.
    int max_attempts = 3;
    std::chrono::milliseconds retry_pause{250};
};

/// GatewayClient over HTTPS to one nebula-gateway: every request carries the v1 signature
/// headers (X-Nebula-Timestamp, X-Nebula-Nonce, X-Nebula-Signature); the certificate is checked
/// by pin or CA, never skipped. A call to a gateway that is briefly down (refused, reset) is
/// tried again up to `max_attempts` times within its timeout, re-signed each time; a create is
/// retried only with a uuid (then a repeat finds the same client). A certificate that is not
/// the pinned one fails with "certificate does not match the pin (expected …, got …)". Error bodies
/// {"error":{"code","message"}} become GatewayError messages. Use from one executor (the one given to
/// create()).
class HttpGatewayClient final : public domain::GatewayClient {
  public:
    static common::Result<std::unique_ptr<HttpGatewayClient>, std::string> create(
        boost::asio::any_io_executor executor, HttpGatewayOptions options, const common::Clock& clock);
    ~HttpGatewayClient() override;

    boost::asio::awaitable<domain::GatewayResult<domain::ClientWithLinks>> create_client(
        domain::NewClient client) override;
    boost::asio::awaitable<domain::GatewayResult<domain::ClientWithLinks>> get_client(
        std::string email) override;
    boost::asio::awaitable<domain::GatewayResult<domain::GatewayClientInfo>> update_client(
        std::string email, domain::ClientChange change) override;
    boost::asio::awaitable<domain::GatewayResult<domain::GatewayClientInfo>> reset_traffic(
        std::string email) override;
    boost::asio::awaitable<common::Status<domain::GatewayError>> delete_client(std::string email) override;
    boost::asio::awaitable<domain::GatewayResult<std::vector<domain::TrafficEntry>>> traffic() override;
    boost::asio::awaitable<domain::GatewayResult<domain::DisableOutcome>> disable_clients(
        std::vector<std::string> emails) override;
    boost::asio::awaitable<domain::GatewayResult<domain::GatewayHealth>> health() override;

    /// Called on the executor before each pause between attempts (tests bring a gateway back here).
    void on_retry(std::function<void()> hook) { on_retry_ = std::move(hook); }

  private:
    struct Reply;
    HttpGatewayClient(std::unique_ptr<common::http::Client> client, HttpGatewayOptions options,
                      const common::Clock& clock);
    /// One signed call; `idempotent` ones are tried again (re-signed) while the gateway is briefly
    /// unreachable.
    boost::asio::awaitable<domain::GatewayResult<Reply>> call(std::string method, std::string target,
                                                              std::string body, bool idempotent = true);

    std::unique_ptr<common::http::Client> client_;
    HttpGatewayOptions options_;
    const common::Clock& clock_;
    std::function<void()> on_retry_;
};

/// One HttpGatewayClient per server, rebuilt when the server's URL, key or pin changes.
/// Throws std::runtime_error when a server's settings cannot make a client (validated servers
/// always can). Use from one executor.
class HttpGatewayDirectory final : public domain::GatewayDirectory {
  public:
    HttpGatewayDirectory(boost::asio::any_io_executor executor, const common::Clock& clock,
                         std::chrono::milliseconds timeout = std::chrono::milliseconds(10'000))
        : executor_(std::move(executor)), clock_(clock), timeout_(timeout) {}
    domain::GatewayClient& gateway_for(const domain::Server& server) override;

  private:
    struct Entry {
        std::string fingerprint;
        std::unique_ptr<HttpGatewayClient> client;
    };
    boost::asio::any_io_executor executor_;
    const common::Clock& clock_;
    std::chrono::milliseconds timeout_;
    std::map<std::int64_t, Entry> clients_;
};

}  // namespace nebula::bot::gateway_client
