// IP/CIDR allowlist and X-Forwarded-For. Input lines: ALLOWED_IPS (comma list), TRUSTED_PROXIES
// (comma list), the peer's address, then one X-Forwarded-For header per remaining line. The
// lists are parsed as the configuration does; the request head goes through the gateway's
// screen (allowlist before anything else). Properties: nothing throws; a parsed network
// contains the address it was written as and parses again from its text; a request from a peer
// that is not a trusted proxy passes exactly when the peer is allowed; a request passes only
// when the peer or an address in its X-Forwarded-For headers is allowed.
#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>

#include <memory>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "fuzz_util.hpp"
#include "gateway/auth/ip_allowlist.hpp"
#include "gateway/config.hpp"
#include "gateway/service.hpp"
#include "gateway/xui/panel_client.hpp"

using namespace nebula;
namespace asio = boost::asio;

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::vector<std::string> split(std::string_view list) {
    std::vector<std::string> out;
    while (!list.empty()) {
        const auto comma = list.find(',');
        const auto item = trim(list.substr(0, comma));
        if (!item.empty()) out.emplace_back(item);
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return out;
}

std::optional<asio::ip::address> address(std::string_view text) {
    boost::system::error_code ec;
    auto a = asio::ip::make_address(std::string(text), ec);
    if (ec) return std::nullopt;
    return a;
}

/// Parses each entry alone and checks the network against its own text.
void check_entries(const std::vector<std::string>& entries) {
    for (const auto& entry : entries) {
        auto network = gateway::IpNetwork::parse(entry);
        if (!network) continue;
        fuzz::check(gateway::IpNetwork::parse(network->to_string()).has_value(),
                    "a network parses from its text");
        if (auto a = address(entry)) fuzz::check(network->contains(*a), "a network contains its own address");
    }
}

gateway::IpAllowlist list_or(const std::vector<std::string>& entries,
                             const std::vector<std::string>& fallback) {
    if (auto parsed = gateway::IpAllowlist::parse(entries)) return std::move(*parsed);
    return gateway::IpAllowlist::parse(fallback).value();
}

struct World {
    asio::io_context io;
    common::ManualClock clock;
    std::unique_ptr<gateway::xui::PanelClient> panel;

    World() {
        spdlog::set_level(spdlog::level::off);
        gateway::xui::PanelOptions options;
        options.url = common::http::Url::parse("http://127.0.0.1:9").value();
        options.api_token = "fuzz";
        panel = gateway::xui::PanelClient::create(io.get_executor(), options, clock).value();
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static World world;
    std::string_view rest = fuzz::as_text(data, size);
    const auto allowed_entries = split(fuzz::take_line(rest));
    const auto proxy_entries = split(fuzz::take_line(rest));
    const auto peer_address = address(trim(fuzz::take_line(rest)));
    check_entries(allowed_entries);
    check_entries(proxy_entries);
    if (!peer_address) return 0;

    gateway::GatewayConfig config;
    config.secret_key = std::string(64, 'a');
    config.rate_limit_per_minute = 1'000'000;
    config.replay_cache_size = 16;
    config.allowed_ips = list_or(allowed_entries, {"127.0.0.1"});
    config.trusted_proxies = list_or(proxy_entries, {});
    gateway::GatewayService service(config, *world.panel, world.clock);

    common::http::Request head;
    head.method = "GET";
    head.target = "/api/health";
    std::vector<asio::ip::address> forwarded;
    while (!rest.empty()) {
        const std::string_view line = fuzz::take_line(rest);
        head.headers.add("X-Forwarded-For", std::string(line));
        for (const auto& item : split(line)) {
            if (auto a = address(item)) forwarded.push_back(*a);
        }
    }
    const common::http::Peer peer{*peer_address, 40000};
    const auto allowed = [&](const asio::ip::address& a) {
        return config.allowed_ips.empty() ? gateway::is_loopback(a) : config.allowed_ips.contains(a);
    };

    const auto refused = service.screen(head, peer);
    if (refused) fuzz::check(refused->status == 403, "the allowlist refuses with 403");
    if (!config.trusted_proxies.contains(*peer_address)) {
        fuzz::check(refused.has_value() != allowed(*peer_address),
                    "a direct request passes exactly when its peer is allowed");
    }
    if (!refused) {
        bool any = allowed(*peer_address);
        for (const auto& a : forwarded) any = any || allowed(a);
        fuzz::check(any, "a request passes only when an address it came from is allowed");
    }
    return 0;
}
