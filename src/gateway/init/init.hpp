#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/result.hpp"

namespace nebula::gateway::init {

/// Which firewall `init` adds the rule to. `detect`: ufw when it is active, else nftables when
/// `nft` is installed, else none (and it says so).
enum class Firewall { detect, nftables, ufw, none };

/// `nebula-gateway init`'s flags (docs/operations.md, "Set up a VPN server"). Empty means "not
/// given": the value then comes from the existing gateway.env, the panel's database or a prompt.
struct InitOptions {
    std::string panel_url;  ///< scheme, host, port and (optionally) the web base path
    std::string panel_user, panel_password, panel_token;
    std::string public_host;  ///< what customers and the bot reach this server at
    std::string bot_address;  ///< the bot's public address (an IP or CIDR range): ALLOWED_IPS
    std::optional<int> inbound;
    std::string name, location;  ///< for the /admin server add line
    std::optional<std::uint16_t> port;
    std::string config_dir = "/etc/nebulalinks";
    std::string xui_db = "/etc/x-ui/x-ui.db";
    Firewall firewall = Firewall::detect;
    bool no_start = false;
    bool rotate = false;
    bool yes = false;  ///< never ask: what is missing is an error naming the flag
    /// The service's group (the package's system user): files root:<group> 0640, folders 0750.
    /// When the group does not exist, files are 0600 and folders 0700.
    std::string service_group = "nebula-gateway";
    std::string service = "nebula-gateway";  ///< the systemd unit to enable and (re)start
};

/// Where `init` talks to the person running it. `interactive`: it may ask (a terminal, no
/// --yes). `terminal_fd` >= 0: echo is turned off on it while a password or token is typed.
struct Console {
    std::istream& in;
    std::ostream& out;
    bool interactive = false;
    int terminal_fd = -1;
};

/// One external command's exit status (127 when it could not be run) and its output.
struct CommandResult {
    int status = 0;
    std::string output;
};
/// Runs argv[0] from PATH with the other arguments, no shell. Injected so tests run no
/// systemctl, nft or ufw.
using CommandRunner = std::function<CommandResult(const std::vector<std::string>& argv)>;

/// The real runner: fork and exec, stdout and stderr captured, waits for the exit.
CommandResult run_command(const std::vector<std::string>& argv);

/// The whole setup: reads the panel's settings, proves the panel credentials, picks the inbound,
/// keeps or makes the key and the certificate, writes gateway.env and the TLS files, adds the
/// firewall rule, runs the same checks as `nebula-gateway check`, starts the service and prints
/// the /admin server add line. Nothing is written before the panel has accepted the
/// credentials. Returns the exit status: 0 done, 1 a check or the service failed (the files are
/// written; the output says what to fix), 2 bad or missing input or the panel refused (nothing
/// written). Blocking.
int run_init(const InitOptions& options, Console& console, const CommandRunner& run,
             const common::Clock& clock);

// ---- The parts, pure where they can be (tested one by one) ----

/// The commands that let only `bot_address` reach TCP `port` (nothing for Firewall::none or
/// ::detect). nftables: its own table `inet nebula`, flushed and refilled so a re-run does not
/// add the rules twice; ufw: one allow rule (ufw denies the rest by default and skips a rule it
/// already has).
std::vector<std::vector<std::string>> firewall_commands(Firewall firewall, const std::string& bot_address,
                                                        std::uint16_t port);
/// argv as a person would type it into a shell (quoted where needed).
std::string shell_line(const std::vector<std::string>& argv);

/// A self-signed ECDSA P-256 certificate for `host` (CN and subjectAltName, DNS or IP) and its
/// unencrypted PKCS#8 key, both PEM.
struct TlsPair {
    std::string cert_pem, key_pem;
};
common::Result<TlsPair, std::string> make_certificate(const std::string& host, std::chrono::days validity);
/// The pin the bot stores: lowercase hex SHA-256 of the certificate's DER (64 digits).
common::Result<std::string, std::string> certificate_pin(const std::string& cert_pem);

/// `existing` gateway.env text with each key of `set` given its value (in place where the key
/// already is, else appended) and each key mapped to nullopt removed. Every other line —
/// comments, keys `init` does not own, blank lines — is kept as it was.
std::string merge_env(const std::string& existing,
                      const std::vector<std::pair<std::string, std::optional<std::string>>>& set);
/// `value` written so the gateway's .env reader gives it back unchanged (quoted when needed).
std::string env_value(const std::string& value);

/// "/admin server add name:… location:… url:… key:… pin:… inbound:…", the line to paste.
std::string admin_add_line(const std::string& name, const std::string& location, const std::string& url,
                           const std::string& key, const std::string& pin, int inbound);

}  // namespace nebula::gateway::init
