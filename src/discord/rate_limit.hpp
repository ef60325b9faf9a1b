#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.hpp"
#include "common/http.hpp"

namespace nebula::discord {

/// Which rate-limit queue a request belongs to, derived from method and path as discord.js
/// does: ids in the path become `:id`, and the major parameter (channel, guild, or webhook id
/// with token) keeps requests on different channels apart.
struct RouteKey {
    std::string route;           ///< e.g. "POST /channels/:id/messages"
    std::string major;           ///< e.g. "channels/123"; may hold a webhook token, so never log it
    bool global_exempt = false;  ///< interaction callbacks and follow-ups skip the global limit
};

/// `path` is relative to the API base ("/channels/1/messages?x=y"); the query is ignored.
RouteKey route_key(std::string_view method, std::string_view path);

/// Rate-limit information from one response.
struct RateLimitInfo {
    std::optional<long> limit;
    std::optional<long> remaining;
    std::optional<double> reset_after;  ///< seconds, fractional
    std::string bucket;
    bool global = false;
    std::string scope;                  ///< "user", "global" or "shared" on a 429
    std::optional<double> retry_after;  ///< seconds, from the 429 body or Retry-After

    /// Reads the X-RateLimit-* headers, Retry-After and (for 429) the JSON body; malformed
    /// values are ignored.
    static RateLimitInfo from(const common::http::Response& response);
};

struct RateLimiterOptions {
    int global_per_second = 50;
    std::chrono::milliseconds offset{50};  ///< added to every reset to absorb clock skew
    std::chrono::minutes invalid_window{10};
    /// Above this many 401/403/429 responses in the window every request is spaced by
    /// `invalid_slowdown`; at `invalid_hard_limit` requests are refused until the window drains.
    /// Discord bans the IP at 10,000.
    std::size_t invalid_soft_limit = 1'000;
    std::size_t invalid_hard_limit = 5'000;
    std::chrono::milliseconds invalid_slowdown{1'000};
};

struct RateLimiterStats {
    std::size_t invalid_requests = 0;  ///< 401/403/429 in the current window
    std::size_t rate_limited = 0;      ///< every 429 seen
    std::size_t global_rate_limited = 0;
    std::size_t known_buckets = 0;
};

/// The bookkeeping of Discord's limits: per-queue buckets learnt from headers (routes sharing
/// an X-RateLimit-Bucket share a queue), a sliding-window global limit, global pauses from
/// global 429s, and the invalid-request budget. Pure logic on an injected clock: it says when
/// a request may go and learns from responses; the REST client does the waiting.
/// Not thread-safe; use from one executor.
class RateLimiter {
  public:
    using TimePoint = std::chrono::steady_clock::time_point;

    RateLimiter(const common::Clock& clock, RateLimiterOptions options);

    /// The queue a request runs in: learnt bucket hash (or the route until one is known) plus
    /// the major parameter.
    std::string queue_id(const RouteKey& key) const;
    /// The earliest time the next request on `key` may be sent (now or earlier: send now).
    TimePoint ready_at(const RouteKey& key) const;
    /// True when the invalid-request budget is spent: do not send at all.
    bool invalid_budget_exhausted() const;
    /// Records that a request on `key` is being sent now.
    void on_send(const RouteKey& key);
    /// Learns from the response to a request on `key`.
    void on_response(const RouteKey& key, int status, const RateLimitInfo& info);

    RateLimiterStats stats() const;
    const RateLimiterOptions& options() const { return options_; }

  private:
    struct Bucket {
        std::optional<long> limit;
        long remaining = 1;
        TimePoint reset_at{};
    };
    void prune() const;

    const common::Clock& clock_;
    RateLimiterOptions options_;
    std::unordered_map<std::string, std::string> route_to_bucket_;  ///< route -> X-RateLimit-Bucket
    std::unordered_map<std::string, Bucket> buckets_;               ///< queue id -> state
    mutable std::deque<TimePoint> global_sends_;
    TimePoint global_paused_until_{};
    mutable std::deque<TimePoint> invalid_;
    std::size_t rate_limited_ = 0;
    std::size_t global_rate_limited_ = 0;
};

}  // namespace nebula::discord
