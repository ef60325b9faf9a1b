#pragma once

#include <cstddef>
#include <string>

#include "bot/domain/audit.hpp"

namespace nebula::bot::ui {

/// The longest line posted to the audit channel (Discord allows 2000 characters per message).
inline constexpr std::size_t kAuditLineMax = 1900;

/// One audit entry as one compact line for the audit channel: when (a Discord timestamp, shown
/// in each reader's own time), who (a mention, or "system"), what, which target, and what
/// changed, e.g.
///
///   <t:1765000000:f> <@100000000000000001> `plan.updated` plan #3: price_piasters: 15000 → 17500
///
/// Only the fields that differ are shown when both sides are JSON objects; otherwise the whole
/// before → after. Values of fields whose names speak of secrets (key, secret, password,
/// passphrase, token) are replaced by "[hidden]", whatever the entry holds. Long values are
/// shortened and the line is cut at kAuditLineMax bytes on a character boundary.
std::string audit_line(const domain::AuditRecord& record);

}  // namespace nebula::bot::ui
