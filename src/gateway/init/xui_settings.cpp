#include "gateway/init/xui_settings.hpp"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sqlite3.h>
#include <boost/asio/ip/address.hpp>

#include <charconv>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>

namespace nebula::gateway::init {
namespace {

std::string normalise_base_path(std::string path) {
    if (!path.starts_with('/')) path.insert(path.begin(), '/');
    if (!path.ends_with('/')) path += '/';
    return path;
}

/// The first DNS name of the certificate in `path` (subjectAltName, else the common name);
/// "" when the file cannot be read or names no host.
std::string certificate_host(const std::string& path) {
    std::unique_ptr<FILE, decltype(&std::fclose)> file(std::fopen(path.c_str(), "rb"), std::fclose);
    if (!file) return "";
    std::unique_ptr<X509, decltype(&X509_free)> cert(PEM_read_X509(file.get(), nullptr, nullptr, nullptr),
                                                     X509_free);
    if (!cert) return "";
    std::string host;
    auto* names =
        static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
    for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names) && host.empty(); ++i) {
        const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
        if (name->type != GEN_DNS) continue;
        const auto* text = reinterpret_cast<const char*>(ASN1_STRING_get0_data(name->d.dNSName));
        std::string dns(text, static_cast<std::size_t>(ASN1_STRING_length(name->d.dNSName)));
        if (!dns.starts_with("*.")) host = dns;
    }
    GENERAL_NAMES_free(names);
    if (host.empty()) {
        char cn[256] = {};
        if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, cn, sizeof cn) > 0)
            host = cn;
    }
    return host;
}

bool is_loopback_host(const std::string& host) {
    if (host == "localhost") return true;
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(host, ec);
    return !ec && address.is_loopback();
}

}  // namespace

common::Result<PanelSettings, std::string> read_panel_settings(const std::string& path) {
    std::error_code fs_error;
    if (!std::filesystem::is_regular_file(path, fs_error)) {
        return common::unexpected(path + " does not exist (is 3x-ui installed here, and with SQLite?)");
    }
    sqlite3* raw = nullptr;
    const int opened = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
    std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(raw, sqlite3_close);
    if (opened != SQLITE_OK) {
        return common::unexpected("cannot open " + path + ": " +
                                  (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(opened)));
    }
    sqlite3_busy_timeout(db.get(), 2000);  // the panel may be writing at this moment
    sqlite3_stmt* raw_statement = nullptr;
    const int prepared =
        sqlite3_prepare_v2(db.get(),
                           "SELECT key, value FROM settings WHERE key IN ('webPort', "
                           "'webBasePath', 'webListen', 'webDomain', 'webCertFile', 'webKeyFile')",
                           -1, &raw_statement, nullptr);
    std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> statement(raw_statement, sqlite3_finalize);
    if (prepared != SQLITE_OK) {
        return common::unexpected(path + " is not a 3x-ui database (" + sqlite3_errmsg(db.get()) + ")");
    }
    std::map<std::string, std::string> values;
    int step = SQLITE_ROW;
    while ((step = sqlite3_step(statement.get())) == SQLITE_ROW) {
        const auto* key = reinterpret_cast<const char*>(sqlite3_column_text(statement.get(), 0));
        const auto* value = reinterpret_cast<const char*>(sqlite3_column_text(statement.get(), 1));
        if (key != nullptr && value != nullptr) values[key] = value;
    }
    if (step != SQLITE_DONE)
        return common::unexpected("cannot read " + path + ": " + sqlite3_errmsg(db.get()));

    // As the panel reads them: a key never stored, or stored empty, has its default.
    const auto get = [&](const std::string& key) {
        auto it = values.find(key);
        return it == values.end() ? std::string() : it->second;
    };
    PanelSettings s;
    if (const std::string port = get("webPort"); !port.empty()) {
        int parsed = 0;
        const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), parsed);
        if (ec != std::errc() || end != port.data() + port.size() || parsed < 1 || parsed > 65535) {
            return common::unexpected(path + ": webPort is not a port number (\"" + port + "\")");
        }
        s.web_port = parsed;
    }
    if (const std::string base = get("webBasePath"); !base.empty())
        s.web_base_path = normalise_base_path(base);
    s.web_listen = get("webListen");
    s.web_domain = get("webDomain");
    s.web_cert_file = get("webCertFile");
    s.web_key_file = get("webKeyFile");
    return s;
}

PanelAddress panel_address(const PanelSettings& settings) {
    PanelAddress a;
    a.base_path = settings.web_base_path;
    const bool https = !settings.web_cert_file.empty() && !settings.web_key_file.empty();
    std::string host = "127.0.0.1";
    boost::system::error_code ec;
    const auto listen = boost::asio::ip::make_address(settings.web_listen, ec);
    if (!ec && !listen.is_unspecified()) {
        host = settings.web_listen;
        a.note = "the panel listens on " + host + " only (webListen)";
    }
    if (!settings.web_domain.empty()) {
        host = settings.web_domain;
        a.note = "the panel answers only to its domain " + host + " (webDomain)";
    } else if (https) {
        if (std::string named = certificate_host(settings.web_cert_file); !named.empty() && named != host) {
            boost::system::error_code ip_ec;
            boost::asio::ip::make_address(named, ip_ec);
            if (ip_ec) {  // a host name: the certificate is checked against it
                host = named;
                a.note = "the panel's certificate is for " + host + " (webCertFile)";
            }
        }
    }
    const bool v6 = host.find(':') != std::string::npos;
    a.url = std::string(https ? "https" : "http") + "://" + (v6 ? "[" + host + "]" : host) + ":" +
            std::to_string(settings.web_port);
    a.remote = !is_loopback_host(host);
    return a;
}

}  // namespace nebula::gateway::init
