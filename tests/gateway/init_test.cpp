// `nebula-gateway init` as a reseller runs it on a VPN server: against the fake 3x-ui panel (both
// API generations, cookie login and the 3.x API token) with a 3x-ui settings database made here,
// checking every file it writes, re-runs, rotation, refusals, and that the line it prints for
// Discord is accepted by the bot's rules and opens a signed TLS call to the gateway it set up.
#include "gateway/init/init.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <grp.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "common/crypto.hpp"
#include "common/dotenv.hpp"
#include "common/http_client.hpp"
#include "common/signing.hpp"
#include "fakes/xui/fake_panel.hpp"
#include "gateway/init/xui_settings.hpp"
#include "support/io_thread.hpp"
#include "support/tls_cert.hpp"

namespace nebula::gateway::init {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
    std::ifstream file(path, std::ios::binary);
    std::ostringstream text;
    text << file.rdbuf();
    return text.str();
}

std::map<std::string, std::string> read_env(const fs::path& path) {
    auto parsed = common::parse_dotenv(read_file(path));
    if (!parsed) throw std::runtime_error("gateway.env does not parse");
    return *parsed;
}

mode_t mode_of(const fs::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) throw std::runtime_error("no " + path.string());
    return st.st_mode & 07777;
}

gid_t group_of(const fs::path& path) {
    struct stat st {};
    ::stat(path.c_str(), &st);
    return st.st_gid;
}

/// A 3x-ui database as the panel leaves it: the gorm `settings` table of key/value rows.
void write_xui_db(const fs::path& path, const std::vector<std::pair<std::string, std::string>>& rows) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    std::string sql =
        "CREATE TABLE settings (id integer PRIMARY KEY AUTOINCREMENT, key text, value text);"
        "CREATE INDEX idx_settings_key ON settings(key);"
        "CREATE TABLE inbounds (id integer PRIMARY KEY AUTOINCREMENT, remark text);"
        "INSERT INTO settings (key, value) VALUES ('secret', 'Zr8fKQ2mWx'), ('timeLocation', 'Local');";
    for (const auto& [key, value] : rows)
        sql += "INSERT INTO settings (key, value) VALUES ('" + key + "', '" + value + "');";
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
}

/// The values of a pasted "/admin server add k:v k:v …" line.
std::map<std::string, std::string> parse_admin_line(const std::string& line) {
    std::map<std::string, std::string> values;
    std::istringstream words(line);
    std::string word;
    words >> word;
    if (word != "/admin") throw std::runtime_error("not an /admin line: " + line);
    words >> word >> word;  // server add
    while (words >> word) {
        const auto colon = word.find(':');
        if (colon == std::string::npos) throw std::runtime_error("not an option: " + word);
        values[word.substr(0, colon)] = word.substr(colon + 1);
    }
    return values;
}

std::string line_starting(const std::string& output, const std::string& prefix) {
    std::istringstream lines(output);
    std::string line;
    while (std::getline(lines, line))
        if (line.starts_with(prefix)) return line;
    return "";
}

std::string current_group() {
    const group* g = ::getgrgid(::getegid());
    return g ? g->gr_name : "";
}

struct PanelCase {
    std::string label;
    fakes::PanelMode mode;
    bool token;
};

class GatewayInit : public ::testing::Test {
  protected:
    void start_panel(fakes::PanelMode mode, std::string api_token = "") {
        fakes::FakePanelOptions o;
        o.mode = mode;
        o.base_path = "/AbC12xyz/";
        o.api_token = std::move(api_token);
        panel_ = fakes::FakePanel::start(o);
        fs::remove(xui_db_);
        write_xui_db(xui_db_, {{"webPort", std::to_string(panel_->port())},
                               {"webBasePath", "AbC12xyz"},
                               {"webListen", ""},
                               {"webCertFile", ""},
                               {"webKeyFile", ""}});
    }

    /// What a reseller passes with --yes; the rest from the panel's database.
    InitOptions flags() {
        InitOptions o;
        o.config_dir = config_dir_.string();
        o.xui_db = xui_db_.string();
        o.panel_user = "admin";
        o.panel_password = "admin";
        o.public_host = "127.0.0.1";
        o.bot_address = "127.0.0.1";
        o.name = "Frankfurt-1";
        o.location = "Frankfurt";
        o.firewall = Firewall::none;
        o.yes = true;
        o.service_group = current_group();
        return o;
    }

    int run(const InitOptions& o, const std::string& input = "", bool interactive = false) {
        std::istringstream in(input);
        std::ostringstream out;
        Console console{in, out, interactive, -1};
        commands_.clear();
        const int status = run_init(o, console, runner_, clock_);
        output_ = out.str();
        return status;
    }

    std::string admin_line() { return line_starting(output_, "/admin server add "); }

    nebula::testing::TempDir dir_;
    fs::path config_dir_ = dir_.path / "etc" / "nebulalinks";
    fs::path xui_db_ = dir_.path / "x-ui.db";
    fs::path env_path_ = config_dir_ / "gateway.env";
    std::unique_ptr<fakes::FakePanel> panel_;
    std::vector<std::vector<std::string>> commands_;
    std::vector<CommandResult> answers_;  ///< what the fake commands answer, in order (then success)
    CommandRunner runner_ = [this](const std::vector<std::string>& argv) {
        commands_.push_back(argv);
        if (answers_.empty()) return CommandResult{0, ""};
        auto answer = answers_.front();
        answers_.erase(answers_.begin());
        return answer;
    };
    common::SystemClock clock_;
    std::string output_;
};

class GatewayInitPanels : public GatewayInit, public ::testing::WithParamInterface<PanelCase> {};

TEST_P(GatewayInitPanels, ReadsThePanelFromItsDatabaseAndWritesEveryFile) {
    const auto& p = GetParam();
    start_panel(p.mode, p.token ? "tok-" + common::random_hex(16) : "");
    ASSERT_TRUE(panel_->delete_inbound(2));  // one VLESS inbound left: init picks it
    auto o = flags();
    if (p.token) {
        o.panel_user = o.panel_password = "";
        o.panel_token = panel_->options().api_token;
    }
    ASSERT_EQ(run(o), 0) << output_;

    // gateway.env: every key the gateway needs, in the format it reads.
    const auto env = read_env(env_path_);
    const std::string key = env.at("API_SECRET_KEY");
    EXPECT_EQ(key.size(), 64u);
    EXPECT_TRUE(common::is_hex(key));
    std::map<std::string, std::string> expected = {
        {"PORT", "8443"},
        {"BIND_ADDRESS", "0.0.0.0"},
        {"SSL_CERT_PATH", (config_dir_ / "tls" / "cert.pem").string()},
        {"SSL_KEY_PATH", (config_dir_ / "tls" / "key.pem").string()},
        {"API_SECRET_KEY", key},
        {"ALLOWED_IPS", "127.0.0.1"},
        {"PANEL_URL", panel_->url()},
        {"PANEL_BASE_PATH", "/AbC12xyz/"},
        {"PUBLIC_HOST", "127.0.0.1"},
        {"LOG_DIR", "/var/log/nebula-gateway"}};
    if (p.token) {
        expected["PANEL_API_TOKEN"] = panel_->options().api_token;
    } else {
        expected["PANEL_USERNAME"] = "admin";
        expected["PANEL_PASSWORD"] = "admin";
    }
    EXPECT_EQ(env, expected);
    if (p.token) {
        EXPECT_EQ(panel_->login_count(), 0);
    }

    // Owners and modes: readable by root and the service's group only.
    const gid_t gid = ::getegid();
    for (const fs::path& file :
         {env_path_, config_dir_ / "tls" / "cert.pem", config_dir_ / "tls" / "key.pem"}) {
        EXPECT_EQ(mode_of(file), 0640u) << file;
        EXPECT_EQ(group_of(file), gid) << file;
    }
    EXPECT_EQ(mode_of(config_dir_ / "tls"), 0750u);
    EXPECT_EQ(mode_of(config_dir_), 0750u);
    EXPECT_EQ(group_of(config_dir_ / "tls"), gid);

    // The certificate: ECDSA P-256, for the public address, and the key is its key.
    const std::string cert_pem = read_file(config_dir_ / "tls" / "cert.pem");
    const std::string key_pem = read_file(config_dir_ / "tls" / "key.pem");
    std::unique_ptr<BIO, decltype(&BIO_free)> cert_bio(BIO_new_mem_buf(cert_pem.data(), -1), BIO_free);
    std::unique_ptr<X509, decltype(&X509_free)> cert(
        PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr), X509_free);
    std::unique_ptr<BIO, decltype(&BIO_free)> key_bio(BIO_new_mem_buf(key_pem.data(), -1), BIO_free);
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(
        PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
    ASSERT_TRUE(cert && pkey);
    EXPECT_EQ(X509_check_private_key(cert.get(), pkey.get()), 1);
    EXPECT_TRUE(EVP_PKEY_is_a(pkey.get(), "EC"));
    char group_name[64] = {};
    EVP_PKEY_get_utf8_string_param(pkey.get(), "group", group_name, sizeof group_name, nullptr);
    EXPECT_STREQ(group_name, "prime256v1");
    EXPECT_EQ(X509_check_ip_asc(cert.get(), "127.0.0.1", 0), 1);

    // Checked, started, and the line to paste.
    EXPECT_NE(output_.find("OK   tls: certificate and key match"), std::string::npos) << output_;
    EXPECT_NE(output_.find("OK   panel "), std::string::npos) << output_;
    EXPECT_EQ(commands_, (std::vector<std::vector<std::string>>{{"systemctl", "enable", "nebula-gateway"},
                                                                {"systemctl", "restart", "nebula-gateway"}}));
    EXPECT_EQ(admin_line(),
              "/admin server add name:Frankfurt-1 location:Frankfurt url:https://127.0.0.1:8443 key:" + key +
                  " pin:" + *certificate_pin(cert_pem) + " inbound:1")
        << output_;
}

INSTANTIATE_TEST_SUITE_P(BothApiGenerations, GatewayInitPanels,
                         ::testing::Values(PanelCase{"v2Cookie", fakes::PanelMode::v2, false},
                                           PanelCase{"v3Cookie", fakes::PanelMode::v3, false},
                                           PanelCase{"v3Token", fakes::PanelMode::v3, true}),
                         [](const auto& info) { return info.param.label; });

TEST_F(GatewayInit, WithoutTheServiceGroupOnlyRootMayRead) {
    start_panel(fakes::PanelMode::v3);
    auto o = flags();
    o.inbound = 2;
    o.service_group = "no-such-group-" + common::random_hex(4);
    ASSERT_EQ(run(o), 0) << output_;
    for (const fs::path& file :
         {env_path_, config_dir_ / "tls" / "cert.pem", config_dir_ / "tls" / "key.pem"}) {
        EXPECT_EQ(mode_of(file), 0600u) << file;
    }
    EXPECT_EQ(mode_of(config_dir_ / "tls"), 0700u);
    EXPECT_NE(output_.find("only root may read"), std::string::npos) << output_;
    EXPECT_NE(admin_line().find(" inbound:2"), std::string::npos) << output_;
}

TEST_F(GatewayInit, RunningAgainKeepsTheKeyTheCertificateAndHandEditedLines) {
    start_panel(fakes::PanelMode::v3);
    auto o = flags();
    o.inbound = 1;
    ASSERT_EQ(run(o), 0) << output_;
    const std::string first_line = admin_line();
    const auto first = read_env(env_path_);
    const std::string cert = read_file(first.at("SSL_CERT_PATH"));
    {
        std::ofstream edit(env_path_, std::ios::app);
        edit << "\n# our own tuning\nRATE_LIMIT_PER_MINUTE=50\nLOG_LEVEL=debug\n";
    }
    std::string edited = read_file(env_path_);
    edited.replace(edited.find("LOG_DIR=/var/log/nebula-gateway"), 31, "LOG_DIR=/srv/gateway-logs");
    std::ofstream(env_path_) << edited;

    // The second time the login comes from gateway.env.
    o.panel_user = o.panel_password = "";
    ASSERT_EQ(run(o), 0) << output_;
    const auto second = read_env(env_path_);
    EXPECT_EQ(second.at("API_SECRET_KEY"), first.at("API_SECRET_KEY"));
    EXPECT_EQ(read_file(second.at("SSL_CERT_PATH")), cert);
    EXPECT_EQ(second.at("RATE_LIMIT_PER_MINUTE"), "50");
    EXPECT_EQ(second.at("LOG_LEVEL"), "debug");
    EXPECT_EQ(second.at("LOG_DIR"), "/srv/gateway-logs");
    EXPECT_EQ(second.at("PANEL_PASSWORD"), "admin");
    EXPECT_NE(read_file(env_path_).find("# our own tuning\n"), std::string::npos);
    EXPECT_EQ(admin_line(), first_line);
    EXPECT_EQ(mode_of(env_path_), 0640u);
}

TEST_F(GatewayInit, RotateMakesANewKeyAndCertificateAndTheOldKeyKeepsWorking) {
    start_panel(fakes::PanelMode::v2);
    auto o = flags();
    o.inbound = 1;
    ASSERT_EQ(run(o), 0) << output_;
    const auto before = read_env(env_path_);
    const std::string old_pin = *certificate_pin(read_file(before.at("SSL_CERT_PATH")));

    o.rotate = true;
    ASSERT_EQ(run(o), 0) << output_;
    const auto after = read_env(env_path_);
    const std::string new_pin = *certificate_pin(read_file(after.at("SSL_CERT_PATH")));
    EXPECT_NE(after.at("API_SECRET_KEY"), before.at("API_SECRET_KEY"));
    EXPECT_NE(new_pin, old_pin);
    EXPECT_EQ(after.at("API_SECRET_KEY_PREVIOUS"), before.at("API_SECRET_KEY"));
    const std::chrono::year_month_day day{std::chrono::floor<std::chrono::days>(clock_.now())};
    char today[16];
    std::snprintf(today, sizeof today, "%04d-%02u-%02u", static_cast<int>(day.year()),
                  static_cast<unsigned>(day.month()), static_cast<unsigned>(day.day()));
    EXPECT_EQ(after.at("API_SECRET_KEY_PREVIOUS_SINCE"), today);
    EXPECT_EQ(line_starting(output_, "/admin server edit "),
              "/admin server edit server:Frankfurt-1 key:" + after.at("API_SECRET_KEY") + " pin:" + new_pin);
    EXPECT_NE(output_.find("OK   secret key: a key rotation is under way"), std::string::npos) << output_;
}

TEST_F(GatewayInit, AFailedCheckStartsNothingAndAFailedStartIsReported) {
    start_panel(fakes::PanelMode::v2);
    auto o = flags();
    o.inbound = 1;
    answers_ = {{0, ""}, {5, "Job for nebula-gateway.service failed."}};
    EXPECT_EQ(run(o), 1);
    EXPECT_NE(output_.find("FAIL service: exit 5: Job for nebula-gateway.service failed."), std::string::npos)
        << output_;
    EXPECT_EQ(admin_line(), "");

    // A certificate of its own that has expired: kept (it loads and matches), so check says so.
    const auto expired = make_certificate("127.0.0.1", std::chrono::days(-1));
    ASSERT_TRUE(expired);
    const auto env = read_env(env_path_);
    std::ofstream(env.at("SSL_CERT_PATH")) << expired->cert_pem;
    std::ofstream(env.at("SSL_KEY_PATH")) << expired->key_pem;
    EXPECT_EQ(run(o), 1);
    EXPECT_NE(output_.find("FAIL tls: the certificate in SSL_CERT_PATH has expired"), std::string::npos)
        << output_;
    EXPECT_NE(output_.find("add --rotate"), std::string::npos) << output_;
    EXPECT_TRUE(commands_.empty());
    EXPECT_EQ(admin_line(), "");

    o.rotate = true;
    EXPECT_EQ(run(o), 0) << output_;
}

TEST_F(GatewayInit, WrongCredentialsGiveAClearErrorAndWriteNothing) {
    start_panel(fakes::PanelMode::v2);
    auto o = flags();
    o.panel_password = "not-the-password";
    EXPECT_EQ(run(o), 2);
    EXPECT_NE(output_.find("the panel refused the login"), std::string::npos) << output_;
    EXPECT_NE(output_.find("Nothing was written"), std::string::npos) << output_;
    EXPECT_FALSE(fs::exists(config_dir_));
    EXPECT_TRUE(commands_.empty());

    panel_.reset();
    start_panel(fakes::PanelMode::v3, "tok-right");
    o = flags();
    o.panel_user = o.panel_password = "";
    o.panel_token = "tok-wrong";
    EXPECT_EQ(run(o), 2);
    EXPECT_NE(output_.find("the panel refused the login"), std::string::npos) << output_;
    EXPECT_NE(output_.find("Nothing was written"), std::string::npos) << output_;
    EXPECT_FALSE(fs::exists(config_dir_));
}

TEST_F(GatewayInit, WithoutAReadablePanelDatabaseItAsksForThePanelAddress) {
    start_panel(fakes::PanelMode::v2);
    auto o = flags();
    o.inbound = 1;
    const std::string panel = panel_->url() + "/AbC12xyz/";
    for (const std::string problem : {"missing", "garbage", "other-sqlite"}) {
        SCOPED_TRACE(problem);
        fs::remove(xui_db_);
        if (problem == "garbage") std::ofstream(xui_db_) << "this is not a database\n";
        if (problem == "other-sqlite") {
            sqlite3* db = nullptr;
            sqlite3_open(xui_db_.c_str(), &db);
            sqlite3_exec(db, "CREATE TABLE users (id integer)", nullptr, nullptr, nullptr);
            sqlite3_close(db);
        }
        o.panel_url = "";
        EXPECT_EQ(run(o), 2);
        EXPECT_NE(output_.find("Cannot read the panel's settings: " + xui_db_.string()), std::string::npos)
            << output_;
        EXPECT_NE(output_.find("missing --panel-url"), std::string::npos) << output_;
        EXPECT_FALSE(fs::exists(env_path_));

        o.panel_url = panel;
        ASSERT_EQ(run(o), 0) << output_;
        EXPECT_EQ(read_env(env_path_).at("PANEL_BASE_PATH"), "/AbC12xyz/");
        fs::remove_all(config_dir_);
    }
    // On a terminal it asks instead.
    fs::remove(xui_db_);
    o.panel_url = "";
    ASSERT_EQ(run(o, panel + "\n", true), 0) << output_;
    EXPECT_NE(output_.find("3x-ui panel address"), std::string::npos) << output_;
}

TEST_F(GatewayInit, OnATerminalItAsksOnlyWhatItCannotKnow) {
    start_panel(fakes::PanelMode::v3);
    InitOptions o;
    o.config_dir = config_dir_.string();
    o.xui_db = xui_db_.string();
    o.firewall = Firewall::none;
    o.service_group = current_group();
    // user, password, inbound (two VLESS ones), public address, bot address, name, location
    ASSERT_EQ(run(o, "admin\nadmin\n2\n127.0.0.1\n127.0.0.1\nCairo-2\nCairo\n", true), 0) << output_;
    for (const char* question :
         {"Panel user name", "Panel password", "Inbound new clients go into", "Public address of this server",
          "The bot machine's public IP address", "Server name in Discord", "Location shown to customers"}) {
        EXPECT_NE(output_.find(question), std::string::npos) << question;
    }
    EXPECT_EQ(output_.find("panel address, as in the browser"), std::string::npos) << "read from x-ui.db";
    const auto values = parse_admin_line(admin_line());
    EXPECT_EQ(values.at("name"), "Cairo-2");
    EXPECT_EQ(values.at("location"), "Cairo");
    EXPECT_EQ(values.at("inbound"), "2");
}

TEST_F(GatewayInit, SeveralVlessInboundsNeedTheFlagWithoutATerminal) {
    start_panel(fakes::PanelMode::v2);
    auto o = flags();
    EXPECT_EQ(run(o), 2);
    EXPECT_NE(output_.find("--inbound ID"), std::string::npos) << output_;
    EXPECT_NE(output_.find("1 reality-tcp (vless, port 443)"), std::string::npos) << output_;
    EXPECT_NE(output_.find("2 tls-ws (vless, port 8443)"), std::string::npos) << output_;
    o.inbound = 7;
    EXPECT_EQ(run(o), 2);
    EXPECT_NE(output_.find("the panel has no inbound 7"), std::string::npos) << output_;
    EXPECT_FALSE(fs::exists(config_dir_));
}

TEST_F(GatewayInit, BadAnswersAreRefusedBeforeAnythingIsWritten) {
    start_panel(fakes::PanelMode::v2);
    auto o = flags();
    o.inbound = 1;
    o.public_host = "https://vpn1.example.com:8443";
    EXPECT_EQ(run(o), 2);
    EXPECT_NE(output_.find("--public-host must be a bare host name"), std::string::npos) << output_;
    o = flags();
    o.inbound = 1;
    o.bot_address = "the bot";
    EXPECT_EQ(run(o), 2);
    EXPECT_NE(output_.find("--bot-address must be"), std::string::npos) << output_;
    EXPECT_FALSE(fs::exists(config_dir_));
}

TEST_F(GatewayInit, AConfigurationFolderItCannotCreateIsAClearError) {
    start_panel(fakes::PanelMode::v2);
    std::ofstream(dir_.path / "not-a-folder") << "a file\n";
    auto o = flags();
    o.inbound = 1;
    o.config_dir = (dir_.path / "not-a-folder" / "nebulalinks").string();
    EXPECT_EQ(run(o), 1);
    EXPECT_NE(output_.find("nebula-gateway init: cannot create " + o.config_dir), std::string::npos)
        << output_;
    EXPECT_TRUE(commands_.empty());
}

TEST_F(GatewayInit, TheFirewallRuleGoesToUfwWhenItIsActiveElseNftables) {
    start_panel(fakes::PanelMode::v2);
    auto o = flags();
    o.inbound = 1;
    o.firewall = Firewall::detect;
    o.no_start = true;
    answers_ = {{0, "Status: active\n\nTo Action From\n"}};
    ASSERT_EQ(run(o), 0) << output_;
    ASSERT_EQ(commands_.size(), 2u);
    EXPECT_EQ(commands_[1], firewall_commands(Firewall::ufw, "127.0.0.1", 8443).front());
    EXPECT_NE(output_.find("Firewall: $ ufw allow from 127.0.0.1 to any port 8443 proto tcp"),
              std::string::npos);
    EXPECT_NE(output_.find("Not started (--no-start)"), std::string::npos);

    answers_ = {{1, "ufw: not found"}, {0, "nftables v1.0.6"}};
    ASSERT_EQ(run(o), 0) << output_;
    const auto nft = firewall_commands(Firewall::nftables, "127.0.0.1", 8443);
    ASSERT_EQ(commands_.size(), 2 + nft.size());
    EXPECT_TRUE(std::equal(nft.begin(), nft.end(), commands_.begin() + 2));

    answers_ = {{127, ""}, {127, ""}};
    ASSERT_EQ(run(o), 0) << output_;
    EXPECT_NE(output_.find("neither an active ufw nor nft found"), std::string::npos) << output_;
}

TEST(GatewayInitParts, FirewallRulesLetOnlyTheBotReachThePort) {
    EXPECT_EQ(shell_line(firewall_commands(Firewall::ufw, "203.0.113.10", 8443).at(0)),
              "ufw allow from 203.0.113.10 to any port 8443 proto tcp");
    std::vector<std::string> lines;
    for (const auto& c : firewall_commands(Firewall::nftables, "203.0.113.10", 9443))
        lines.push_back(shell_line(c));
    EXPECT_EQ(lines,
              (std::vector<std::string>{
                  "nft add table inet nebula",
                  "nft add chain inet nebula input '{ type filter hook input priority 0; policy accept; }'",
                  "nft flush chain inet nebula input",
                  "nft add rule inet nebula input tcp dport 9443 ip saddr 203.0.113.10 accept",
                  "nft add rule inet nebula input tcp dport 9443 drop"}));
    EXPECT_EQ(shell_line(firewall_commands(Firewall::nftables, "2001:db8::10", 8443).at(3)),
              "nft add rule inet nebula input tcp dport 8443 ip6 saddr 2001:db8::10 accept");
    EXPECT_TRUE(firewall_commands(Firewall::none, "203.0.113.10", 8443).empty());
}

TEST(GatewayInitParts, ThePanelAddressFollowsThePanelsOwnSettings) {
    PanelSettings s;
    s.web_port = 54321;
    s.web_base_path = "/x7/";
    auto a = panel_address(s);
    EXPECT_EQ(a.url, "http://127.0.0.1:54321");
    EXPECT_EQ(a.base_path, "/x7/");
    EXPECT_FALSE(a.remote);

    s.web_listen = "0.0.0.0";
    EXPECT_EQ(panel_address(s).url, "http://127.0.0.1:54321");
    s.web_listen = "::1";
    EXPECT_EQ(panel_address(s).url, "http://[::1]:54321");
    s.web_listen = "10.0.0.5";
    a = panel_address(s);
    EXPECT_EQ(a.url, "http://10.0.0.5:54321");
    EXPECT_TRUE(a.remote);

    // HTTPS with a certificate for a name: that name, or the domain the panel insists on.
    nebula::testing::TempDir dir;
    const auto pair = make_certificate("panel.example.com", std::chrono::days(30));
    ASSERT_TRUE(pair);
    std::ofstream(dir.path / "panel.pem") << pair->cert_pem;
    s = {};
    s.web_cert_file = (dir.path / "panel.pem").string();
    s.web_key_file = "/root/cert/privkey.pem";
    a = panel_address(s);
    EXPECT_EQ(a.url, "https://panel.example.com:2053");
    EXPECT_TRUE(a.remote);
    s.web_domain = "admin.example.com";
    EXPECT_EQ(panel_address(s).url, "https://admin.example.com:2053");
}

TEST(GatewayInitParts, SettingsAreReadAsThePanelReadsThem) {
    nebula::testing::TempDir dir;
    const fs::path db = dir.path / "x-ui.db";
    write_xui_db(db, {{"webPort", ""}, {"webBasePath", "panel"}, {"webDomain", "admin.example.com"}});
    auto s = read_panel_settings(db.string());
    ASSERT_TRUE(s) << s.error();
    EXPECT_EQ(s->web_port, 2053);  // stored empty: the default, as 3.x reads it
    EXPECT_EQ(s->web_base_path, "/panel/");
    EXPECT_EQ(s->web_domain, "admin.example.com");

    fs::remove(db);
    write_xui_db(db, {{"webPort", "99999"}});
    s = read_panel_settings(db.string());
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().find("webPort is not a port number"), std::string::npos) << s.error();
}

TEST(GatewayInitParts, EnvValuesComeBackAsWrittenAndOtherLinesStay) {
    const std::string password = "p#ss word 'with\" quotes\\";
    const std::string existing =
        "# mine\nPORT=9443\nPANEL_PASSWORD=old\nPANEL_API_TOKEN=\"multi\nline\"\nRATE_LIMIT_PER_MINUTE=50\n";
    const std::string merged = merge_env(existing, {{"PANEL_PASSWORD", password},
                                                    {"PANEL_API_TOKEN", std::nullopt},
                                                    {"PUBLIC_HOST", "vpn1.example.com"},
                                                    {"PANEL_BASE_PATH", "/a b/"}});
    auto parsed = common::parse_dotenv(merged);
    ASSERT_TRUE(parsed) << merged;
    EXPECT_EQ(*parsed, (std::map<std::string, std::string>{{"PORT", "9443"},
                                                           {"PANEL_PASSWORD", password},
                                                           {"RATE_LIMIT_PER_MINUTE", "50"},
                                                           {"PUBLIC_HOST", "vpn1.example.com"},
                                                           {"PANEL_BASE_PATH", "/a b/"}}));
    EXPECT_TRUE(merged.starts_with("# mine\nPORT=9443\nPANEL_PASSWORD="));
}

/// nebula-gateway started from the env file init wrote, as systemd would, with only the listening
/// address moved to a free loopback port and the logs to the test's folder.
class GatewayProcess {
  public:
    GatewayProcess(const fs::path& env_file, const fs::path& dir) {
        const fs::path ready = dir / "ready.json";
        int fds[2];
        if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
        pid_ = ::fork();
        if (pid_ == 0) {
            ::dup2(fds[1], STDERR_FILENO);
            ::dup2(fds[1], STDOUT_FILENO);
            ::close(fds[0]);
            ::close(fds[1]);
            std::string env_arg = env_file.string(), ready_arg = ready.string();
            std::string log_dir = "LOG_DIR=" + (dir / "logs").string();
            std::vector<char*> argv{
                const_cast<char*>(NEBULA_GATEWAY_BINARY), const_cast<char*>("--env"), env_arg.data(),
                const_cast<char*>("--ready-file"),        ready_arg.data(),           nullptr};
            std::vector<char*> envp{const_cast<char*>("PORT=0"), const_cast<char*>("BIND_ADDRESS=127.0.0.1"),
                                    log_dir.data(), nullptr};
            ::execve(NEBULA_GATEWAY_BINARY, argv.data(), envp.data());
            ::_exit(127);
        }
        ::close(fds[1]);
        out_ = ::fdopen(fds[0], "r");
        const std::string started = read_until("listening on");
        if (started.find("listening on") == std::string::npos)
            throw std::runtime_error("the gateway did not start:\n" + started);
        port = nlohmann::json::parse(std::ifstream(ready))["port"];
    }
    ~GatewayProcess() {
        ::kill(pid_, SIGTERM);
        read_until("\x01never\x01");
        ::waitpid(pid_, nullptr, 0);
        if (out_) std::fclose(out_);
    }
    GatewayProcess(const GatewayProcess&) = delete;
    GatewayProcess& operator=(const GatewayProcess&) = delete;

    std::string read_until(const std::string& text) {
        std::string all;
        char line[4096];
        while (std::fgets(line, sizeof line, out_) != nullptr) {
            all += line;
            if (all.find(text) != std::string::npos) break;
        }
        return all;
    }

    int port = 0;

  private:
    pid_t pid_ = -1;
    FILE* out_ = nullptr;
};

TEST_F(GatewayInit, ThePrintedLineIsAcceptedByTheBotAndOpensASignedTlsCall) {
    start_panel(fakes::PanelMode::v3);
    auto o = flags();
    o.inbound = 1;
    ASSERT_EQ(run(o), 0) << output_;
    const auto values = parse_admin_line(admin_line());

    // What /admin server add takes (admin_definition.cpp) and what the catalogue validates.
    EXPECT_EQ(values.size(), 6u);
    for (const char* option : {"name", "location"}) {
        EXPECT_FALSE(values.at(option).empty());
        EXPECT_LE(values.at(option).size(), 64u);
    }
    const std::string url = values.at("url");
    EXPECT_LE(url.size(), 200u);
    auto parsed_url = common::http::Url::parse(url);
    ASSERT_TRUE(parsed_url);
    EXPECT_EQ(parsed_url->scheme, "https");
    EXPECT_EQ(parsed_url->port, 8443);
    const std::string key = values.at("key");
    EXPECT_GE(key.size(), 32u);
    EXPECT_LE(key.size(), 200u);
    const auto pin = common::normalize_sha256_pin(values.at("pin"));
    ASSERT_TRUE(pin);
    EXPECT_EQ(pin->size(), 64u);
    EXPECT_EQ(*pin, values.at("pin"));
    EXPECT_LE(values.at("pin").size(), 128u);
    EXPECT_GE(std::stoi(values.at("inbound")), 1);

    // The bot's call: pinned TLS and a signed GET /api/health to the gateway this env file runs.
    GatewayProcess gateway(env_path_, dir_.path);
    nebula::testing::IoThread io;
    common::http::ClientOptions client_options;
    client_options.base =
        *common::http::Url::parse("https://" + parsed_url->host + ":" + std::to_string(gateway.port));
    client_options.pinned_sha256 = values.at("pin");
    auto client = std::move(*common::http::Client::create(io.executor(), client_options));
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    const auto signed_headers = common::signing::sign(key, "GET", "/api/health", now, "");
    common::http::Request request;
    request.method = "GET";
    request.target = "/api/health";
    request.headers.set(std::string(common::signing::kTimestampHeader), signed_headers.timestamp);
    request.headers.set(std::string(common::signing::kNonceHeader), signed_headers.nonce);
    request.headers.set(std::string(common::signing::kSignatureHeader), signed_headers.signature);
    auto response = io.run(client->send(request));
    ASSERT_TRUE(response) << response.error().message;
    EXPECT_EQ(response->status, 200) << response->body;
    EXPECT_EQ(nlohmann::json::parse(response->body).at("panel"), "up") << response->body;

    // A key that is not the printed one is refused.
    const auto forged = common::signing::sign(std::string(64, 'a'), "GET", "/api/health", now, "");
    request.headers.set(std::string(common::signing::kNonceHeader), forged.nonce);
    request.headers.set(std::string(common::signing::kSignatureHeader), forged.signature);
    response = io.run(client->send(request));
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 401);
    io.call([&] { client.reset(); });
}

std::pair<int, std::string> shell(const std::string& command) {
    FILE* pipe = ::popen(command.c_str(), "r");
    std::string out;
    char buffer[4096];
    while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) out += buffer;
    const int status = ::pclose(pipe);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST_F(GatewayInit, TheCommandAsTheDocsShowIt) {
    start_panel(fakes::PanelMode::v2);
    const std::string command = std::string(NEBULA_GATEWAY_BINARY) + " init --yes --config-dir '" +
                                config_dir_.string() + "' --xui-db '" + xui_db_.string() +
                                "' --panel-user admin --panel-password {} --inbound 1 --public-host 127.0.0.1"
                                " --bot-address 127.0.0.1 --name Frankfurt-1 --location Frankfurt"
                                " --firewall none --no-start 2>&1";
    const auto with = [&](const std::string& password) {
        std::string c = command;
        return shell(c.replace(c.find("{}"), 2, password));
    };
    auto [status, out] = with("wrong");
    EXPECT_EQ(status, 2) << out;
    EXPECT_NE(out.find("the panel refused the login"), std::string::npos) << out;
    EXPECT_FALSE(fs::exists(config_dir_));

    std::tie(status, out) = with("admin");
    EXPECT_EQ(status, 0) << out;
    const auto values = parse_admin_line(line_starting(out, "/admin server add "));
    EXPECT_EQ(values.at("key"), read_env(env_path_).at("API_SECRET_KEY"));
    EXPECT_EQ(values.at("inbound"), "1");
    EXPECT_NE(out.find("Not started (--no-start)"), std::string::npos) << out;

    auto [bad_status, bad_out] = shell(std::string(NEBULA_GATEWAY_BINARY) + " init --firewall iptables 2>&1");
    EXPECT_NE(bad_status, 0);
    EXPECT_NE(bad_out.find("--firewall"), std::string::npos) << bad_out;
}

}  // namespace
}  // namespace nebula::gateway::init
