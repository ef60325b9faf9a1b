#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "gateway/xui/types.hpp"

namespace nebula::gateway::xui {

/// Reads a panel answer. The panel answers HTTP 200 with {"success","msg","obj"} even when it
/// refuses, so only `success` decides: true gives `obj` (possibly null); false gives a
/// PanelError whose code comes from classify_panel_message(msg). A 5xx is `rejected`; any other
/// status, or a body that is not the envelope, is `protocol`. Pure function, thread-safe.
common::Result<nlohmann::json, PanelError> parse_envelope(int http_status, std::string_view body);

/// Maps the panel's (localised, wrapped) failure text to a code using the English Go error
/// embedded in it: "Duplicate email"/"already in use" → conflict, "not found" → not_found,
/// "no client remained" → last_client, anything else → rejected.
PanelErrorCode classify_panel_message(std::string_view msg);

/// One printable line of at most 200 bytes (longer text is cut and ends in "..."), for error
/// messages built from what the panel said.
std::string summarise(std::string_view text);

}  // namespace nebula::gateway::xui
