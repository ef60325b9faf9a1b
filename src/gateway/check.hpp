#pragma once

#include <string>
#include <vector>

#include "common/clock.hpp"
#include "gateway/config.hpp"
#include "gateway/xui/panel_client.hpp"

namespace nebula::gateway {

/// The panel client's options for this configuration (PANEL_* keys).
xui::PanelOptions panel_options(const GatewayConfig& config);

/// One line of `nebula-gateway check`: what was checked, whether it passed, and what was found
/// or what to fix.
struct CheckResult {
    std::string name;
    bool ok = false;
    std::string detail;
    bool warning = false;  ///< passes, but something needs attention ("WARN")
};

/// "OK   name: detail", "WARN name: detail" or "FAIL name: detail".
std::string format_check(const CheckResult& result);

/// Checks that the certificate and key load and belong together (and the certificate has not
/// expired), then logs in to the panel and lists its inbounds through the PanelClient.
/// Blocking: runs its own event loop; the panel calls have PANEL_TIMEOUT_MS as deadline.
/// Never throws for a failing dependency; each failure is a result naming the fix.
/// With API_SECRET_KEY_PREVIOUS set, a "secret key" line (WARN after kPreviousKeyGrace); with
/// PANEL_ALLOW_REMOTE and a remote PANEL_URL, a WARN "panel address" line.
std::vector<CheckResult> check_gateway(const GatewayConfig& config, const common::Clock& clock);

}  // namespace nebula::gateway
