// The operator's runbooks, done as a person does them, against the real nebula-gateway
// executable: the gateway pin pasted from the README's openssl command, and the key rotation of
// docs/operations.md ("Key rotation") from the old key to both keys to the new key only.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <tuple>

#include <boost/asio/this_coro.hpp>

#include "bot/app/bot.hpp"
#include "bot/app/check.hpp"
#include "bot/app/config.hpp"
#include "bot/db/migrations.hpp"
#include "bot/domain/audit.hpp"
#include "bot/domain/catalog.hpp"
#include "bot/domain/provisioning.hpp"
#include "bot/gateway_client/http_gateway_client.hpp"
#include "bot/support/test_database.hpp"
#include "common/dotenv.hpp"
#include "fakes/xui/fake_panel.hpp"
#include "support/io_thread.hpp"
#include "support/tls_cert.hpp"

namespace nebula::bot::app {
namespace {

namespace fs = std::filesystem;

const std::string kOldKey = "old-key-0123456789abcdef0123456789abcdef";
const std::string kNewKey = "new-key-fedcba9876543210fedcba9876543210";

/// stdout of a shell command (stderr too when the command says 2>&1) and its exit status.
std::pair<int, std::string> run_command(const std::string& command) {
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) throw std::runtime_error("popen failed");
    std::string out;
    char buffer[4096];
    while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) out += buffer;
    const int status = pclose(pipe);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return text;
}

/// nebula-gateway running as its own process with `--env FILE`; stopped with SIGTERM.
class GatewayProcess {
  public:
    GatewayProcess(const fs::path& env_file, const fs::path& ready_file) {
        fs::remove(ready_file);
        int fds[2];
        if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
        pid_ = fork();
        if (pid_ == 0) {
            dup2(fds[1], STDERR_FILENO);
            dup2(fds[1], STDOUT_FILENO);
            close(fds[0]);
            close(fds[1]);
            std::string env_arg = env_file.string(), ready_arg = ready_file.string();
            std::vector<char*> argv{
                const_cast<char*>(NEBULA_GATEWAY_BINARY), const_cast<char*>("--env"), env_arg.data(),
                const_cast<char*>("--ready-file"),        ready_arg.data(),           nullptr};
            char* envp[] = {nullptr};
            execve(NEBULA_GATEWAY_BINARY, argv.data(), envp);
            _exit(127);
        }
        close(fds[1]);
        out_ = fdopen(fds[0], "r");
        started = read_until("listening on");
        if (started.find("listening on") == std::string::npos) {
            throw std::runtime_error("the gateway did not start:\n" + started);
        }
        port = nlohmann::json::parse(std::ifstream(ready_file))["port"];
    }
    ~GatewayProcess() {
        kill(pid_, SIGTERM);
        read_until("\x01never\x01");
        waitpid(pid_, nullptr, 0);
        if (out_) fclose(out_);
    }
    GatewayProcess(const GatewayProcess&) = delete;
    GatewayProcess& operator=(const GatewayProcess&) = delete;

    /// Output until a line contains `text` (or the process ends).
    std::string read_until(const std::string& text) {
        std::string all;
        char line[4096];
        while (fgets(line, sizeof line, out_) != nullptr) {
            all += line;
            if (all.find(text) != std::string::npos) break;
        }
        return all;
    }

    std::string started;
    int port = 0;

  private:
    pid_t pid_ = -1;
    FILE* out_ = nullptr;
};

/// One VPN server as the operations guide sets it up: a certificate, the fake 3x-ui panel on
/// loopback and gateway.env; and the bot machine's bot.env next to it.
class Runbook : public bot::testing::MigratedBackendTest {
  protected:
    void SetUp() override {
        MigratedBackendTest::SetUp();
        panel_ = fakes::FakePanel::start({});
    }

    void write_gateway_env(const std::string& key, const std::string& previous, int port,
                           const std::string& extra = "") {
        std::ofstream env(gateway_env_);
        env << "API_SECRET_KEY=" << key << "\n";
        if (!previous.empty()) env << "API_SECRET_KEY_PREVIOUS=" << previous << "\n";
        env << "PANEL_URL=" << panel_->url() << "\nPANEL_USERNAME=admin\nPANEL_PASSWORD=admin\n"
            << "PUBLIC_HOST=vpn1.example.com\nBIND_ADDRESS=127.0.0.1\nPORT=" << port << "\n"
            << "ALLOWED_IPS=127.0.0.1\n"
            << "SSL_CERT_PATH=" << cert_.cert_path << "\nSSL_KEY_PATH=" << cert_.key_path << "\n"
            << "LOG_DIR=" << (dir_.path / "gateway-logs").string() << "\n"
            << extra;
    }
    std::unique_ptr<GatewayProcess> start_gateway() {
        return std::make_unique<GatewayProcess>(gateway_env_, dir_.path / "ready.json");
    }

    void write_bot_env(const std::string& key, const std::string& pin, int port) {
        std::ofstream env(bot_env_);
        env << "DISCORD_TOKEN=" << std::string(40, 't') << "\nDISCORD_CLIENT_ID=900000000000000001\n"
            << "DISCORD_GUILD_ID=800000000000000001\nADMIN_ROLE_ID=860000000000000002\n"
            << "REVIEW_CHANNEL_ID=870000000000000001\nBILLING_CHANNEL_ID=870000000000000002\n"
            << "MAIN_PANEL_CHANNEL_ID=870000000000000003\nORDERS_CATEGORY_ID=870000000000000004\n"
            << "API_GATEWAY_URL=https://127.0.0.1:" << port << "\n"
            << "API_SECRET_KEY=" << key << "\n"
            << "API_GATEWAY_PIN_SHA256=" << pin << "\n"
            << "DEFAULT_SERVER_NAME=Frankfurt-1\n";
    }
    /// What a bot start does with bot.env: read it and bring the default server up to date.
    BotConfig start_bot() {
        auto environment = common::Environment::load(bot_env_.string());
        if (!environment) throw std::runtime_error(environment.error());
        auto config = load_bot_config(*environment);
        if (!config) throw std::runtime_error(config.error());
        domain::CatalogService catalog(clock_);
        auto synced =
            sync_default_server(conn(), catalog, config->default_server, domain::to_timestamp(clock_.now()));
        if (!synced) throw std::runtime_error(synced.error().message);
        last_sync_ = *synced;
        return std::move(*config);
    }
    domain::Server default_server() {
        domain::CatalogService catalog(clock_);
        auto servers = catalog.servers(conn());
        if (servers.size() != 1) throw std::runtime_error("expected one server");
        return servers.front();
    }
    /// A bot call to the default server, as the shop makes them (health, then traffic).
    common::Status<std::string> call_gateway() {
        const auto server = default_server();
        return io_.run([&]() -> boost::asio::awaitable<common::Status<std::string>> {
            gateway_client::HttpGatewayDirectory directory(co_await boost::asio::this_coro::executor, clock_);
            auto& gateway = directory.gateway_for(server);
            auto health = co_await gateway.health();
            if (!health) co_return common::unexpected(domain::describe(health.error()));
            auto traffic = co_await gateway.traffic();
            if (!traffic) co_return common::unexpected(domain::describe(traffic.error()));
            co_return common::Status<std::string>{};
        }());
    }

    common::SystemClock clock_;
    nebula::testing::TlsCert cert_;
    nebula::testing::TempDir dir_;
    std::unique_ptr<fakes::FakePanel> panel_;
    nebula::testing::IoThread io_;
    fs::path gateway_env_ = dir_.path / "gateway.env";
    fs::path bot_env_ = dir_.path / "bot.env";
    std::string last_sync_;
};

TEST_P(Runbook, ThePinPrintedByTheReadmesOpensslCommandWorksAsPasted) {
    write_gateway_env(kOldKey, "", 0);
    auto gateway = start_gateway();
    // README: openssl x509 -in cert.pem -noout -fingerprint -sha256
    auto [status, printed] =
        run_command("openssl x509 -in '" + cert_.cert_path + "' -noout -fingerprint -sha256");
    ASSERT_EQ(status, 0);
    const std::string pasted = trimmed(printed);
    ASSERT_NE(pasted.find("Fingerprint="), std::string::npos) << pasted;
    write_bot_env(kOldKey, pasted, gateway->port);
    auto config = start_bot();
    EXPECT_EQ(default_server().spec.tls_pin_sha256, cert_.sha256) << "stored in the one normal form";
    auto called = call_gateway();
    EXPECT_TRUE(called) << called.error();

    // docs/operations.md's form (sha256sum of the DER) names the same pin.
    auto [der_status, der_printed] =
        run_command("openssl x509 -in '" + cert_.cert_path + "' -outform der | sha256sum | cut -d' ' -f1");
    ASSERT_EQ(der_status, 0);
    EXPECT_EQ(trimmed(der_printed), cert_.sha256);

    // Another certificate's pin: named as such, in check and on the call.
    nebula::testing::TlsCert other;
    write_bot_env(kOldKey, "SHA256 Fingerprint=" + other.sha256, gateway->port);
    config = start_bot();
    EXPECT_EQ(last_sync_, "applied from bot.env: tls_pin_sha256");
    auto refused = call_gateway();
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().find("certificate does not match the pin (expected " + other.sha256 + ", got " +
                                   cert_.sha256 + ")"),
              std::string::npos)
        << refused.error();
    config.database = db().url();
    config.discord_api_base = "http://127.0.0.1:1";  // no Discord here: only the gateway line matters
    bool named = false;
    for (const auto& result : check_bot(config, clock_)) {
        if (!result.name.starts_with("gateway")) continue;
        named = true;
        EXPECT_FALSE(result.ok);
        EXPECT_TRUE(result.detail.starts_with("certificate does not match the pin (expected " + other.sha256))
            << result.detail;
    }
    EXPECT_TRUE(named);
}

TEST_P(Runbook, KeyRotationAsDocumentedNeverFailsACall) {
    // Before: both sides use the old key.
    write_gateway_env(kOldKey, "", 0);
    auto gateway = start_gateway();
    const int port = gateway->port;
    write_bot_env(kOldKey, cert_.sha256, port);
    start_bot();
    EXPECT_EQ(last_sync_, "added");
    ASSERT_TRUE(call_gateway());

    // 1. On the gateway: API_SECRET_KEY=<new>, API_SECRET_KEY_PREVIOUS=<old>, restart.
    gateway.reset();
    write_gateway_env(kNewKey, kOldKey, port);
    gateway = start_gateway();
    ASSERT_EQ(gateway->port, port);
    auto old_key_call = call_gateway();
    EXPECT_TRUE(old_key_call) << old_key_call.error();

    // 2. In the bot: API_SECRET_KEY=<new> in bot.env and a restart.
    write_bot_env(kNewKey, cert_.sha256, port);
    start_bot();
    EXPECT_EQ(last_sync_, "applied from bot.env: API_SECRET_KEY");
    EXPECT_EQ(default_server().spec.gateway_key, kNewKey);
    auto new_key_call = call_gateway();
    EXPECT_TRUE(new_key_call) << new_key_call.error();

    // 3. On the gateway: remove API_SECRET_KEY_PREVIOUS and restart. The old key is dead.
    gateway.reset();
    write_gateway_env(kNewKey, "", port);
    gateway = start_gateway();
    auto after = call_gateway();
    EXPECT_TRUE(after) << after.error();

    // The change is audited, without the key.
    const auto trail = domain::audit_for(conn(), "server", std::to_string(default_server().id.value));
    bool key_change = false;
    for (const auto& record : trail) {
        for (const auto& side : {record.entry.before, record.entry.after}) {
            if (!side) continue;
            const auto text = side->dump();
            EXPECT_EQ(text.find(kOldKey), std::string::npos) << text;
            EXPECT_EQ(text.find(kNewKey), std::string::npos) << text;
        }
        if (record.entry.action == "server.updated" && record.entry.after &&
            record.entry.after->value("gateway_key_changed", false)) {
            key_change = true;
        }
    }
    EXPECT_TRUE(key_change);

    // A restart with bot.env unchanged leaves an admin's later edit alone.
    domain::CatalogService catalog(clock_);
    auto spec = default_server().spec;
    spec.name = "Frankfurt-Main";
    ASSERT_TRUE(
        catalog.update_server(conn(), domain::DiscordId{810000000000000099ULL}, default_server().id, spec));
    start_bot();
    EXPECT_EQ(last_sync_, "");
    EXPECT_EQ(default_server().spec.name, "Frankfurt-Main");
}

TEST_P(Runbook, AForgottenPreviousKeyIsReportedAtStartAndByCheck) {
    write_gateway_env(kNewKey, kOldKey, 0, "API_SECRET_KEY_PREVIOUS_SINCE=2020-01-01\n");
    auto gateway = start_gateway();
    const auto warned = gateway->read_until("API_SECRET_KEY_PREVIOUS is still set");
    EXPECT_NE(warned.find("API_SECRET_KEY_PREVIOUS is still set"), std::string::npos) << warned;
    gateway.reset();

    auto [status, out] = run_command(std::string("env -i ") + NEBULA_GATEWAY_BINARY + " --env '" +
                                     gateway_env_.string() + "' check");
    EXPECT_EQ(status, 0) << out;
    EXPECT_NE(out.find("WARN secret key: API_SECRET_KEY_PREVIOUS is still set"), std::string::npos) << out;

    // A rotation begun today is not nagged about.
    write_gateway_env(kNewKey, kOldKey, 0);
    std::tie(status, out) = run_command(std::string("env -i ") + NEBULA_GATEWAY_BINARY + " --env '" +
                                        gateway_env_.string() + "' check");
    EXPECT_EQ(status, 0) << out;
    EXPECT_NE(out.find("OK   secret key: a key rotation is under way"), std::string::npos) << out;
}

TEST_P(Runbook, APanelOnAnotherHostIsRefusedUnlessAllowed) {
    write_gateway_env(kNewKey, "", 0);
    std::string text;
    {
        std::ifstream in(gateway_env_);
        std::stringstream all;
        all << in.rdbuf();
        text = all.str();
    }
    const auto at = text.find("PANEL_URL=");
    text.replace(at, text.find('\n', at) - at, "PANEL_URL=http://203.0.113.9:2053");
    std::ofstream(gateway_env_) << text;
    const std::string gateway =
        std::string("env -i ") + NEBULA_GATEWAY_BINARY + " --env '" + gateway_env_.string() + "'";

    auto [status, out] = run_command(gateway + " check");
    EXPECT_EQ(status, 1);
    EXPECT_TRUE(out.starts_with("FAIL configuration: ")) << out;
    EXPECT_NE(out.find("PANEL_URL is not on this machine"), std::string::npos) << out;
    EXPECT_NE(out.find("PANEL_ALLOW_REMOTE=true"), std::string::npos) << out;

    std::tie(status, out) = run_command(gateway + " 2>&1 >/dev/null");
    EXPECT_EQ(status, 2);
    EXPECT_NE(out.find("PANEL_URL is not on this machine"), std::string::npos) << out;
}

NEBULA_INSTANTIATE_FOR_BACKENDS(Runbook);

}  // namespace
}  // namespace nebula::bot::app
