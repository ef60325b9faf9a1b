#pragma once

#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "bot/domain/catalog.hpp"
#include "bot/domain/gateway_client.hpp"

namespace nebula::bot::testing {

/// What the next create_client call does.
enum class CreateFault {
    none,
    timeout_after_create,  ///< the client is created, then the answer is lost
    server_error,          ///< 503 before anything happens
    conflict,              ///< 409 although the email is free (a racing create)
};

/// nebula-gateway as the bot sees it (domain::GatewayClient), in-process, with the semantics of
/// its /api/clients: same email and uuid again → success; same email, other uuid → conflict;
/// unknown email → not_found.
/// Thread-safe; scripted faults are consumed in order.
class FakeNebulaGateway final : public domain::GatewayClient {
  public:
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

    void script_create(std::vector<CreateFault> faults);
    /// Runs `hook` once, after the next create or update took effect and before its answer
    /// returns: something else happening while the answer travels back.
    void after_next_change(std::function<void()> hook);
    /// Every other call fails with this error while set.
    void set_down(std::optional<domain::GatewayError> error);
    /// A client that someone else made (for conflict tests).
    void add_foreign_client(const std::string& email, const std::string& uuid);
    void set_usage(const std::string& email, std::int64_t up, std::int64_t down);

    std::map<std::string, domain::GatewayClientInfo> clients() const;
    int create_calls() const;
    /// Clients removed by delete_client (a delete of a missing client is not counted).
    int deletions() const;

  private:
    boost::asio::awaitable<domain::GatewayResult<domain::ClientWithLinks>> create_now(
        domain::NewClient client);
    boost::asio::awaitable<domain::GatewayResult<domain::GatewayClientInfo>> update_now(
        std::string email, domain::ClientChange change);
    void run_after_change_hook();

    std::function<void()> after_change_;
    mutable std::mutex mutex_;
    std::map<std::string, domain::GatewayClientInfo> clients_;
    std::deque<CreateFault> create_faults_;
    std::optional<domain::GatewayError> down_;
    int create_calls_ = 0;
    int deletions_ = 0;
};

/// Every server maps to the same fake.
class FakeDirectory final : public domain::GatewayDirectory {
  public:
    explicit FakeDirectory(FakeNebulaGateway& gateway) : gateway_(gateway) {}
    domain::GatewayClient& gateway_for(const domain::Server&) override { return gateway_; }

  private:
    FakeNebulaGateway& gateway_;
};

/// Runs one awaitable to completion on a private io_context and returns its value.
template <typename T>
T run_awaitable(boost::asio::awaitable<T> work) {
    boost::asio::io_context io;
    std::optional<T> result;
    std::exception_ptr error;
    boost::asio::co_spawn(
        io, [&]() -> boost::asio::awaitable<void> { result.emplace(co_await std::move(work)); },
        [&](std::exception_ptr e) { error = e; });
    io.run();
    if (error) std::rethrow_exception(error);
    return std::move(*result);
}

}  // namespace nebula::bot::testing
