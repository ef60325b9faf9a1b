#pragma once

#include <filesystem>
#include <string>

namespace nebula::testing {

/// A self-signed certificate and key (EC P-256) for "localhost" and 127.0.0.1, made at test
/// time and written as PEM files into a fresh temporary folder that is removed on destruction.
struct TlsCert {
    TlsCert();
    ~TlsCert();
    TlsCert(const TlsCert&) = delete;
    TlsCert& operator=(const TlsCert&) = delete;

    std::filesystem::path dir;
    std::string cert_path;
    std::string key_path;
    std::string sha256;  ///< hex SHA-256 of the certificate's DER (for pinning)
};

/// A fresh empty folder under the system temp dir, removed on destruction.
struct TempDir {
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::filesystem::path path;
};

}  // namespace nebula::testing
