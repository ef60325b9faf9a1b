#include "common/logging.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <mutex>
#include <stdexcept>

namespace nebula::common {
namespace {

/// Removes secrets from every message, then hands it to the real sinks.
class RedactingSink final : public spdlog::sinks::base_sink<std::mutex> {
  public:
    RedactingSink(std::vector<spdlog::sink_ptr> sinks, std::vector<std::string> secrets)
        : sinks_(std::move(sinks)), secrets_(std::move(secrets)) {}

  protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        std::string text = redact(std::string(msg.payload.data(), msg.payload.size()), secrets_);
        spdlog::details::log_msg copy = msg;
        copy.payload = text;
        for (auto& sink : sinks_) {
            if (sink->should_log(copy.level)) sink->log(copy);
        }
    }
    void flush_() override {
        for (auto& sink : sinks_) sink->flush();
    }

  private:
    std::vector<spdlog::sink_ptr> sinks_;
    std::vector<std::string> secrets_;
};

}  // namespace

std::string redact(std::string text, const std::vector<std::string>& secrets) {
    for (const auto& secret : secrets) {
        if (secret.size() < 4) continue;
        std::size_t pos = 0;
        while ((pos = text.find(secret, pos)) != std::string::npos) {
            text.replace(pos, secret.size(), "***");
            pos += 3;
        }
    }
    return text;
}

std::shared_ptr<spdlog::logger> setup_logging(const LogOptions& options, std::vector<std::string> secrets) {
    // spdlog turns an unknown name into "off": a typo would silence every message.
    const auto level = spdlog::level::from_str(options.level);
    if (level == spdlog::level::off && options.level != "off") {
        throw std::invalid_argument("unknown log level \"" + options.level +
                                    "\" (use trace, debug, info, warn or error)");
    }
    std::vector<spdlog::sink_ptr> sinks;
    if (options.console) sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    if (options.files) {
        std::filesystem::create_directories(options.directory);
        auto dir = std::filesystem::path(options.directory);
        sinks.push_back(std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
            (dir / "combined.log").string(), options.max_file_bytes, options.max_files));
        auto errors = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
            (dir / "error.log").string(), options.max_file_bytes, options.max_files);
        errors->set_level(spdlog::level::warn);
        sinks.push_back(errors);
    }
    auto sink = std::make_shared<RedactingSink>(std::move(sinks), std::move(secrets));
    auto logger = std::make_shared<spdlog::logger>("nebula", sink);
    logger->set_level(level);
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z [%l] %v");
    logger->flush_on(spdlog::level::warn);
    spdlog::set_default_logger(logger);
    spdlog::flush_every(std::chrono::seconds(2));
    return logger;
}

}  // namespace nebula::common
