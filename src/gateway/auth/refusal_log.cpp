#include "gateway/auth/refusal_log.hpp"

#include <spdlog/spdlog.h>

namespace nebula::gateway {

RefusalLog::RefusalLog(const common::Clock& clock, std::chrono::seconds interval, std::size_t max_sources)
    : clock_(clock), interval_(interval), max_sources_(max_sources), started_(clock.steady_now()) {}

RefusalLog::~RefusalLog() { flush(clock_.steady_now()); }

void RefusalLog::note(std::string_view reason, std::string_view source, std::string_view detail) {
    flush_due();
    auto key = std::make_pair(std::string(reason), std::string(source));
    if (!repeats_.contains(key) && repeats_.size() >= max_sources_) key.second = "other addresses";
    auto [it, first] = repeats_.try_emplace(std::move(key), 0);
    if (first) {
        spdlog::warn("{}: {}", reason, detail);
    } else {
        ++it->second;
    }
}

void RefusalLog::flush_due() {
    const auto now = clock_.steady_now();
    if (now - started_ < interval_) return;
    flush(now);
    started_ = now;
}

void RefusalLog::flush(std::chrono::steady_clock::time_point now) {
    const auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(now - started_).count();
    for (const auto& [key, count] : repeats_) {
        if (count == 0) continue;
        spdlog::warn("{}: {} more from {} in the last {} s", key.first, count, key.second, elapsed);
    }
    repeats_.clear();
}

}  // namespace nebula::gateway
