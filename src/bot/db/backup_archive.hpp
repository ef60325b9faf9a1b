#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace nebula::bot::db {

/// What a backup archive holds.
enum class BackupContent : std::uint8_t {
    sqlite_database = 1,  ///< a SQLite database file (the backup job's copy)
    postgres_dump = 2,    ///< a pg_dump custom-format archive
};

/// The cost of deriving the key from the passphrase with scrypt: N = 2^log2_n, r, p. The
/// default (N = 2^17, r = 8, p = 1: 128 MiB and a fraction of a second) follows OWASP's advice;
/// tests pass cheaper ones. Archives are opened with the cost written in their header, at most
/// N = 2^20, r = 16, p = 4 (so a crafted file cannot ask for unbounded memory).
struct ScryptCost {
    int log2_n = 17;
    int r = 8;
    int p = 1;
};

/// Writes `source` into the new file `target` as an encrypted backup archive:
///
///     "NLBACKUP" | version 1 | content | kdf 1 (scrypt) | log2 N | r | p | cipher 1 (AES-256-GCM)
///     | 0 | salt (16 bytes) | nonce (12 bytes) | zlib-compressed `source`, encrypted | tag (16)
///
/// The key is scrypt(passphrase, salt); the 44-byte header is authenticated with the contents,
/// so changing any byte of the file, header included, makes open_backup() refuse it. Salt and
/// nonce are fresh random bytes for every archive. `target` must not exist (never overwritten).
/// Blocking file work. Errors as text (unreadable source, target exists, disk full).
common::Status<std::string> seal_backup(const std::filesystem::path& source,
                                        const std::filesystem::path& target, BackupContent content,
                                        std::string_view passphrase, ScryptCost cost = {});

/// Decrypts and decompresses the archive `source` into the new file `target` (never over an
/// existing one). The contents reach `target` only once the whole archive has been checked: a
/// wrong passphrase, a changed or cut file leaves no `target` behind. Returns what the archive
/// holds. Errors as text: not a backup archive, an unknown version, a cost beyond the limits,
/// "wrong passphrase, or the file was changed", a damaged file.
common::Result<BackupContent, std::string> open_backup(const std::filesystem::path& source,
                                                       const std::filesystem::path& target,
                                                       std::string_view passphrase);

}  // namespace nebula::bot::db
