#include "discord/rate_limit.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <vector>

#include <nlohmann/json.hpp>

namespace nebula::discord {
namespace {

bool all_digits(std::string_view text) {
    return !text.empty() &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<double> to_double(std::string_view text) {
    double value = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || ptr != text.data() + text.size() || !std::isfinite(value) || value < 0) {
        return std::nullopt;
    }
    return value;
}

std::optional<long> to_long(std::string_view text) {
    long value = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || ptr != text.data() + text.size() || value < 0) return std::nullopt;
    return value;
}

std::chrono::steady_clock::duration seconds(double value) {
    // Cap absurd values (a hostile or broken header) at one day.
    value = std::min(value, 86'400.0);
    return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(value));
}

}  // namespace

RouteKey route_key(std::string_view method, std::string_view path) {
    path = path.substr(0, path.find('?'));
    std::vector<std::string_view> segments;
    std::size_t start = 0;
    while (start <= path.size()) {
        const std::size_t slash = path.find('/', start);
        const std::size_t end = slash == std::string_view::npos ? path.size() : slash;
        if (end > start) segments.push_back(path.substr(start, end - start));
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    RouteKey key;
    std::string route = std::string(method) + " ";
    const std::string_view first = segments.empty() ? std::string_view{} : segments[0];
    const bool webhook = first == "webhooks";
    const bool interaction = first == "interactions";
    if (segments.size() >= 2 && (first == "channels" || first == "guilds" || webhook || interaction)) {
        key.major = std::string(first) + "/" + std::string(segments[1]);
        if ((webhook || interaction) && segments.size() >= 3) {
            key.major += "/" + std::string(segments[2]);
            key.global_exempt = true;
        }
    }
    for (std::size_t i = 0; i < segments.size(); ++i) {
        route += "/";
        if (i > 0 && segments[i - 1] == "reactions") {
            route += ":reaction";
            break;
        }
        if ((webhook || interaction) && i == 2) {
            route += ":token";
        } else if (i > 0 && all_digits(segments[i])) {
            route += ":id";
        } else {
            route += segments[i];
        }
    }
    key.route = std::move(route);
    return key;
}

RateLimitInfo RateLimitInfo::from(const common::http::Response& response) {
    RateLimitInfo info;
    const auto& headers = response.headers;
    if (auto v = headers.find("X-RateLimit-Limit")) info.limit = to_long(*v);
    if (auto v = headers.find("X-RateLimit-Remaining")) info.remaining = to_long(*v);
    if (auto v = headers.find("X-RateLimit-Reset-After")) info.reset_after = to_double(*v);
    if (auto v = headers.find("X-RateLimit-Bucket")) info.bucket = std::string(v->substr(0, 128));
    if (auto v = headers.find("X-RateLimit-Global")) info.global = common::http::iequals(*v, "true");
    if (auto v = headers.find("X-RateLimit-Scope")) info.scope = std::string(v->substr(0, 16));
    if (auto v = headers.find("Retry-After")) info.retry_after = to_double(*v);
    if (response.status == 429) {
        const auto body = nlohmann::json::parse(response.body, nullptr, false);
        if (body.is_object()) {
            if (const auto it = body.find("retry_after"); it != body.end() && it->is_number() && *it >= 0) {
                info.retry_after = it->get<double>();  // the body is more precise than the header
            }
            if (const auto it = body.find("global");
                it != body.end() && it->is_boolean() && it->get<bool>()) {
                info.global = true;
            }
        }
    }
    return info;
}

RateLimiter::RateLimiter(const common::Clock& clock, RateLimiterOptions options)
    : clock_(clock), options_(options) {}

std::string RateLimiter::queue_id(const RouteKey& key) const {
    const auto it = route_to_bucket_.find(key.route);
    return (it == route_to_bucket_.end() ? key.route : it->second) + "|" + key.major;
}

void RateLimiter::prune() const {
    const auto now = clock_.steady_now();
    while (!global_sends_.empty() && global_sends_.front() + std::chrono::seconds(1) <= now)
        global_sends_.pop_front();
    while (!invalid_.empty() && invalid_.front() + options_.invalid_window <= now) invalid_.pop_front();
}

RateLimiter::TimePoint RateLimiter::ready_at(const RouteKey& key) const {
    prune();
    const auto now = clock_.steady_now();
    TimePoint ready = now;
    const auto bucket = buckets_.find(queue_id(key));
    if (bucket != buckets_.end() && bucket->second.remaining <= 0 && bucket->second.reset_at > now) {
        ready = std::max(ready, bucket->second.reset_at + options_.offset);
    }
    if (!key.global_exempt) {
        ready = std::max(ready, global_paused_until_);
        if (global_sends_.size() >= static_cast<std::size_t>(options_.global_per_second)) {
            ready = std::max(ready, global_sends_[global_sends_.size() - options_.global_per_second] +
                                        std::chrono::seconds(1));
        }
    }
    if (invalid_.size() >= options_.invalid_soft_limit && !invalid_.empty()) {
        ready = std::max(ready, invalid_.back() + options_.invalid_slowdown);
    }
    return ready;
}

bool RateLimiter::invalid_budget_exhausted() const {
    prune();
    return invalid_.size() >= options_.invalid_hard_limit;
}

void RateLimiter::on_send(const RouteKey& key) {
    const auto now = clock_.steady_now();
    if (!key.global_exempt) global_sends_.push_back(now);
    auto& bucket = buckets_[queue_id(key)];
    if (bucket.reset_at <= now && bucket.limit) bucket.remaining = *bucket.limit;
    if (bucket.remaining > 0) --bucket.remaining;
}

void RateLimiter::on_response(const RouteKey& key, int status, const RateLimitInfo& info) {
    const auto now = clock_.steady_now();
    if (!info.bucket.empty()) {
        auto& known = route_to_bucket_[key.route];
        if (known != info.bucket) {
            // Carry what was learnt under the old queue id over to the bucket's queue.
            const std::string old_id = queue_id(key);
            known = info.bucket;
            if (auto it = buckets_.find(old_id); it != buckets_.end()) {
                buckets_.try_emplace(queue_id(key), it->second);
                buckets_.erase(it);
            }
        }
    }
    auto& bucket = buckets_[queue_id(key)];
    if (info.limit) bucket.limit = *info.limit;
    if (info.remaining) bucket.remaining = *info.remaining;
    if (info.reset_after) bucket.reset_at = now + seconds(*info.reset_after);

    if (status == 429) {
        ++rate_limited_;
        const double wait = info.retry_after.value_or(info.reset_after.value_or(1.0));
        if (info.global || info.scope == "global") {
            ++global_rate_limited_;
            global_paused_until_ = std::max(global_paused_until_, now + seconds(wait));
        } else {
            // A route or sub-limit: this queue waits; others are unaffected.
            bucket.remaining = 0;
            bucket.reset_at = std::max(bucket.reset_at, now + seconds(wait));
        }
    }
    const bool counts_as_invalid =
        status == 401 || status == 403 || (status == 429 && info.scope != "shared");
    if (counts_as_invalid) invalid_.push_back(now);
}

RateLimiterStats RateLimiter::stats() const {
    prune();
    return RateLimiterStats{invalid_.size(), rate_limited_, global_rate_limited_, route_to_bucket_.size()};
}

}  // namespace nebula::discord
