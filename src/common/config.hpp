#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/dotenv.hpp"
#include "common/result.hpp"

namespace nebula::common {

/// Reads typed configuration keys from an Environment and collects every problem, so start-up
/// can report all missing or invalid keys in one message. Getters return a usable default when
/// a key is bad; only `finish()` decides whether the configuration may be used.
/// Not thread-safe; use during start-up only.
class ConfigReader {
  public:
    explicit ConfigReader(const Environment& env) : env_(env) {}

    std::string required(std::string_view key);
    std::string optional(std::string_view key, std::string fallback = {});
    /// A secret of at least `min_length` characters. Its value is never echoed in errors.
    std::string secret(std::string_view key, std::size_t min_length, bool required = true);
    std::uint16_t port(std::string_view key, std::uint16_t fallback);
    std::int64_t integer(std::string_view key, std::int64_t fallback, std::int64_t min, std::int64_t max);
    bool boolean(std::string_view key, bool fallback);
    std::chrono::seconds seconds(std::string_view key, std::chrono::seconds fallback);
    /// A comma-separated list; entries trimmed, empty entries dropped.
    std::vector<std::string> list(std::string_view key);
    /// An http:// or https:// URL (required unless `fallback` is given).
    std::string url(std::string_view key, std::optional<std::string> fallback = std::nullopt);

    /// Records a problem found by the caller's own validation.
    void fail(std::string_view key, std::string message);

    /// Success, or one message naming every bad key, one per line.
    common::Status<std::string> finish() const;

  private:
    const Environment& env_;
    std::vector<std::string> errors_;
};

/// The keys both services read, read the same way by both.
struct SharedSettings {
    std::string log_level = "info";  ///< LOG_LEVEL, normalised: trace, debug, info, warn or error
    std::string log_dir = "logs";    ///< LOG_DIR
    /// METRICS_PORT: the Prometheus endpoint's port; none = off (0 in the file). 0 here means
    /// any free port (tests).
    std::optional<std::uint16_t> metrics_port;
    std::string metrics_bind = "127.0.0.1";  ///< METRICS_BIND: a loopback address only
};

/// Reads LOG_LEVEL, LOG_DIR, METRICS_PORT and METRICS_BIND; problems go to `r` like any other key.
SharedSettings read_shared_settings(ConfigReader& r);

/// A log level name in any case ("WARN", "Warning", "info") in the form spdlog knows, or nullopt
/// for a name that is no level ("verbose"): spdlog would silently turn such a logger off.
std::optional<std::string> normalize_log_level(std::string_view text);

}  // namespace nebula::common
