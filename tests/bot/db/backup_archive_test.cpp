#include "bot/db/backup_archive.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

namespace nebula::bot::db {
namespace {

namespace fs = std::filesystem;

constexpr ScryptCost kCheap{10, 8, 1};  // the real default (2^17) costs 128 MiB per derivation
constexpr std::string_view kPassphrase = "correct horse battery staple";

std::string read(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void write(const fs::path& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

class BackupArchiveTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("nebula-archive-" + std::to_string(std::random_device{}()));
        fs::create_directories(dir_);
        // Text that compresses well, then random bytes that do not: 300 KB, several chunks.
        std::mt19937 random(7);
        for (int i = 0; i < 8000; ++i)
            original_ += "row " + std::to_string(i) + " customer nl-" + std::to_string(i * 7) + "\n";
        for (int i = 0; i < 100000; ++i) original_ += static_cast<char>(random());
        write(dir_ / "bot.db", original_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    fs::path sealed(const std::string& name = "bot.db.nlbk") {
        const auto archive = dir_ / name;
        auto status =
            seal_backup(dir_ / "bot.db", archive, BackupContent::sqlite_database, kPassphrase, kCheap);
        EXPECT_TRUE(status) << status.error();
        return archive;
    }
    // Only the listed files exist in the folder (nothing half-written left behind).
    std::vector<std::string> files() const {
        std::vector<std::string> names;
        for (const auto& entry : fs::directory_iterator(dir_))
            names.push_back(entry.path().filename().string());
        std::sort(names.begin(), names.end());
        return names;
    }

    fs::path dir_;
    std::string original_;
};

TEST_F(BackupArchiveTest, RoundTripGivesBackTheSameBytes) {
    const auto archive = sealed();
    const std::string bytes = read(archive);
    EXPECT_EQ(bytes.substr(0, 8), "NLBACKUP");
    EXPECT_EQ(bytes[8], 1) << "version";
    EXPECT_EQ(bytes[9], 1) << "a SQLite database";
    EXPECT_EQ(bytes[11], 10) << "log2 N as asked";
    EXPECT_EQ(bytes.find("customer nl-"), std::string::npos) << "nothing readable";
    EXPECT_LT(bytes.size(), original_.size()) << "compressed";

    auto content = open_backup(archive, dir_ / "restored.db", kPassphrase);
    ASSERT_TRUE(content) << content.error();
    EXPECT_EQ(*content, BackupContent::sqlite_database);
    EXPECT_TRUE(read(dir_ / "restored.db") == original_);
    EXPECT_EQ(files(), (std::vector<std::string>{"bot.db", "bot.db.nlbk", "restored.db"}));
}

TEST_F(BackupArchiveTest, EachArchiveHasItsOwnSaltAndNonce) {
    const std::string first = read(sealed("a.nlbk"));
    const std::string second = read(sealed("b.nlbk"));
    EXPECT_NE(first.substr(16, 28), second.substr(16, 28));
    EXPECT_NE(first.substr(44, 64), second.substr(44, 64));
}

TEST_F(BackupArchiveTest, AnEmptyFileRoundTrips) {
    write(dir_ / "empty", "");
    ASSERT_TRUE(
        seal_backup(dir_ / "empty", dir_ / "empty.nlbk", BackupContent::postgres_dump, kPassphrase, kCheap));
    auto content = open_backup(dir_ / "empty.nlbk", dir_ / "empty.out", kPassphrase);
    ASSERT_TRUE(content) << content.error();
    EXPECT_EQ(*content, BackupContent::postgres_dump);
    EXPECT_EQ(read(dir_ / "empty.out"), "");
}

TEST_F(BackupArchiveTest, WrongPassphraseLeavesNothingBehind) {
    const auto archive = sealed();
    auto content = open_backup(archive, dir_ / "restored.db", "correct horse battery stapler");
    ASSERT_FALSE(content);
    EXPECT_NE(content.error().find("wrong passphrase"), std::string::npos) << content.error();
    EXPECT_EQ(files(), (std::vector<std::string>{"bot.db", "bot.db.nlbk"}));
}

TEST_F(BackupArchiveTest, AnyChangedByteIsRefused) {
    const std::string bytes = read(sealed());
    // Every header byte, bytes through the contents, and the tag.
    std::vector<std::size_t> positions;
    for (std::size_t i = 0; i < 44; ++i) positions.push_back(i);
    for (std::size_t i = 44; i < bytes.size(); i += bytes.size() / 37) positions.push_back(i);
    for (std::size_t i = bytes.size() - 16; i < bytes.size(); ++i) positions.push_back(i);
    for (const std::size_t i : positions) {
        std::string changed = bytes;
        changed[i] = static_cast<char>(changed[i] ^ 0x20);
        write(dir_ / "changed.nlbk", changed);
        EXPECT_FALSE(open_backup(dir_ / "changed.nlbk", dir_ / "out.db", kPassphrase)) << "byte " << i;
        EXPECT_FALSE(fs::exists(dir_ / "out.db")) << "byte " << i;
        EXPECT_FALSE(fs::exists(dir_ / "out.db.partial")) << "byte " << i;
    }
}

TEST_F(BackupArchiveTest, CutShortOrNotAnArchiveIsRefused) {
    const std::string bytes = read(sealed());
    for (const std::size_t size : {std::size_t{0}, std::size_t{8}, std::size_t{43}, std::size_t{60},
                                   bytes.size() / 2, bytes.size() - 1}) {
        write(dir_ / "cut.nlbk", bytes.substr(0, size));
        EXPECT_FALSE(open_backup(dir_ / "cut.nlbk", dir_ / "out.db", kPassphrase)) << size;
        EXPECT_FALSE(fs::exists(dir_ / "out.db")) << size;
    }
    auto plain = open_backup(dir_ / "bot.db", dir_ / "out.db", kPassphrase);
    ASSERT_FALSE(plain);
    EXPECT_NE(plain.error().find("not a NebulaLinks backup archive"), std::string::npos) << plain.error();
    EXPECT_FALSE(open_backup(dir_ / "missing.nlbk", dir_ / "out.db", kPassphrase));
}

TEST_F(BackupArchiveTest, AnUnboundedCostIsRefusedBeforeAnyWork) {
    std::string bytes = read(sealed());
    bytes[11] = 40;  // N = 2^40 would need terabytes
    write(dir_ / "costly.nlbk", bytes);
    auto content = open_backup(dir_ / "costly.nlbk", dir_ / "out.db", kPassphrase);
    ASSERT_FALSE(content);
    EXPECT_NE(content.error().find("cost out of bounds"), std::string::npos) << content.error();
}

TEST_F(BackupArchiveTest, NeverWritesOverAnExistingFile) {
    const auto archive = sealed();
    write(dir_ / "live.db", "the live database");
    auto content = open_backup(archive, dir_ / "live.db", kPassphrase);
    ASSERT_FALSE(content);
    EXPECT_NE(content.error().find("already exists"), std::string::npos) << content.error();
    EXPECT_EQ(read(dir_ / "live.db"), "the live database");

    EXPECT_FALSE(seal_backup(dir_ / "bot.db", archive, BackupContent::sqlite_database, kPassphrase, kCheap));
    EXPECT_FALSE(seal_backup(dir_ / "bot.db", dir_ / "x.nlbk", BackupContent::sqlite_database, "", kCheap));
    EXPECT_FALSE(seal_backup(dir_ / "missing.db", dir_ / "y.nlbk", BackupContent::sqlite_database,
                             kPassphrase, kCheap));
    EXPECT_FALSE(fs::exists(dir_ / "y.nlbk"));
}

}  // namespace
}  // namespace nebula::bot::db
