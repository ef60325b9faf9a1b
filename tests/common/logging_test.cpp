#include "common/logging.hpp"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/crypto.hpp"

namespace nebula::common {
namespace {

std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

TEST(Logging, RedactsSecrets) {
    EXPECT_EQ(redact("key=supersecretvalue and again supersecretvalue", {"supersecretvalue"}),
              "key=*** and again ***");
    EXPECT_EQ(redact("short abc", {"abc"}), "short abc");  // too short to be a secret worth hiding
}

TEST(Logging, WritesCombinedAndErrorLogsWithoutSecrets) {
    auto dir = std::filesystem::temp_directory_path() / ("nebula-logs-" + random_hex(6));
    const std::string secret = "hunter2-" + random_hex(8);
    {
        auto logger = setup_logging({.directory = dir.string(), .level = "info", .console = false}, {secret});
        spdlog::info("an info line mentioning {}", secret);
        spdlog::error("an error line");
        spdlog::debug("a debug line below the level");
        logger->flush();
        spdlog::set_default_logger(std::make_shared<spdlog::logger>("silent"));
    }
    auto combined = slurp(dir / "combined.log");
    auto errors = slurp(dir / "error.log");
    EXPECT_NE(combined.find("an info line mentioning ***"), std::string::npos);
    EXPECT_NE(combined.find("an error line"), std::string::npos);
    EXPECT_EQ(combined.find("debug line"), std::string::npos);
    EXPECT_EQ(combined.find(secret), std::string::npos);
    EXPECT_NE(errors.find("an error line"), std::string::npos);
    EXPECT_EQ(errors.find("an info line"), std::string::npos);
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace nebula::common
