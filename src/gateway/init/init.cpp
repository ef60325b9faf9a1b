#include "gateway/init/init.hpp"

#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>
#include <sstream>

#include "common/crypto.hpp"
#include "common/dotenv.hpp"
#include "common/http.hpp"
#include "gateway/auth/ip_allowlist.hpp"
#include "gateway/check.hpp"
#include "gateway/config.hpp"
#include "gateway/init/xui_settings.hpp"
#include "gateway/xui/panel_client.hpp"

namespace nebula::gateway::init {
namespace asio = boost::asio;
namespace fs = std::filesystem;
namespace {

constexpr std::size_t kKeyBytes = 32;                    // 64 hex characters
constexpr std::chrono::days kCertificateValidity{3650};  // pinned: the date protects nothing
constexpr std::string_view kDefaultLogDir = "/var/log/nebula-gateway";

/// A problem that stops `init` before anything is written (exit status 2).
struct Stop {
    std::string message;
};

bool is_ip(const std::string& host) {
    boost::system::error_code ec;
    boost::asio::ip::make_address(host, ec);
    return !ec;
}

std::string bracketed(const std::string& host) {
    return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

std::string trim(const std::string& text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return "";
    const auto last = text.find_last_not_of(" \t\r\n");
    return text.substr(first, last - first + 1);
}

std::optional<std::string> read_text(const fs::path& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) return std::nullopt;
    std::ostringstream text;
    text << file.rdbuf();
    return text.str();
}

std::string today(const common::Clock& clock) {
    const std::chrono::year_month_day day{std::chrono::floor<std::chrono::days>(clock.now())};
    char text[16];
    std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(day.year()),
                  static_cast<unsigned>(day.month()), static_cast<unsigned>(day.day()));
    return text;
}

std::string short_hostname() {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "vpn1";
    std::string host = name;
    return host.substr(0, std::min(host.find('.'), std::size_t{64}));
}

// ---- Asking ----

std::string read_line(Console& console, bool secret) {
    termios saved{};
    const bool hide = secret && console.terminal_fd >= 0 && ::tcgetattr(console.terminal_fd, &saved) == 0;
    if (hide) {
        termios quiet = saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        ::tcsetattr(console.terminal_fd, TCSAFLUSH, &quiet);
    }
    std::string line;
    const bool got = static_cast<bool>(std::getline(console.in, line));
    if (hide) {
        ::tcsetattr(console.terminal_fd, TCSAFLUSH, &saved);
        console.out << "\n";
    }
    if (!got)
        throw Stop{"no answer (input closed): run init again, or give every value as a flag with --yes"};
    return trim(line);
}

/// The answer, or `fallback` for an empty one.
std::string ask(Console& console, const std::string& question, const std::string& fallback = "",
                bool secret = false) {
    console.out << question << (fallback.empty() || secret ? "" : " [" + fallback + "]") << ": "
                << std::flush;
    std::string answer = read_line(console, secret);
    return answer.empty() ? fallback : answer;
}

/// `given`, else `existing`, else asked, else a Stop naming `flag`.
std::string value_or_ask(Console& console, const std::string& given, const std::string& existing,
                         const std::string& question, const std::string& flag) {
    if (!given.empty()) return given;
    if (!existing.empty()) return existing;
    if (!console.interactive)
        throw Stop{"missing " + flag + " (there is no terminal to ask on, or --yes was given)"};
    for (;;) {
        std::string answer = ask(console, question);
        if (!answer.empty()) return answer;
    }
}

// ---- Validation ----

void check_public_host(const std::string& host) {
    const bool has_colon = host.find(':') != std::string::npos;
    boost::system::error_code ec;
    if (host.empty() || host.find_first_of("/ ?#@[]") != std::string::npos ||
        (has_colon && (boost::asio::ip::make_address_v6(host, ec), ec))) {
        throw Stop{
            "--public-host must be a bare host name or IP address, without scheme, port or path (got \"" +
            host + "\")"};
    }
}

void check_bot_address(const std::string& address) {
    auto parsed = IpAllowlist::parse(std::vector<std::string>{address});
    if (!parsed || address.find(',') != std::string::npos) {
        throw Stop{"--bot-address must be the bot's public IP address or a CIDR range (got \"" + address +
                   "\")"};
    }
}

// ---- Files ----

/// The group id of `name`, or nullopt when there is no such group.
std::optional<gid_t> group_id(const std::string& name) {
    if (name.empty()) return std::nullopt;
    group entry{};
    group* found = nullptr;
    std::vector<char> buffer(16384);
    if (::getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 || found == nullptr)
        return std::nullopt;
    return entry.gr_gid;
}

/// The error of the last system call; with a hint when it was a permission refused.
std::string errno_text() {
    const int error = errno;
    return std::string(std::strerror(error)) +
           (error == EACCES || error == EPERM ? " (run it as root: sudo nebula-gateway init)" : "");
}

/// Sets the folder's mode and group; creates it (and its parents) first when missing.
void prepare_dir(const fs::path& dir, mode_t mode, std::optional<gid_t> gid, bool fix_existing) {
    std::error_code ec;
    const bool existed = fs::is_directory(dir, ec);
    if (!existed) {
        fs::create_directories(dir, ec);
        if (ec)
            throw std::runtime_error(
                "cannot create " + dir.string() + ": " + ec.message() +
                (ec == std::errc::permission_denied ? " (run it as root: sudo nebula-gateway init)" : ""));
    }
    if (existed && !fix_existing) return;
    if (::chmod(dir.c_str(), mode) != 0)
        throw std::runtime_error("cannot chmod " + dir.string() + ": " + errno_text());
    if (gid && ::chown(dir.c_str(), static_cast<uid_t>(-1), *gid) != 0)
        throw std::runtime_error("cannot chgrp " + dir.string() + ": " + errno_text());
}

/// Writes `content` whole into a new file beside `path` and renames it over `path`, so a reader
/// never sees half a file and a failure leaves the old one.
void write_file(const fs::path& path, const std::string& content, mode_t mode, std::optional<gid_t> gid) {
    const fs::path tmp = path.string() + ".init-" + common::random_hex(4);
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) throw std::runtime_error("cannot write " + path.string() + ": " + errno_text());
    bool ok = true;
    std::size_t written = 0;
    while (ok && written < content.size()) {
        const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
        if (n < 0 && errno == EINTR) continue;
        ok = n > 0;
        if (ok) written += static_cast<std::size_t>(n);
    }
    ok = ok && ::fchmod(fd, mode) == 0;
    ok = ok && (!gid || ::fchown(fd, static_cast<uid_t>(-1), *gid) == 0);
    ok = ok && ::fsync(fd) == 0;
    const std::string failure = ok ? "" : errno_text();
    ::close(fd);
    if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
        const std::string why = ok ? errno_text() : failure;
        ::unlink(tmp.c_str());
        throw std::runtime_error("cannot write " + path.string() + ": " + why);
    }
}

/// Fixes the mode and group of a file `init` keeps.
void fix_file(const fs::path& path, mode_t mode, std::optional<gid_t> gid) {
    if (::chmod(path.c_str(), mode) != 0)
        throw std::runtime_error("cannot chmod " + path.string() + ": " + errno_text());
    if (gid && ::chown(path.c_str(), static_cast<uid_t>(-1), *gid) != 0)
        throw std::runtime_error("cannot chgrp " + path.string() + ": " + errno_text());
}

std::string mode_text(mode_t mode) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode));
    return text;
}

// ---- TLS ----

using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;
using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;

X509Ptr parse_cert(const std::string& pem) {
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
    return X509Ptr(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr, X509_free);
}

/// True when the files hold a certificate and the key that belongs to it.
bool usable_pair(const std::string& cert_path, const std::string& key_path) {
    auto cert_pem = read_text(cert_path);
    auto key_pem = read_text(key_path);
    if (!cert_pem || !key_pem) return false;
    auto cert = parse_cert(*cert_pem);
    BioPtr bio(BIO_new_mem_buf(key_pem->data(), static_cast<int>(key_pem->size())), BIO_free);
    KeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr, EVP_PKEY_free);
    const bool ok = cert && key && X509_check_private_key(cert.get(), key.get()) == 1;
    ERR_clear_error();
    return ok;
}

// ---- The panel ----

struct PanelView {
    std::vector<xui::Inbound> inbounds;
    std::string version;
};

std::string panel_problem(const xui::PanelError& e, const std::string& url) {
    switch (e.code) {
        case xui::PanelErrorCode::auth_failed:
            return "the panel refused the login: check the user name and password (or the API token) you "
                   "use in 3x-ui, then run init again. Nothing was written.";
        case xui::PanelErrorCode::unreachable:
            return "cannot reach the panel at " + url + " (" + e.message +
                   "): is 3x-ui running? Give its address with --panel-url. Nothing was written.";
        case xui::PanelErrorCode::timeout:
            return "the panel at " + url + " did not answer in time. Nothing was written.";
        case xui::PanelErrorCode::not_found:
        case xui::PanelErrorCode::protocol:
            return "the panel at " + url + " did not answer as 3x-ui does (" + e.message +
                   "): check the web base path (--panel-url http://127.0.0.1:PORT/BASEPATH/); 3x-ui also "
                   "answers this way to an API token it does not know. Nothing was written.";
        default:
            return "the panel said no: " + e.message + ". Nothing was written.";
    }
}

common::Result<PanelView, xui::PanelError> fetch_panel(const xui::PanelOptions& options,
                                                       const common::Clock& clock) {
    asio::io_context io;
    std::optional<common::Result<PanelView, xui::PanelError>> out;
    std::exception_ptr failure;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            auto panel = xui::PanelClient::create(io.get_executor(), options, clock);
            if (!panel) {
                out = common::unexpected(xui::PanelError{xui::PanelErrorCode::protocol, panel.error()});
                co_return;
            }
            // Logs in and learns the API generation, and with it the panel's version.
            if (auto generation = co_await (*panel)->generation(); !generation) {
                out = common::unexpected(generation.error());
                panel->reset();
                co_return;
            }
            auto inbounds = co_await (*panel)->list_inbounds();
            if (!inbounds) {
                out = common::unexpected(inbounds.error());
            } else {
                out = PanelView{std::move(*inbounds), (*panel)->panel_version()};
            }
            panel->reset();
        },
        [&](std::exception_ptr e) { failure = e; });
    io.run();
    if (failure) std::rethrow_exception(failure);
    return std::move(*out);
}

std::string inbound_text(const xui::Inbound& inbound) {
    return std::to_string(inbound.id) + " " + inbound.remark + " (" + inbound.protocol + ", port " +
           std::to_string(inbound.port) + ")";
}

const xui::Inbound& pick_inbound(Console& console, const InitOptions& options,
                                 const std::vector<xui::Inbound>& all) {
    std::vector<const xui::Inbound*> vless;
    for (const auto& inbound : all)
        if (inbound.protocol == "vless") vless.push_back(&inbound);
    std::string listing;
    for (const auto* inbound : vless) listing += "\n  " + inbound_text(*inbound);
    if (options.inbound) {
        for (const auto& inbound : all) {
            if (inbound.id != *options.inbound) continue;
            if (inbound.protocol != "vless")
                throw Stop{"inbound " + inbound_text(inbound) + " is not VLESS; the VLESS inbounds are:" +
                           (listing.empty() ? std::string(" none") : listing)};
            return inbound;
        }
        throw Stop{"the panel has no inbound " + std::to_string(*options.inbound) +
                   "; its VLESS inbounds are:" + (listing.empty() ? std::string(" none") : listing)};
    }
    if (vless.empty())
        throw Stop{
            "the panel has no VLESS inbound: create one in 3x-ui (Inbounds → Add), then run init again"};
    if (vless.size() == 1) return *vless.front();
    if (!console.interactive)
        throw Stop{"the panel has " + std::to_string(vless.size()) +
                   " VLESS inbounds; say which one new clients go into with --inbound ID:" + listing};
    console.out << "VLESS inbounds on this panel:" << listing << "\n";
    for (;;) {
        const std::string answer =
            ask(console, "Inbound new clients go into (id)", std::to_string(vless.front()->id));
        int id = 0;
        const auto [end, ec] = std::from_chars(answer.data(), answer.data() + answer.size(), id);
        if (ec == std::errc() && end == answer.data() + answer.size()) {
            for (const auto* inbound : vless)
                if (inbound->id == id) return *inbound;
        }
        console.out << "  not one of the ids above\n";
    }
}

std::string existing(const std::map<std::string, std::string>& env, const std::string& key) {
    auto it = env.find(key);
    return it == env.end() ? "" : it->second;
}

std::optional<std::uint16_t> parse_port(const std::string& text) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(value);
}

Firewall detect_firewall(const CommandRunner& run) {
    if (auto ufw = run({"ufw", "status"});
        ufw.status == 0 && ufw.output.find("Status: active") != std::string::npos)
        return Firewall::ufw;
    if (run({"nft", "--version"}).status == 0) return Firewall::nftables;
    return Firewall::none;
}

struct PanelTarget {
    std::string url, base_path;
    bool remote = false;
};

PanelTarget target_from(const std::string& text, const std::string& what) {
    auto url = common::http::Url::parse(text);
    if (!url) throw Stop{what + ": " + url.error()};
    PanelTarget t;
    t.url = url->scheme + "://" + bracketed(url->host) + ":" + std::to_string(url->port);
    t.base_path = url->path;
    t.remote = !is_loopback_url(t.url);
    return t;
}

/// The flag, else the panel's own database, else gateway.env, else asked.
PanelTarget locate_panel(const InitOptions& options, Console& console,
                         const std::map<std::string, std::string>& old, const fs::path& env_path) {
    if (!options.panel_url.empty()) return target_from(options.panel_url, "--panel-url");
    auto settings = read_panel_settings(options.xui_db);
    if (settings) {
        const auto address = panel_address(*settings);
        console.out << "Panel: " << address.url << address.base_path << " (read from " << options.xui_db
                    << ": webPort " << settings->web_port << ", webBasePath " << settings->web_base_path
                    << ")" << (address.note.empty() ? "" : "; " + address.note) << "\n";
        return {address.url, address.base_path, address.remote};
    }
    console.out << "Cannot read the panel's settings: " << settings.error() << "\n";
    if (const std::string url = existing(old, "PANEL_URL"); !url.empty()) {
        auto t = target_from(url, "PANEL_URL in " + env_path.string());
        const std::string base = existing(old, "PANEL_BASE_PATH");
        t.base_path = base.empty() ? "/" : base;
        return t;
    }
    return target_from(value_or_ask(console, "", "",
                                    "3x-ui panel address, as in the browser (e.g. "
                                    "http://127.0.0.1:2053/AbC12xyz/)",
                                    "--panel-url"),
                       "panel address");
}

struct PanelLogin {
    std::string user, password, token;
};

/// The flags, else gateway.env, else asked (the password and token without echo).
PanelLogin panel_login(const InitOptions& options, Console& console,
                       const std::map<std::string, std::string>& old) {
    PanelLogin l{options.panel_user, options.panel_password, options.panel_token};
    if (l.token.empty() && l.user.empty() && l.password.empty()) {
        l.token = existing(old, "PANEL_API_TOKEN");
        if (l.token.empty()) {
            l.user = existing(old, "PANEL_USERNAME");
            l.password = existing(old, "PANEL_PASSWORD");
        }
    }
    if (!l.token.empty() || (!l.user.empty() && !l.password.empty())) return l;
    if (!console.interactive)
        throw Stop{
            "missing the panel login: --panel-user and --panel-password, or --panel-token (3x-ui 3.x)"};
    if (l.user.empty())
        l.user = ask(console, "Panel user name (leave empty to paste a 3x-ui 3.x API token instead)");
    if (l.user.empty()) {
        while (l.token.empty())
            l.token = ask(console, "API token (Settings → Security → API Token)", "", true);
    } else {
        while (l.password.empty()) l.password = ask(console, "Panel password", "", true);
    }
    return l;
}

/// Runs the rule's commands, printing each; a failure is a warning (the gateway's own allowlist
/// still holds).
void add_firewall_rule(Firewall chosen, const std::string& bot_address, std::uint16_t port,
                       const CommandRunner& run, std::ostream& out) {
    Firewall firewall = chosen;
    if (firewall == Firewall::detect) {
        firewall = detect_firewall(run);
        if (firewall == Firewall::none)
            out << "Firewall: neither an active ufw nor nft found; allow only " << bot_address
                << " to TCP port " << port << " by hand (docs/operations.md, Firewall).\n";
    }
    for (const auto& command : firewall_commands(firewall, bot_address, port)) {
        out << "Firewall: $ " << shell_line(command) << "\n";
        const auto result = run(command);
        if (result.status != 0) {
            out << "WARN firewall: the command failed (exit " << result.status << "): " << trim(result.output)
                << "\n     the gateway still refuses every address but " << bot_address << "\n";
            break;
        }
    }
    if (firewall == Firewall::nftables)
        out << "Firewall: nft rules last until a reboot; add the table to /etc/nftables.conf to keep them.\n";
}

/// `nebula-gateway check` on the written file, then the service; false when either failed (said).
bool check_and_start(const InitOptions& options, const fs::path& env_path, const CommandRunner& run,
                     const common::Clock& clock, std::ostream& out) {
    auto env = common::Environment::load(env_path.string());
    if (!env) {
        out << "FAIL configuration: " << env.error() << "\n";
        return false;
    }
    auto config = load_gateway_config(*env);
    if (!config) {
        out << "FAIL configuration: " << config.error() << "\n";
        return false;
    }
    out << "OK   configuration: " << env_path.string() << " is valid\n";
    bool ok = true;
    for (const auto& result : check_gateway(*config, clock)) {
        out << format_check(result) << "\n";
        ok = ok && result.ok;
    }
    if (!ok) {
        out << "Fix what FAIL says, then run init again (it keeps the key and certificate; for a "
               "certificate that expired, add --rotate).\n";
        return false;
    }

    // Start, or restart to read the new files.
    if (options.no_start) {
        out << "Not started (--no-start): sudo systemctl enable --now " << options.service << "\n";
    } else {
        for (const std::vector<std::string>& command :
             {std::vector<std::string>{"systemctl", "enable", options.service},
              std::vector<std::string>{"systemctl", "restart", options.service}}) {
            out << "Service: $ " << shell_line(command) << "\n";
            const auto result = run(command);
            if (result.status != 0) {
                out << "FAIL service: exit " << result.status << ": " << trim(result.output)
                    << "\n     see journalctl -u " << options.service << "\n";
                return false;
            }
        }
    }

    return true;
}

int run_steps(const InitOptions& options, Console& console, const CommandRunner& run,
              const common::Clock& clock) {
    auto& out = console.out;
    const fs::path config_dir = options.config_dir;
    const fs::path env_path = config_dir / "gateway.env";
    const fs::path tls_dir = config_dir / "tls";

    // 1. What this server already has.
    std::string old_text;
    std::map<std::string, std::string> old;
    if (auto text = read_text(env_path)) {
        auto parsed = common::parse_dotenv(*text);
        if (!parsed) {
            std::string lines;
            for (const auto& e : parsed.error())
                lines += "\n  line " + std::to_string(e.line) + ": " + e.message;
            throw Stop{env_path.string() + " cannot be read; fix these lines or move the file away:" + lines};
        }
        old_text = std::move(*text);
        old = std::move(*parsed);
        out << "Found " << env_path.string() << ": its key, certificate and your own settings are kept"
            << (options.rotate ? " (except the key and certificate: --rotate)" : "") << ".\n";
    }

    // 2. Where the panel is, and 3. how to log in.
    const auto [panel_url, base_path, remote] = locate_panel(options, console, old, env_path);
    const auto [user, password, token] = panel_login(options, console, old);

    // 4. Prove it, and choose the inbound, before anything is written.
    xui::PanelOptions panel_options;
    panel_options.url = *common::http::Url::parse(panel_url);  // checked by locate_panel
    panel_options.base_path = base_path;
    panel_options.username = token.empty() ? user : "";
    panel_options.password = token.empty() ? password : "";
    panel_options.api_token = token;
    auto view = fetch_panel(panel_options, clock);
    if (!view) throw Stop{panel_problem(view.error(), panel_url + base_path)};
    out << "Panel: logged in" << (view->version.empty() ? "" : " to 3x-ui " + view->version) << "\n";
    const auto& inbound = pick_inbound(console, options, view->inbounds);
    out << "Inbound: " << inbound_text(inbound) << "\n";

    // 5. The rest of what only the reseller knows.
    const std::string public_host = value_or_ask(console, options.public_host, existing(old, "PUBLIC_HOST"),
                                                 "Public address of this server (host name or IP customers "
                                                 "and the bot reach it at)",
                                                 "--public-host");
    check_public_host(public_host);
    const std::string bot_address = value_or_ask(console, options.bot_address, existing(old, "ALLOWED_IPS"),
                                                 "The bot machine's public IP address (the only address "
                                                 "allowed to call this gateway)",
                                                 "--bot-address");
    check_bot_address(bot_address);
    std::string name = options.name, location = options.location;
    if (name.empty())
        name =
            console.interactive ? ask(console, "Server name in Discord", short_hostname()) : short_hostname();
    if (location.empty())
        location =
            console.interactive ? ask(console, "Location shown to customers (e.g. Frankfurt)", name) : name;
    if (name.size() > 64 || location.size() > 64)
        throw Stop{"--name and --location are at most 64 characters"};

    std::uint16_t port = 8443;
    if (options.port) {
        port = *options.port;
    } else if (auto old_port = parse_port(existing(old, "PORT")); old_port && *old_port != 0) {
        port = *old_port;
    }

    // 6. The key and the certificate: kept unless --rotate (or unusable).
    const std::string old_key = existing(old, "API_SECRET_KEY");
    const bool keep_key = !options.rotate && old_key.size() >= 32;
    const std::string key = keep_key ? old_key : common::random_hex(kKeyBytes);
    std::string cert_path = existing(old, "SSL_CERT_PATH"), key_path = existing(old, "SSL_KEY_PATH");
    const bool keep_cert =
        !options.rotate && !cert_path.empty() && !key_path.empty() && usable_pair(cert_path, key_path);
    std::optional<TlsPair> fresh;
    if (!keep_cert) {
        auto made = make_certificate(public_host, kCertificateValidity);
        if (!made) throw std::runtime_error("cannot make the certificate: " + made.error());
        fresh = std::move(*made);
        cert_path = (tls_dir / "cert.pem").string();
        key_path = (tls_dir / "key.pem").string();
    }

    // 7. Write.
    const auto gid = group_id(options.service_group);
    const mode_t file_mode = gid ? 0640 : 0600;
    const mode_t dir_mode = gid ? 0750 : 0700;
    const std::string owner = gid ? "group " + options.service_group : "its owner only";
    prepare_dir(config_dir, dir_mode, gid, false);
    const bool ours = fs::path(cert_path).parent_path() == tls_dir;
    if (fresh || ours) prepare_dir(tls_dir, dir_mode, gid, true);
    if (fresh) {
        write_file(key_path, fresh->key_pem, file_mode, gid);
        write_file(cert_path, fresh->cert_pem, file_mode, gid);
    } else if (ours) {
        fix_file(key_path, file_mode, gid);
        fix_file(cert_path, file_mode, gid);
    }
    const auto cert_pem = read_text(cert_path);
    auto pin_result =
        cert_pem ? certificate_pin(*cert_pem) : common::unexpected(std::string("cannot read it"));
    if (!pin_result) throw std::runtime_error(cert_path + ": " + pin_result.error());
    const std::string pin = *pin_result;

    std::vector<std::pair<std::string, std::optional<std::string>>> set;
    if (options.port || !old.contains("PORT")) set.emplace_back("PORT", std::to_string(port));
    if (!old.contains("BIND_ADDRESS")) set.emplace_back("BIND_ADDRESS", "0.0.0.0");
    set.emplace_back("SSL_CERT_PATH", cert_path);
    set.emplace_back("SSL_KEY_PATH", key_path);
    set.emplace_back("API_SECRET_KEY", key);
    if (options.rotate && old_key.size() >= 32) {
        set.emplace_back("API_SECRET_KEY_PREVIOUS", old_key);
        set.emplace_back("API_SECRET_KEY_PREVIOUS_SINCE", today(clock));
    }
    set.emplace_back("ALLOWED_IPS", bot_address);
    set.emplace_back("PANEL_URL", panel_url);
    set.emplace_back("PANEL_ALLOW_REMOTE", remote ? std::optional<std::string>("true") : std::nullopt);
    set.emplace_back("PANEL_BASE_PATH", base_path);
    set.emplace_back("PANEL_USERNAME", token.empty() ? std::optional(user) : std::nullopt);
    set.emplace_back("PANEL_PASSWORD", token.empty() ? std::optional(password) : std::nullopt);
    set.emplace_back("PANEL_API_TOKEN", token.empty() ? std::nullopt : std::optional(token));
    set.emplace_back("PUBLIC_HOST", public_host);
    if (!old.contains("LOG_DIR")) set.emplace_back("LOG_DIR", std::string(kDefaultLogDir));
    write_file(env_path, merge_env(old_text, set), file_mode, gid);

    out << "Key: "
        << (keep_key                                 ? "kept"
            : options.rotate && old_key.size() >= 32 ? "new (the previous one still works, see below)"
                                                     : "new")
        << "\n";
    out << "Certificate: "
        << (keep_cert ? "kept, " + cert_path : "new, for " + public_host + ", " + cert_path) << "\n";
    out << "Wrote " << env_path.string() << (fresh ? ", " + cert_path + ", " + key_path : "") << " ("
        << mode_text(file_mode) << ", " << owner << ")\n";
    if (!gid)
        out << "Note: there is no " << options.service_group
            << " group, so only root may read these files; install the package (or create the user as "
               "docs/operations.md shows) and run init again.\n";
    if (remote)
        out << "Note: PANEL_ALLOW_REMOTE=true, since the panel is reached at " << panel_url
            << " (this machine's own address).\n";

    // 8. The firewall; 9. the same checks as `nebula-gateway check`; 10. the service.
    add_firewall_rule(options.firewall, bot_address, port, run, out);
    if (!check_and_start(options, env_path, run, clock, out)) return 1;

    // 11. The line for Discord.
    const std::string url = "https://" + bracketed(public_host) + ":" + std::to_string(port);
    out << "\n";
    if (options.rotate && old_key.size() >= 32) {
        out << "New key and certificate. If the bot already has this server, paste this in Discord now "
               "(its calls fail until then: the certificate changed):\n\n"
            << "/admin server edit server:" << name << " key:" << key << " pin:" << pin << "\n\n"
            << "then /admin server test server:" << name
            << ". The previous key still works until you remove API_SECRET_KEY_PREVIOUS and "
               "API_SECRET_KEY_PREVIOUS_SINCE from gateway.env and restart (docs/operations.md, Key "
               "rotation).\n"
            << "A server the bot does not have yet: "
            << admin_add_line(name, location, url, key, pin, inbound.id) << "\n";
    } else {
        out << "Done. Paste this line into Discord (as an admin, in any channel of your shop):\n\n"
            << admin_add_line(name, location, url, key, pin, inbound.id) << "\n\n"
            << "then /admin server test server:" << name << "\n";
    }
    return 0;
}

bool plain_shell_word(const std::string& word) {
    return !word.empty() && std::all_of(word.begin(), word.end(), [](unsigned char c) {
        return std::isalnum(c) || std::strchr("_-./:,@%+=", c) != nullptr;
    });
}

std::string env_key(std::string_view line) {
    std::size_t i = line.find_first_not_of(" \t");
    if (i == std::string_view::npos) return "";
    line.remove_prefix(i);
    if (line.starts_with("export ")) line.remove_prefix(7);
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) return "";
    std::string key(trim(std::string(line.substr(0, eq))));
    const bool valid = !key.empty() && std::all_of(key.begin(), key.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '_';
    });
    return valid ? key : "";
}

/// True when `line` opens a double-quoted value that does not close on it (the value goes on).
bool opens_multiline(std::string_view line) {
    const auto eq = line.find('=');
    auto value = line.substr(eq + 1);
    const auto first = value.find_first_not_of(" \t");
    if (first == std::string_view::npos || value[first] != '"') return false;
    for (std::size_t i = first + 1; i < value.size(); ++i) {
        if (value[i] == '\\') {
            ++i;
        } else if (value[i] == '"') {
            return false;
        }
    }
    return true;
}

bool closes_quote(std::string_view line) {
    for (std::size_t i = 0; i < line.size(); ++i) {
        if (line[i] == '\\') {
            ++i;
        } else if (line[i] == '"') {
            return true;
        }
    }
    return false;
}

}  // namespace

CommandResult run_command(const std::vector<std::string>& argv) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return {127, "pipe: " + errno_text()};
    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(fds[0]);
        ::close(fds[1]);
        return {127, "fork: " + errno_text()};
    }
    if (pid == 0) {
        ::dup2(fds[1], STDOUT_FILENO);
        ::dup2(fds[1], STDERR_FILENO);
        std::vector<char*> args;
        args.reserve(argv.size() + 1);
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        const std::string message = argv[0] + ": not found\n";
        [[maybe_unused]] auto n = ::write(STDERR_FILENO, message.data(), message.size());
        ::_exit(127);
    }
    ::close(fds[1]);
    std::string output;
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        output.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), output};
}

int run_init(const InitOptions& options, Console& console, const CommandRunner& run,
             const common::Clock& clock) {
    try {
        return run_steps(options, console, run, clock);
    } catch (const Stop& stop) {
        console.out << "nebula-gateway init: " << stop.message << "\n";
        return 2;
    } catch (const std::exception& e) {
        console.out << "nebula-gateway init: " << e.what() << "\n";
        return 1;
    }
}

std::vector<std::vector<std::string>> firewall_commands(Firewall firewall, const std::string& bot_address,
                                                        std::uint16_t port) {
    const std::string dport = std::to_string(port);
    switch (firewall) {
        case Firewall::ufw:
            return {{"ufw", "allow", "from", bot_address, "to", "any", "port", dport, "proto", "tcp"}};
        case Firewall::nftables: {
            const bool v6 = bot_address.find(':') != std::string::npos;
            return {{"nft", "add", "table", "inet", "nebula"},
                    {"nft", "add", "chain", "inet", "nebula", "input",
                     "{ type filter hook input priority 0; policy accept; }"},
                    {"nft", "flush", "chain", "inet", "nebula", "input"},
                    {"nft", "add", "rule", "inet", "nebula", "input", "tcp", "dport", dport,
                     v6 ? "ip6" : "ip", "saddr", bot_address, "accept"},
                    {"nft", "add", "rule", "inet", "nebula", "input", "tcp", "dport", dport, "drop"}};
        }
        case Firewall::detect:
        case Firewall::none:
            return {};
    }
    return {};
}

std::string shell_line(const std::vector<std::string>& argv) {
    std::string line;
    for (const auto& word : argv) {
        if (!line.empty()) line += ' ';
        if (plain_shell_word(word)) {
            line += word;
        } else {
            line += '\'';
            for (char c : word) line += c == '\'' ? std::string("'\\''") : std::string(1, c);
            line += '\'';
        }
    }
    return line;
}

common::Result<TlsPair, std::string> make_certificate(const std::string& host, std::chrono::days validity) {
    KeyPtr key(EVP_EC_gen("P-256"), EVP_PKEY_free);
    X509Ptr cert(X509_new(), X509_free);
    if (!key || !cert) return common::unexpected(std::string("out of memory or no P-256 support"));
    X509_set_version(cert.get(), 2);
    // A random positive 127-bit serial (RFC 5280 asks for one the issuer never reuses).
    std::string serial = common::random_bytes(16);
    serial[0] = static_cast<char>(serial[0] & 0x7f);
    std::unique_ptr<BIGNUM, decltype(&BN_free)> bn(
        BN_bin2bn(reinterpret_cast<const unsigned char*>(serial.data()), 16, nullptr), BN_free);
    BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get()));
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -300);
    X509_time_adj_ex(X509_getm_notAfter(cert.get()), static_cast<int>(validity.count()), 0, nullptr);
    X509_set_pubkey(cert.get(), key.get());
    X509_NAME* name = X509_get_subject_name(cert.get());
    if (host.size() <= 64)
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(host.c_str()), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    const std::string san = (is_ip(host) ? "IP:" : "DNS:") + host;
    const std::pair<int, std::string> extensions[] = {{NID_subject_alt_name, san},
                                                      {NID_basic_constraints, "critical,CA:FALSE"},
                                                      {NID_key_usage, "critical,digitalSignature"},
                                                      {NID_ext_key_usage, "serverAuth"}};
    for (const auto& [nid, value] : extensions) {
        X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
        if (ext == nullptr) return common::unexpected("cannot encode the certificate extension " + value);
        X509_add_ext(cert.get(), ext, -1);
        X509_EXTENSION_free(ext);
    }
    if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0)
        return common::unexpected(std::string("cannot sign"));
    BioPtr cert_bio(BIO_new(BIO_s_mem()), BIO_free), key_bio(BIO_new(BIO_s_mem()), BIO_free);
    if (PEM_write_bio_X509(cert_bio.get(), cert.get()) != 1 ||
        PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
        return common::unexpected(std::string("cannot write PEM"));
    const auto text = [](BIO* bio) {
        char* data = nullptr;
        const long size = BIO_get_mem_data(bio, &data);
        return std::string(data, static_cast<std::size_t>(size));
    };
    return TlsPair{text(cert_bio.get()), text(key_bio.get())};
}

common::Result<std::string, std::string> certificate_pin(const std::string& cert_pem) {
    auto cert = parse_cert(cert_pem);
    if (!cert) return common::unexpected(std::string("not a PEM certificate"));
    unsigned char* der = nullptr;
    const int length = i2d_X509(cert.get(), &der);
    if (length <= 0) return common::unexpected(std::string("cannot encode the certificate"));
    std::string pin =
        common::sha256_hex(std::string_view(reinterpret_cast<char*>(der), static_cast<std::size_t>(length)));
    OPENSSL_free(der);
    return pin;
}

std::string env_value(const std::string& value) {
    if (value.empty() || plain_shell_word(value)) return value;
    if (value.find('\'') == std::string::npos && value.find('\n') == std::string::npos)
        return "'" + value + "'";
    std::string quoted = "\"";
    for (char c : value) {
        if (c == '"' || c == '\\') {
            quoted += '\\';
            quoted += c;
        } else if (c == '\n') {
            quoted += "\\n";
        } else if (c == '\t') {
            quoted += "\\t";
        } else {
            quoted += c;
        }
    }
    return quoted + "\"";
}

std::string merge_env(const std::string& existing,
                      const std::vector<std::pair<std::string, std::optional<std::string>>>& set) {
    std::map<std::string, std::optional<std::string>> wanted(set.begin(), set.end());
    std::set<std::string> done;
    std::string out;
    std::istringstream lines(existing);
    std::string line;
    bool skipping = false;  // inside a multi-line value being replaced
    while (std::getline(lines, line)) {
        if (skipping) {
            skipping = !closes_quote(line);
            continue;
        }
        const std::string key = env_key(line);
        auto it = key.empty() ? wanted.end() : wanted.find(key);
        if (it == wanted.end()) {
            out += line + "\n";
            continue;
        }
        skipping = opens_multiline(line);
        if (it->second && done.insert(key).second) out += key + "=" + env_value(*it->second) + "\n";
    }
    std::string added;
    for (const auto& [key, value] : set) {
        if (value && !done.contains(key)) added += key + "=" + env_value(*value) + "\n";
    }
    if (!added.empty()) {
        if (out.empty()) {
            out =
                "# nebula-gateway configuration, written by `nebula-gateway init` (docs/operations.md).\n"
                "# Every key: README \"Configuration\". Lines you add are kept when init runs again.\n";
        } else {
            if (!out.ends_with("\n\n")) out += "\n";
            out += "# Added by nebula-gateway init\n";
        }
        out += added;
    }
    return out;
}

std::string admin_add_line(const std::string& name, const std::string& location, const std::string& url,
                           const std::string& key, const std::string& pin, int inbound) {
    return "/admin server add name:" + name + " location:" + location + " url:" + url + " key:" + key +
           " pin:" + pin + " inbound:" + std::to_string(inbound);
}

}  // namespace nebula::gateway::init
