#pragma once

#include <string>

#include "common/result.hpp"

namespace nebula::gateway::init {

/// The panel's own web settings as 3x-ui keeps them in the `settings` table (key/value rows) of
/// its SQLite database, with the panel's defaults filled in for keys it never stored (or stored
/// empty). Checked against MHSanaei/3x-ui v2.x (`web/service/setting.go`) and v3.x up to 3.6
/// (`internal/web/service/setting.go`): the same keys and defaults in both.
struct PanelSettings {
    int web_port = 2053;              ///< webPort
    std::string web_base_path = "/";  ///< webBasePath, normalised to begin and end with '/'
    std::string web_listen;           ///< webListen: the address the panel binds ("" = all)
    std::string web_domain;           ///< webDomain: when set, the panel answers only to this Host
    std::string web_cert_file;        ///< webCertFile: with webKeyFile, the panel serves HTTPS
    std::string web_key_file;         ///< webKeyFile
};

/// Reads `path` read-only. Errors name the file and say why (missing, unreadable, not a 3x-ui
/// database, a webPort that is not a port); the caller then asks for the panel's address.
common::Result<PanelSettings, std::string> read_panel_settings(const std::string& path);

/// How the gateway on this machine reaches the panel with these settings.
struct PanelAddress {
    std::string url;        ///< PANEL_URL: scheme, host and port
    std::string base_path;  ///< PANEL_BASE_PATH
    bool remote = false;    ///< the host is not a loopback address: PANEL_ALLOW_REMOTE=true is needed
    std::string note;       ///< why a host other than 127.0.0.1 was chosen ("" when it was not)
};

/// 127.0.0.1 (or the panel's own listen address when it binds only one) on the panel's port;
/// https when the panel has a certificate, then with the host name that certificate names
/// (read from `web_cert_file` when readable), since the TLS check needs it; the webDomain when
/// set, since the panel refuses any other Host.
PanelAddress panel_address(const PanelSettings& settings);

}  // namespace nebula::gateway::init
