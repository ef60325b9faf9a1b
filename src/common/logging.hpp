#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace spdlog {
class logger;
}

namespace nebula::common {

struct LogOptions {
    std::string directory = "logs";  ///< combined.log and error.log go here (created if missing)
    std::string level = "info";      ///< trace, debug, info, warn, error
    std::size_t max_file_bytes = 10 * 1024 * 1024;
    std::size_t max_files = 5;
    bool console = true;
    bool files = true;
};

/// Builds the service logger (console + rotating combined.log + rotating error.log for warnings
/// and errors) and installs it as spdlog's default, so code logs with spdlog::info(...).
/// Any of `secrets` appearing in a message is replaced by "***" before it reaches a sink.
/// Call once from main, before other threads start. Throws on an unwritable log directory.
std::shared_ptr<spdlog::logger> setup_logging(const LogOptions& options, std::vector<std::string> secrets);

/// Replaces every occurrence of each secret (of 4+ characters) in `text` with "***".
std::string redact(std::string text, const std::vector<std::string>& secrets);

}  // namespace nebula::common
