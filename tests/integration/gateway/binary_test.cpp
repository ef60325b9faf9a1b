// The real nebula-gateway executable: start-up validation, serving, logging and SIGTERM.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <sstream>

#include "common/http_client.hpp"
#include "common/signing.hpp"
#include "fakes/xui/fake_panel.hpp"
#include "support/io_thread.hpp"
#include "support/tls_cert.hpp"

namespace nebula::testing {
namespace {

/// A child process running nebula-gateway with exactly the given environment; its stderr is
/// readable line by line.
class Process {
  public:
    Process(std::vector<std::string> args, std::vector<std::string> env) {
        int fds[2];
        if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
        pid_ = fork();
        if (pid_ == 0) {
            dup2(fds[1], STDERR_FILENO);
            dup2(fds[1], STDOUT_FILENO);
            close(fds[0]);
            close(fds[1]);
            std::vector<char*> argv{const_cast<char*>(NEBULA_GATEWAY_BINARY)};
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            std::vector<char*> envp;
            for (auto& e : env) envp.push_back(e.data());
            envp.push_back(nullptr);
            execve(NEBULA_GATEWAY_BINARY, argv.data(), envp.data());
            _exit(127);
        }
        close(fds[1]);
        out_ = fdopen(fds[0], "r");
    }
    ~Process() {
        if (pid_ > 0 && !exited_) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        if (out_) fclose(out_);
    }
    /// Reads output until a line contains `text` (or the process ends). Returns everything read.
    std::string read_until(const std::string& text) {
        std::string all;
        char line[4096];
        while (fgets(line, sizeof line, out_) != nullptr) {
            all += line;
            if (all.find(text) != std::string::npos) break;
        }
        return all;
    }
    std::string read_all() { return read_until("\x01never\x01"); }
    int wait() {
        int status = 0;
        waitpid(pid_, &status, 0);
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    void signal(int sig) { kill(pid_, sig); }

  private:
    pid_t pid_ = -1;
    FILE* out_ = nullptr;
    bool exited_ = false;
};

TEST(GatewayBinary, PrintsItsVersion) {
    Process p({"--version"}, {});
    auto out = p.read_all();
    EXPECT_EQ(p.wait(), 0);
    EXPECT_NE(out.find(std::string("nebula-gateway ") + NEBULA_VERSION), std::string::npos);
}

TEST(GatewayBinary, RefusesToStartNamingEveryBadKey) {
    TempDir dir;
    Process p({"--env", (dir.path / "none.env").string()},
              {"PORT=abc", "API_SECRET_KEY=too-short-secret", "ALLOWED_IPS=1.2.3.4,bogus"});
    auto out = p.read_all();
    EXPECT_EQ(p.wait(), 2);
    for (const char* key : {"PORT", "API_SECRET_KEY", "PANEL_URL", "PANEL_USERNAME", "PANEL_PASSWORD",
                            "PUBLIC_HOST", "ALLOWED_IPS", "SSL_CERT_PATH", "SSL_KEY_PATH"}) {
        EXPECT_NE(out.find(std::string("- ") + key), std::string::npos) << key << " not named in:\n" << out;
    }
    EXPECT_EQ(out.find("too-short-secret"), std::string::npos);
}

TEST(GatewayBinary, RefusesPlainHttpOnAPublicAddress) {
    TempDir dir;
    Process p({"--env", (dir.path / "none.env").string()},
              {"PLAIN_HTTP=true", "BIND_ADDRESS=0.0.0.0", "API_SECRET_KEY=" + std::string(40, 'k'),
               "PANEL_URL=http://127.0.0.1:1", "PANEL_USERNAME=a", "PANEL_PASSWORD=b", "PUBLIC_HOST=h",
               "ALLOWED_IPS=10.0.0.1"});
    auto out = p.read_all();
    EXPECT_EQ(p.wait(), 2);
    EXPECT_NE(out.find("PLAIN_HTTP is only allowed with a loopback"), std::string::npos) << out;
}

TEST(GatewayBinary, ServesOverTlsLogsWithoutSecretsAndStopsOnSigterm) {
    auto panel = fakes::FakePanel::start({});
    TlsCert cert;
    TempDir dir;
    const std::string key(48, 'z');
    const auto env_file = dir.path / "gateway.env";
    std::ofstream(env_file) << "# written by the test\n"
                            << "export API_SECRET_KEY=\"" << key << "\"\n"
                            << "PANEL_URL=" << panel->url() << "\n"
                            << "PANEL_USERNAME=admin\nPANEL_PASSWORD='admin'\n"
                            << "PUBLIC_HOST=vpn.example.com\n"
                            << "BIND_ADDRESS=127.0.0.1\nPORT=0\n"
                            << "SSL_CERT_PATH=" << cert.cert_path << "\nSSL_KEY_PATH=" << cert.key_path
                            << "\n"
                            << "LOG_DIR=" << (dir.path / "logs").string() << "\n";
    const auto ready = dir.path / "ready.json";
    Process p({"--env", env_file.string(), "--ready-file", ready.string()}, {});
    auto started = p.read_until("listening on");
    ASSERT_NE(started.find("listening on https://127.0.0.1:"), std::string::npos) << started;
    const int port = nlohmann::json::parse(std::ifstream(ready))["port"];

    IoThread io;
    common::http::ClientOptions o;
    o.base = *common::http::Url::parse("https://127.0.0.1:" + std::to_string(port));
    o.pinned_sha256 = cert.sha256;
    auto client = std::move(*common::http::Client::create(io.executor(), o));
    auto signed_get = [&](const std::string& target) {
        common::http::Request r;
        r.method = "GET";
        r.target = target;
        auto h = common::signing::sign(key, "GET", target, std::time(nullptr), "");
        r.headers.set("X-Nebula-Timestamp", h.timestamp);
        r.headers.set("X-Nebula-Nonce", h.nonce);
        r.headers.set("X-Nebula-Signature", h.signature);
        return io.run(client->send(r));
    };
    auto health = signed_get("/api/health");
    ASSERT_TRUE(health) << health.error().message;
    EXPECT_EQ(health->status, 200);
    EXPECT_EQ(nlohmann::json::parse(health->body)["panel"], "up");
    auto inbounds = signed_get("/api/inbounds");
    ASSERT_TRUE(inbounds);
    EXPECT_EQ(inbounds->status, 200);
    io.call([&] { client.reset(); });

    p.signal(SIGTERM);
    auto rest = p.read_all();
    EXPECT_EQ(p.wait(), 0) << rest;
    EXPECT_NE(rest.find("stopped"), std::string::npos) << rest;

    std::stringstream combined;
    combined << std::ifstream(dir.path / "logs" / "combined.log").rdbuf();
    EXPECT_NE(combined.str().find("listening on"), std::string::npos);
    EXPECT_EQ(combined.str().find(key), std::string::npos);
    EXPECT_EQ((started + rest).find(key), std::string::npos);
}

}  // namespace
}  // namespace nebula::testing
