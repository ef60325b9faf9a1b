#pragma once

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace nebula::testing {

/// Captures what spdlog writes while it lives (as "level message" unless another pattern is given).
struct CapturedLog {
    explicit CapturedLog(const std::string& pattern = "%l %v") : previous(spdlog::default_logger()) {
        auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(text);
        sink->set_pattern(pattern);
        spdlog::set_default_logger(std::make_shared<spdlog::logger>("captured", sink));
    }
    ~CapturedLog() { spdlog::set_default_logger(previous); }
    CapturedLog(const CapturedLog&) = delete;
    CapturedLog& operator=(const CapturedLog&) = delete;

    std::string str() {
        spdlog::default_logger()->flush();
        return text.str();
    }
    std::vector<std::string> lines() {
        std::vector<std::string> out;
        std::istringstream in(str());
        for (std::string line; std::getline(in, line);) out.push_back(line);
        return out;
    }

    std::ostringstream text;
    std::shared_ptr<spdlog::logger> previous;
};

}  // namespace nebula::testing
