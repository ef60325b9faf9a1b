#include "bot/db/backup_archive.hpp"

#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <unistd.h>
#include <zlib.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <memory>
#include <system_error>
#include <vector>

namespace nebula::bot::db {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kMagic = "NLBACKUP";
constexpr std::uint8_t kVersion = 1;
constexpr std::uint8_t kKdfScrypt = 1;
constexpr std::uint8_t kCipherAes256Gcm = 1;
constexpr std::size_t kSaltSize = 16;
constexpr std::size_t kNonceSize = 12;
constexpr std::size_t kTagSize = 16;
constexpr std::size_t kHeaderSize = 8 + 8 + kSaltSize + kNonceSize;  // 44
constexpr std::size_t kChunk = 64 * 1024;

using Header = std::array<unsigned char, kHeaderSize>;
using Key = std::array<unsigned char, 32>;

struct FileCloser {
    void operator()(std::FILE* file) const { std::fclose(file); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;
struct CipherFree {
    void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using Cipher = std::unique_ptr<EVP_CIPHER_CTX, CipherFree>;

// A key is wiped as soon as it is no longer needed.
struct KeyGuard {
    Key& key;
    ~KeyGuard() { OPENSSL_cleanse(key.data(), key.size()); }
};

bool derive_key(std::string_view passphrase, const unsigned char* salt, ScryptCost cost, Key& key) {
    const std::uint64_t n = std::uint64_t{1} << cost.log2_n;
    const auto r = static_cast<std::uint64_t>(cost.r);
    const auto p = static_cast<std::uint64_t>(cost.p);
    // scrypt needs 128 * r * (N + p + 2) bytes; OpenSSL refuses more than maxmem.
    const std::uint64_t maxmem = 128 * r * (n + p + 2) + (std::uint64_t{1} << 20);
    return EVP_PBE_scrypt(passphrase.data(), passphrase.size(), salt, kSaltSize, n, r, p, maxmem, key.data(),
                          key.size()) == 1;
}

// Removes a file it was given unless released: a half-written output never stays behind.
class RemoveOnFailure {
  public:
    explicit RemoveOnFailure(fs::path path) : path_(std::move(path)) {}
    RemoveOnFailure(const RemoveOnFailure&) = delete;
    RemoveOnFailure& operator=(const RemoveOnFailure&) = delete;
    ~RemoveOnFailure() {
        if (armed_) {
            std::error_code ec;
            fs::remove(path_, ec);
        }
    }
    void release() { armed_ = false; }

  private:
    fs::path path_;
    bool armed_ = true;
};

// Opens `path` for writing only if no file has that name yet ("x": O_EXCL).
common::Result<File, std::string> create_new(const fs::path& path) {
    File file{std::fopen(path.c_str(), "wbx")};
    if (!file) {
        return common::unexpected(std::string("cannot create ") + path.string() + ": " +
                                  std::strerror(errno));
    }
    return file;
}

bool write_all(std::FILE* file, const unsigned char* data, std::size_t size) {
    return size == 0 || std::fwrite(data, 1, size, file) == size;
}

}  // namespace

common::Status<std::string> seal_backup(const fs::path& source, const fs::path& target, BackupContent content,
                                        std::string_view passphrase, ScryptCost cost) {
    if (passphrase.empty()) return common::unexpected(std::string("the backup passphrase is empty"));
    File in{std::fopen(source.c_str(), "rb")};
    if (!in) return common::unexpected("cannot read " + source.string() + ": " + std::strerror(errno));
    auto created = create_new(target);
    if (!created) return common::unexpected(created.error());
    File out = std::move(*created);
    RemoveOnFailure cleanup(target);

    Header header{};
    std::memcpy(header.data(), kMagic.data(), kMagic.size());
    header[8] = kVersion;
    header[9] = static_cast<unsigned char>(content);
    header[10] = kKdfScrypt;
    header[11] = static_cast<unsigned char>(cost.log2_n);
    header[12] = static_cast<unsigned char>(cost.r);
    header[13] = static_cast<unsigned char>(cost.p);
    header[14] = kCipherAes256Gcm;
    header[15] = 0;
    unsigned char* salt = header.data() + 16;
    unsigned char* nonce = salt + kSaltSize;
    if (RAND_bytes(salt, kSaltSize + kNonceSize) != 1)
        return common::unexpected(std::string("no random bytes"));

    Key key{};
    const KeyGuard guard{key};
    if (!derive_key(passphrase, salt, cost, key)) return common::unexpected(std::string("scrypt failed"));
    Cipher cipher{EVP_CIPHER_CTX_new()};
    int written = 0;
    if (!cipher || EVP_EncryptInit_ex(cipher.get(), EVP_aes_256_gcm(), nullptr, key.data(), nonce) != 1 ||
        EVP_EncryptUpdate(cipher.get(), nullptr, &written, header.data(), static_cast<int>(header.size())) !=
            1) {
        return common::unexpected(std::string("AES-256-GCM could not start"));
    }
    if (!write_all(out.get(), header.data(), header.size())) {
        return common::unexpected("writing " + target.string() + " failed");
    }

    z_stream zip{};
    if (deflateInit(&zip, 6) != Z_OK) return common::unexpected(std::string("zlib could not start"));
    const std::unique_ptr<z_stream, int (*)(z_stream*)> zip_end{&zip, deflateEnd};
    std::vector<unsigned char> plain(kChunk), packed(kChunk), sealed(kChunk + 16);
    int status = Z_OK;
    while (status != Z_STREAM_END) {
        const std::size_t got = std::fread(plain.data(), 1, plain.size(), in.get());
        if (std::ferror(in.get())) return common::unexpected("reading " + source.string() + " failed");
        const int flush = std::feof(in.get()) ? Z_FINISH : Z_NO_FLUSH;
        zip.next_in = plain.data();
        zip.avail_in = static_cast<uInt>(got);
        do {
            zip.next_out = packed.data();
            zip.avail_out = static_cast<uInt>(packed.size());
            status = deflate(&zip, flush);
            if (status == Z_STREAM_ERROR) return common::unexpected(std::string("zlib failed"));
            const auto have = static_cast<int>(packed.size() - zip.avail_out);
            if (EVP_EncryptUpdate(cipher.get(), sealed.data(), &written, packed.data(), have) != 1 ||
                !write_all(out.get(), sealed.data(), static_cast<std::size_t>(written))) {
                return common::unexpected("writing " + target.string() + " failed");
            }
        } while (zip.avail_out == 0);
        if (flush == Z_FINISH && status != Z_STREAM_END)
            return common::unexpected(std::string("zlib did not finish"));
    }
    std::array<unsigned char, kTagSize> tag{};
    if (EVP_EncryptFinal_ex(cipher.get(), sealed.data(), &written) != 1 ||
        EVP_CIPHER_CTX_ctrl(cipher.get(), EVP_CTRL_GCM_GET_TAG, kTagSize, tag.data()) != 1 ||
        !write_all(out.get(), tag.data(), tag.size()) || std::fflush(out.get()) != 0 ||
        ::fsync(::fileno(out.get())) != 0) {
        return common::unexpected("writing " + target.string() + " failed");
    }
    if (std::fclose(out.release()) != 0) return common::unexpected("writing " + target.string() + " failed");
    cleanup.release();
    return {};
}

common::Result<BackupContent, std::string> open_backup(const fs::path& source, const fs::path& target,
                                                       std::string_view passphrase) {
    const std::string not_archive = source.string() + " is not a NebulaLinks backup archive";
    std::error_code ec;
    const auto size = fs::file_size(source, ec);
    if (ec) return common::unexpected("cannot read " + source.string() + ": " + ec.message());
    File in{std::fopen(source.c_str(), "rb")};
    if (!in) return common::unexpected("cannot read " + source.string() + ": " + std::strerror(errno));
    Header header{};
    if (size < kHeaderSize + kTagSize ||
        std::fread(header.data(), 1, header.size(), in.get()) != header.size() ||
        std::memcmp(header.data(), kMagic.data(), kMagic.size()) != 0) {
        return common::unexpected(not_archive);
    }
    if (header[8] != kVersion) {
        return common::unexpected(source.string() + " is a backup archive of version " +
                                  std::to_string(header[8]) + ", which this nebula-bot cannot read");
    }
    const auto content = static_cast<BackupContent>(header[9]);
    if ((content != BackupContent::sqlite_database && content != BackupContent::postgres_dump) ||
        header[10] != kKdfScrypt || header[14] != kCipherAes256Gcm) {
        return common::unexpected(not_archive + " (unknown content, key derivation or cipher)");
    }
    const ScryptCost cost{header[11], header[12], header[13]};
    if (cost.log2_n < 10 || cost.log2_n > 20 || cost.r < 1 || cost.r > 16 || cost.p < 1 || cost.p > 4) {
        return common::unexpected(not_archive + " (key derivation cost out of bounds)");
    }
    if (fs::exists(target, ec))
        return common::unexpected(target.string() + " already exists; choose a new file");

    Key key{};
    const KeyGuard guard{key};
    const unsigned char* salt = header.data() + 16;
    const unsigned char* nonce = salt + kSaltSize;
    if (!derive_key(passphrase, salt, cost, key)) return common::unexpected(std::string("scrypt failed"));
    Cipher cipher{EVP_CIPHER_CTX_new()};
    int written = 0;
    if (!cipher || EVP_DecryptInit_ex(cipher.get(), EVP_aes_256_gcm(), nullptr, key.data(), nonce) != 1 ||
        EVP_DecryptUpdate(cipher.get(), nullptr, &written, header.data(), static_cast<int>(header.size())) !=
            1) {
        return common::unexpected(std::string("AES-256-GCM could not start"));
    }

    // Written beside the target, and given its name only once the tag has been checked.
    fs::path partial = target;
    partial += ".partial";
    auto created = create_new(partial);
    if (!created) return common::unexpected(created.error());
    File out = std::move(*created);
    RemoveOnFailure cleanup(partial);

    z_stream zip{};
    if (inflateInit(&zip) != Z_OK) return common::unexpected(std::string("zlib could not start"));
    const std::unique_ptr<z_stream, int (*)(z_stream*)> zip_end{&zip, inflateEnd};
    const std::string damaged = source.string() + " is damaged (its compressed contents do not decode)";
    const std::string refused = "wrong passphrase, or " + source.string() + " was changed or cut short";
    std::vector<unsigned char> sealed(kChunk), packed(kChunk + 16), plain(kChunk);
    std::uint64_t left = size - kHeaderSize - kTagSize;
    bool ended = false;
    bool bad_stream = false;
    while (left > 0) {
        const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left, sealed.size()));
        if (std::fread(sealed.data(), 1, want, in.get()) != want) return common::unexpected(refused);
        left -= want;
        if (EVP_DecryptUpdate(cipher.get(), packed.data(), &written, sealed.data(), static_cast<int>(want)) !=
            1) {
            return common::unexpected(refused);
        }
        // Until the tag is checked the bytes may be forged: a stream error is only remembered.
        zip.next_in = packed.data();
        zip.avail_in = static_cast<uInt>(written);
        while (zip.avail_in > 0 && !ended && !bad_stream) {
            zip.next_out = plain.data();
            zip.avail_out = static_cast<uInt>(plain.size());
            const int status = inflate(&zip, Z_NO_FLUSH);
            if (status != Z_OK && status != Z_STREAM_END && status != Z_BUF_ERROR) {
                bad_stream = true;
                break;
            }
            if (!write_all(out.get(), plain.data(), plain.size() - zip.avail_out)) {
                return common::unexpected("writing " + partial.string() + " failed");
            }
            ended = status == Z_STREAM_END;
        }
        if (ended && zip.avail_in > 0) bad_stream = true;  // bytes after the end of the stream
    }
    std::array<unsigned char, kTagSize> tag{};
    if (std::fread(tag.data(), 1, tag.size(), in.get()) != tag.size() ||
        EVP_CIPHER_CTX_ctrl(cipher.get(), EVP_CTRL_GCM_SET_TAG, kTagSize, tag.data()) != 1 ||
        EVP_DecryptFinal_ex(cipher.get(), packed.data(), &written) != 1) {
        return common::unexpected(refused);
    }
    if (bad_stream || !ended) return common::unexpected(damaged);
    if (std::fflush(out.get()) != 0 || ::fsync(::fileno(out.get())) != 0 || std::fclose(out.release()) != 0) {
        return common::unexpected("writing " + partial.string() + " failed");
    }
    // link() fails when the target appeared meanwhile: an existing file is never replaced.
    if (::link(partial.c_str(), target.c_str()) != 0) {
        return common::unexpected("cannot create " + target.string() + ": " + std::strerror(errno));
    }
    return content;
}

}  // namespace nebula::bot::db
