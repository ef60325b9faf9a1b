#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "common/clock.hpp"

namespace nebula::gateway {

/// Log lines for refused connections and requests, aggregated so that a flood cannot push
/// real evidence out of the rotated log files.
///
/// Within each interval, the first refusal for a (reason, source) pair is logged at once with
/// its detail; the others are only counted, and one line per pair gives that count when the
/// interval ends (written by the first note() or flush_due() after it, or on destruction). At
/// most `max_sources` pairs are told apart per interval; refusals beyond them are counted under
/// the source "other addresses". Not thread-safe.
class RefusalLog {
  public:
    explicit RefusalLog(const common::Clock& clock, std::chrono::seconds interval = std::chrono::seconds(10),
                        std::size_t max_sources = 64);
    ~RefusalLog();
    RefusalLog(const RefusalLog&) = delete;
    RefusalLog& operator=(const RefusalLog&) = delete;

    /// Records one refusal; `detail` is logged only for the first of its pair in the interval.
    void note(std::string_view reason, std::string_view source, std::string_view detail);
    /// Writes the counts of an interval that has ended.
    void flush_due();

  private:
    void flush(std::chrono::steady_clock::time_point now);

    const common::Clock& clock_;
    std::chrono::seconds interval_;
    std::size_t max_sources_;
    std::chrono::steady_clock::time_point started_;
    /// Refusals after the first in this interval, by (reason, source).
    std::map<std::pair<std::string, std::string>, std::size_t, std::less<>> repeats_;
};

}  // namespace nebula::gateway
