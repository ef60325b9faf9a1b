#include "bot/ui/time_zone.hpp"

#include <date/tz.h>

#include <exception>

namespace nebula::bot::ui {

TimeZone TimeZone::utc() {
    TimeZone zone;
    zone.name_ = "UTC";
    return zone;
}

common::Result<TimeZone, std::string> TimeZone::load(std::string_view name) {
    TimeZone zone;
    zone.name_ = std::string(name);
    try {
        // Only names listed in the database are found: paths such as "../x" never are.
        zone.zone_ = date::locate_zone(name);
    } catch (const std::exception& e) {
        return common::unexpected("unknown time zone \"" + zone.name_ + "\" (" + e.what() + ")");
    }
    return zone;
}

std::chrono::seconds TimeZone::offset_at(std::chrono::sys_seconds t) const {
    if (zone_ == nullptr) return std::chrono::seconds{0};
    return zone_->get_info(t).offset;
}

bool TimeZone::is_dst_at(std::chrono::sys_seconds t) const {
    return zone_ != nullptr && zone_->get_info(t).save != std::chrono::minutes{0};
}

}  // namespace nebula::bot::ui
