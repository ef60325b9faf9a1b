#include "bot/support/fake_nebula_gateway.hpp"

#include <utility>

namespace nebula::bot::testing {

using domain::GatewayError;
using domain::GatewayErrorCode;

namespace {

domain::ClientLinks links_for(const domain::GatewayClientInfo& client) {
    return {"vless://" + client.uuid + "@vpn.example:443?security=reality#" + client.email,
            "https://vpn.example:2096/sub/" + client.sub_id};
}

GatewayError not_found(const std::string& email) {
    return {GatewayErrorCode::not_found, 404, "no client " + email};
}

}  // namespace

boost::asio::awaitable<domain::GatewayResult<domain::ClientWithLinks>> FakeNebulaGateway::create_client(
    domain::NewClient client) {
    auto result = co_await create_now(std::move(client));
    run_after_change_hook();
    co_return result;
}

boost::asio::awaitable<domain::GatewayResult<domain::GatewayClientInfo>> FakeNebulaGateway::update_client(
    std::string email, domain::ClientChange change) {
    auto result = co_await update_now(std::move(email), change);
    run_after_change_hook();
    co_return result;
}

void FakeNebulaGateway::after_next_change(std::function<void()> hook) {
    std::lock_guard lock(mutex_);
    after_change_ = std::move(hook);
}

void FakeNebulaGateway::run_after_change_hook() {
    std::function<void()> hook;
    {
        std::lock_guard lock(mutex_);
        hook = std::exchange(after_change_, nullptr);
    }
    if (hook) hook();
}

boost::asio::awaitable<domain::GatewayResult<domain::ClientWithLinks>> FakeNebulaGateway::create_now(
    domain::NewClient client) {
    std::lock_guard lock(mutex_);
    ++create_calls_;
    CreateFault fault = CreateFault::none;
    if (!create_faults_.empty()) {
        fault = create_faults_.front();
        create_faults_.pop_front();
    }
    if (fault == CreateFault::server_error)
        co_return common::unexpected(GatewayError{GatewayErrorCode::server_error, 503, "panel down"});
    if (fault == CreateFault::conflict)
        co_return common::unexpected(GatewayError{GatewayErrorCode::conflict, 409, "exists"});
    if (down_) co_return common::unexpected(*down_);
    auto existing = clients_.find(client.email);
    if (existing != clients_.end()) {
        if (existing->second.uuid != client.uuid) {
            co_return common::unexpected(
                GatewayError{GatewayErrorCode::conflict, 409, "email taken by another uuid"});
        }
        co_return domain::ClientWithLinks{existing->second, links_for(existing->second)};
    }
    domain::GatewayClientInfo info{
        client.email,     client.uuid,     client.inbound_id, client.sub_id, 0, 0, client.total_bytes,
        client.expiry_ms, client.limit_ip, client.enable,     client.comment};
    clients_[client.email] = info;
    if (fault == CreateFault::timeout_after_create) {
        co_return common::unexpected(
            GatewayError{GatewayErrorCode::timeout, 0, "no answer within the deadline"});
    }
    co_return domain::ClientWithLinks{info, links_for(info)};
}

boost::asio::awaitable<domain::GatewayResult<domain::ClientWithLinks>> FakeNebulaGateway::get_client(
    std::string email) {
    std::lock_guard lock(mutex_);
    if (down_) co_return common::unexpected(*down_);
    auto it = clients_.find(email);
    if (it == clients_.end()) co_return common::unexpected(not_found(email));
    co_return domain::ClientWithLinks{it->second, links_for(it->second)};
}

boost::asio::awaitable<domain::GatewayResult<domain::GatewayClientInfo>> FakeNebulaGateway::update_now(
    std::string email, domain::ClientChange change) {
    std::lock_guard lock(mutex_);
    if (down_) co_return common::unexpected(*down_);
    auto it = clients_.find(email);
    if (it == clients_.end()) co_return common::unexpected(not_found(email));
    if (change.expiry_ms) it->second.expiry_ms = *change.expiry_ms;
    if (change.total_bytes) it->second.total_bytes = *change.total_bytes;
    if (change.limit_ip) it->second.limit_ip = *change.limit_ip;
    if (change.enable) it->second.enable = *change.enable;
    co_return it->second;
}

boost::asio::awaitable<domain::GatewayResult<domain::GatewayClientInfo>> FakeNebulaGateway::reset_traffic(
    std::string email) {
    std::lock_guard lock(mutex_);
    if (down_) co_return common::unexpected(*down_);
    auto it = clients_.find(email);
    if (it == clients_.end()) co_return common::unexpected(not_found(email));
    it->second.up = 0;
    it->second.down = 0;
    co_return it->second;
}

boost::asio::awaitable<common::Status<GatewayError>> FakeNebulaGateway::delete_client(std::string email) {
    std::lock_guard lock(mutex_);
    if (down_) co_return common::unexpected(*down_);
    deletions_ += static_cast<int>(clients_.erase(email));
    co_return common::Status<GatewayError>{};
}

boost::asio::awaitable<domain::GatewayResult<std::vector<domain::TrafficEntry>>>
FakeNebulaGateway::traffic() {
    std::lock_guard lock(mutex_);
    if (down_) co_return common::unexpected(*down_);
    std::vector<domain::TrafficEntry> entries;
    for (const auto& [email, c] : clients_)
        entries.push_back({email, c.up, c.down, c.total_bytes, c.expiry_ms, c.enable});
    co_return entries;
}

boost::asio::awaitable<domain::GatewayResult<domain::DisableOutcome>> FakeNebulaGateway::disable_clients(
    std::vector<std::string> emails) {
    std::lock_guard lock(mutex_);
    if (down_) co_return common::unexpected(*down_);
    domain::DisableOutcome outcome;
    for (const auto& email : emails) {
        auto it = clients_.find(email);
        if (it == clients_.end()) {
            outcome.missing.push_back(email);
        } else {
            it->second.enable = false;
            outcome.disabled.push_back(email);
        }
    }
    co_return outcome;
}

boost::asio::awaitable<domain::GatewayResult<domain::GatewayHealth>> FakeNebulaGateway::health() {
    std::lock_guard lock(mutex_);
    if (down_) co_return common::unexpected(*down_);
    co_return domain::GatewayHealth{"ok", "ok", "fake", 1};
}

void FakeNebulaGateway::script_create(std::vector<CreateFault> faults) {
    std::lock_guard lock(mutex_);
    create_faults_.assign(faults.begin(), faults.end());
}

void FakeNebulaGateway::set_down(std::optional<GatewayError> error) {
    std::lock_guard lock(mutex_);
    down_ = std::move(error);
}

void FakeNebulaGateway::add_foreign_client(const std::string& email, const std::string& uuid) {
    std::lock_guard lock(mutex_);
    clients_[email] = domain::GatewayClientInfo{email, uuid, 1, "foreign", 0, 0, 0, 0, 0, true, "not ours"};
}

void FakeNebulaGateway::set_usage(const std::string& email, std::int64_t up, std::int64_t down) {
    std::lock_guard lock(mutex_);
    clients_.at(email).up = up;
    clients_.at(email).down = down;
}

std::map<std::string, domain::GatewayClientInfo> FakeNebulaGateway::clients() const {
    std::lock_guard lock(mutex_);
    return clients_;
}

int FakeNebulaGateway::deletions() const {
    std::lock_guard lock(mutex_);
    return deletions_;
}

int FakeNebulaGateway::create_calls() const {
    std::lock_guard lock(mutex_);
    return create_calls_;
}

}  // namespace nebula::bot::testing
