#include "gateway/check.hpp"

#include <exception>
#include <memory>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509err.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

namespace nebula::gateway {
namespace asio = boost::asio;
namespace {

std::string openssl_error() {
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0) return "unknown OpenSSL error";
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    return buffer;
}

CheckResult check_tls(const GatewayConfig& config) {
    const std::string name = "tls";
    if (config.plain_http) return {name, true, "PLAIN_HTTP is on (loopback only): no certificate used"};
    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
    if (!ctx) return {name, false, openssl_error()};
    if (SSL_CTX_use_certificate_chain_file(ctx.get(), config.cert_path.c_str()) != 1) {
        return {name, false,
                "SSL_CERT_PATH " + config.cert_path + " does not load (" + openssl_error() +
                    ") — make a certificate as docs/operations.md shows and let the service user read it"};
    }
    if (SSL_CTX_use_PrivateKey_file(ctx.get(), config.key_path.c_str(), SSL_FILETYPE_PEM) != 1) {
        if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
            ERR_clear_error();
            return {name, false, "SSL_KEY_PATH is not the key of SSL_CERT_PATH — use the pair made together"};
        }
        return {name, false,
                "SSL_KEY_PATH " + config.key_path + " does not load (" + openssl_error() +
                    ") — it must be an unencrypted PEM key readable by the service user"};
    }
    if (SSL_CTX_check_private_key(ctx.get()) != 1) {
        ERR_clear_error();
        return {name, false, "SSL_KEY_PATH is not the key of SSL_CERT_PATH — use the pair made together"};
    }
    const X509* cert = SSL_CTX_get0_certificate(ctx.get());
    int days = 0, seconds = 0;
    if (cert == nullptr || ASN1_TIME_diff(&days, &seconds, nullptr, X509_get0_notAfter(cert)) != 1) {
        return {name, false, "cannot read the certificate's expiry date"};
    }
    if (days < 0 || (days == 0 && seconds <= 0)) {
        return {name, false,
                "the certificate in SSL_CERT_PATH has expired — make a new one and update "
                "the bot's API_GATEWAY_PIN_SHA256 (or server pin) if it pins"};
    }
    return {name, true,
            "certificate and key match; the certificate expires in " + std::to_string(days) + " day(s)"};
}

std::string panel_fix(const xui::PanelError& e) {
    switch (e.code) {
        case xui::PanelErrorCode::unreachable:
            return e.message + " — is 3x-ui running and listening at PANEL_URL?";
        case xui::PanelErrorCode::timeout:
            return "no answer within PANEL_TIMEOUT_MS — is 3x-ui overloaded or PANEL_URL wrong?";
        case xui::PanelErrorCode::auth_failed:
            return "login refused — fix PANEL_USERNAME and PANEL_PASSWORD (or PANEL_API_TOKEN)";
        case xui::PanelErrorCode::protocol:
        case xui::PanelErrorCode::not_found:
            return e.message + " — check PANEL_BASE_PATH (the panel's web base path)";
        default:
            return e.message;
    }
}

asio::awaitable<void> check_panel(asio::any_io_executor executor, const GatewayConfig& config,
                                  const common::Clock& clock, std::vector<CheckResult>& out) {
    const std::string name = "panel " + config.panel_url;
    auto panel = xui::PanelClient::create(executor, panel_options(config), clock);
    if (!panel) {
        out.push_back({name, false, panel.error()});
        co_return;
    }
    auto inbounds = co_await (*panel)->list_inbounds();
    if (!inbounds) {
        out.push_back({name, false, panel_fix(inbounds.error())});
    } else if (inbounds->empty()) {
        out.push_back({name, false, "logged in, but the panel has no inbound — create one in 3x-ui first"});
    } else {
        std::string ids;
        for (const auto& inbound : *inbounds) {
            if (!ids.empty()) ids += ", ";
            ids += std::to_string(inbound.id) + " " + inbound.remark;
        }
        const auto& version = (*panel)->panel_version();
        out.push_back({name, true,
                       "logged in" + (version.empty() ? std::string() : " to 3x-ui " + version) +
                           "; inbounds: " + ids});
    }
    panel->reset();
}

}  // namespace

xui::PanelOptions panel_options(const GatewayConfig& config) {
    xui::PanelOptions o;
    if (auto url = common::http::Url::parse(config.panel_url)) o.url = *url;
    o.base_path = config.panel_base_path;
    o.username = config.panel_username;
    o.password = config.panel_password;
    o.api_token = config.panel_api_token;
    o.ca_file = config.panel_ca_file;
    o.timeout = config.panel_timeout;
    return o;
}

std::string format_check(const CheckResult& result) {
    return std::string(!result.ok       ? "FAIL "
                       : result.warning ? "WARN "
                                        : "OK   ") +
           result.name + ": " + result.detail;
}

std::vector<CheckResult> check_gateway(const GatewayConfig& config, const common::Clock& clock) {
    std::vector<CheckResult> out;
    out.push_back(check_tls(config));
    if (!config.previous_secret_key.empty()) {
        if (auto notice = previous_key_notice(config, clock.now())) {
            out.push_back({"secret key", true, *notice, true});
        } else {
            out.push_back({"secret key", true,
                           "a key rotation is under way: API_SECRET_KEY and API_SECRET_KEY_PREVIOUS both "
                           "verify; remove the previous key once the bot uses the new one"});
        }
    }
    if (config.panel_allow_remote && !is_loopback_url(config.panel_url)) {
        out.push_back(
            {"panel address", true,
             "PANEL_URL is on another host, allowed by PANEL_ALLOW_REMOTE=true: the panel "
             "password crosses the network" +
                 std::string(config.panel_url.starts_with("https://") ? "" : " in clear text (use https)"),
             true});
    }
    asio::io_context io;
    std::exception_ptr failure;
    asio::co_spawn(io, check_panel(io.get_executor(), config, clock, out),
                   [&](std::exception_ptr e) { failure = e; });
    io.run();
    if (failure) std::rethrow_exception(failure);
    return out;
}

}  // namespace nebula::gateway
