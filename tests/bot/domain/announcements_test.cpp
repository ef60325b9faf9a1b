// Announcements in the domain: audiences, the opt-in, the DM outbox claimed exactly once (also by
// two senders racing), cancel, and a sender that stopped mid-send.
#include <gtest/gtest.h>

#include <latch>
#include <mutex>
#include <set>
#include <thread>

#include "bot/domain/announcements.hpp"
#include "bot/domain/audit.hpp"
#include "common/crypto.hpp"
#include "domain_fixture.hpp"

namespace nebula::bot::domain {
namespace {

using namespace std::chrono_literals;

const domain::DiscordId kAdmin{100000000000000001ULL};
const domain::DiscordId kOtherAdmin{100000000000000002ULL};

class AnnouncementsTest : public testing::DomainTest {
  protected:
    void SetUp() override {
        DomainTest::SetUp();
        if (HasFatalFailure()) return;
        server_ = make_server("eu-1");
        other_server_ = make_server("us-1");
    }

    Timestamp now() { return to_timestamp(clock_.now()); }
    std::int64_t count(const std::string& sql) { return *conn().scalar<std::int64_t>(sql); }

    /// A customer, opted in to announcement DMs or not, with an account of `status` on `server`
    /// (no account when status is empty).
    UserId customer(std::uint64_t n, bool opted_in, const std::string& status, ServerId server) {
        const auto user = make_user(std::to_string(200000000000000000ULL + n));
        if (opted_in) announcements::set_dm_opt_in(conn(), user, true, now());
        if (!status.empty()) {
            auto placed = orders_->place(conn(), user, plan_);
            EXPECT_TRUE(placed.has_value());
            conn().exec(
                "INSERT INTO vpn_accounts (user_id, server_id, order_id, client_email, client_uuid, sub_id, "
                "inbound_id, expires_at, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 's', 1, 0, "
                "?, 0, "
                "0)",
                user, server, placed->order.id, client_email_for(placed->order.id), common::uuid_v4(),
                status);
        }
        return user;
    }

    Announcement draft(Audience audience, std::optional<ServerId> server = std::nullopt) {
        auto made = announcements::create(conn(), kAdmin, audience, server, "  Maintenance tonight  ", now());
        EXPECT_TRUE(made.has_value()) << made.error().message;
        return *made;
    }

    ServerId server_;
    ServerId other_server_;
};

TEST_P(AnnouncementsTest, DraftsAreValidatedAndAudited) {
    const auto made = draft(Audience::all);
    EXPECT_EQ(made.message, "Maintenance tonight");
    EXPECT_EQ(made.status, AnnouncementStatus::draft);
    EXPECT_FALSE(announcements::create(conn(), kAdmin, Audience::all, std::nullopt, "   ", now()));
    EXPECT_FALSE(
        announcements::create(conn(), kAdmin, Audience::all, std::nullopt, std::string(1801, 'x'), now()));
    // 1,800 Arabic letters are 3,600 bytes but 1,800 characters: allowed.
    std::string arabic;
    for (int i = 0; i < 1800; ++i) arabic += "ب";
    EXPECT_TRUE(announcements::create(conn(), kAdmin, Audience::all, std::nullopt, arabic, now()));
    EXPECT_FALSE(announcements::create(conn(), kAdmin, Audience::server, std::nullopt, "hi", now()));
    EXPECT_FALSE(announcements::create(conn(), kAdmin, Audience::server, ServerId{9999}, "hi", now()));
    const auto trail = audit_for(conn(), "announcement", std::to_string(made.id.value));
    ASSERT_EQ(trail.size(), 1u);
    EXPECT_EQ(trail[0].entry.action, "announcement.created");
}

TEST_P(AnnouncementsTest, EachAudienceReachesOnlyItsOptedInCustomers) {
    const auto active = customer(1, true, "active", server_);
    const auto active_quiet = customer(2, false, "active", server_);
    const auto expired = customer(3, true, "expired", server_);
    const auto elsewhere = customer(4, true, "active", other_server_);
    const auto no_account = customer(5, true, "", server_);
    const auto banned = customer(6, true, "active", server_);
    conn().exec("UPDATE users SET status = 'banned' WHERE id = ?", banned);
    (void)active_quiet;

    const auto recipients = [&](Audience audience, std::optional<ServerId> server) {
        const auto a = draft(audience, server);
        EXPECT_EQ(announcements::dm_recipients(conn(), audience, server),
                  *announcements::confirm(conn(), a.id, kAdmin, now()));
        std::set<std::int64_t> users;
        auto rows =
            conn().query("SELECT user_id FROM announcement_recipients WHERE announcement_id = ?", a.id);
        while (rows->step()) users.insert(rows->get<std::int64_t>(0));
        return users;
    };
    EXPECT_EQ(recipients(Audience::all, std::nullopt),
              (std::set<std::int64_t>{active.value, expired.value, elsewhere.value, no_account.value}));
    EXPECT_EQ(recipients(Audience::active, std::nullopt),
              (std::set<std::int64_t>{active.value, elsewhere.value}));
    EXPECT_EQ(recipients(Audience::expired, std::nullopt), (std::set<std::int64_t>{expired.value}));
    EXPECT_EQ(recipients(Audience::server, other_server_), (std::set<std::int64_t>{elsewhere.value}));
}

TEST_P(AnnouncementsTest, OnlyItsAuthorConfirmsADraftAndOnlyOnce) {
    customer(1, true, "active", server_);
    const auto a = draft(Audience::all);
    const auto stranger = announcements::confirm(conn(), a.id, kOtherAdmin, now());
    ASSERT_FALSE(stranger);
    EXPECT_EQ(stranger.error().code, ErrorCode::forbidden);
    EXPECT_EQ(*announcements::confirm(conn(), a.id, kAdmin, now()), 1);
    const auto again = announcements::confirm(conn(), a.id, kAdmin, now());
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, ErrorCode::invalid_transition);
    EXPECT_EQ(count("SELECT COUNT(*) FROM announcement_recipients"), 1);
    const auto trail = audit_for(conn(), "announcement", std::to_string(a.id.value));
    ASSERT_EQ(trail.size(), 2u);
    EXPECT_EQ(trail[1].entry.action, "announcement.confirmed");
    EXPECT_EQ(trail[1].entry.actor, kAdmin.str());
}

TEST_P(AnnouncementsTest, EveryRowIsClaimedOnceAndProgressAddsUp) {
    for (std::uint64_t n = 1; n <= 5; ++n) customer(n, true, "", server_);
    const auto a = draft(Audience::all);
    ASSERT_EQ(*announcements::confirm(conn(), a.id, kAdmin, now()), 5);
    auto first = announcements::claim(conn(), 3, now());
    ASSERT_EQ(first.size(), 3u);
    announcements::mark_sent(conn(), first[0], now());
    announcements::mark_failed(conn(), first[1], "DMs closed (50007)", now());
    announcements::release(conn(), first[2], "rate limited", now());
    auto p = announcements::progress(conn(), a.id);
    EXPECT_EQ(p.sent, 1);
    EXPECT_EQ(p.failed, 1);
    EXPECT_EQ(p.remaining, 3);
    auto rest = announcements::claim(conn(), 10, now());
    ASSERT_EQ(rest.size(), 3u);  // the released one again, and the two never tried
    for (const auto& c : rest) announcements::mark_sent(conn(), c, now());
    EXPECT_TRUE(announcements::claim(conn(), 10, now()).empty());
    EXPECT_EQ(announcements::finish(conn(), now()), std::vector<AnnouncementId>{a.id});
    EXPECT_EQ(announcements::get(conn(), a.id)->status, AnnouncementStatus::done);
    p = announcements::progress(conn(), a.id);
    EXPECT_EQ(p.sent, 4);
    EXPECT_EQ(p.failed, 1);
    EXPECT_EQ(p.remaining, 0);
}

TEST_P(AnnouncementsTest, ARowReleasedTooOftenIsGivenUp) {
    customer(1, true, "", server_);
    const auto a = draft(Audience::all);
    ASSERT_EQ(*announcements::confirm(conn(), a.id, kAdmin, now()), 1);
    for (int i = 0; i < announcements::kMaxAttempts; ++i) {
        auto claimed = announcements::claim(conn(), 1, now());
        ASSERT_EQ(claimed.size(), 1u) << "attempt " << i;
        announcements::release(conn(), claimed[0], "rate limited", now());
    }
    EXPECT_TRUE(announcements::claim(conn(), 1, now()).empty());
    EXPECT_EQ(announcements::progress(conn(), a.id).failed, 1);
}

TEST_P(AnnouncementsTest, TwoSendersRacingNeverClaimTheSameRow) {
    constexpr int kCustomers = 40;
    for (int n = 1; n <= kCustomers; ++n) customer(static_cast<std::uint64_t>(n), true, "", server_);
    const auto a = draft(Audience::all);
    ASSERT_EQ(*announcements::confirm(conn(), a.id, kAdmin, now()), kCustomers);
    std::mutex mutex;
    std::vector<std::pair<std::int64_t, std::int64_t>> claimed;
    std::latch go(2);
    std::vector<std::thread> senders;
    for (int s = 0; s < 2; ++s) {
        senders.emplace_back([&] {
            auto connection = db().connect();
            go.arrive_and_wait();
            for (;;) {
                // Both read the same candidates; the guarded UPDATE gives each row to one.
                auto batch = announcements::claim(*connection, 7, now());
                if (batch.empty()) {
                    if (connection->scalar<std::int64_t>(
                            "SELECT COUNT(*) FROM announcement_recipients WHERE status = 'pending'") == 0)
                        break;
                    continue;
                }
                for (const auto& c : batch) {
                    announcements::mark_sent(*connection, c, now());
                    const std::scoped_lock lock(mutex);
                    claimed.emplace_back(c.announcement.value, c.user.value);
                }
            }
        });
    }
    for (auto& t : senders) t.join();
    const std::set<std::pair<std::int64_t, std::int64_t>> distinct(claimed.begin(), claimed.end());
    EXPECT_EQ(claimed.size(), static_cast<std::size_t>(kCustomers));
    EXPECT_EQ(distinct.size(), claimed.size());
    EXPECT_EQ(count("SELECT COUNT(*) FROM announcement_recipients WHERE status = 'sent' AND attempts = 1"),
              kCustomers);
}

TEST_P(AnnouncementsTest, CancelDropsWhatIsLeftKeepsWhatWasSentAndIsAudited) {
    for (std::uint64_t n = 1; n <= 4; ++n) customer(n, true, "", server_);
    const auto a = draft(Audience::all);
    ASSERT_EQ(*announcements::confirm(conn(), a.id, kAdmin, now()), 4);
    auto claimed = announcements::claim(conn(), 2, now());
    ASSERT_EQ(claimed.size(), 2u);
    announcements::mark_sent(conn(), claimed[0], now());
    // Another admin may stop an announcement being sent.
    const auto stopped = announcements::cancel(conn(), a.id, kOtherAdmin, now());
    ASSERT_TRUE(stopped.has_value()) << stopped.error().message;
    EXPECT_EQ(stopped->sent, 1);
    EXPECT_EQ(stopped->dropped, 2);
    EXPECT_EQ(stopped->remaining, 1);  // the one being sent right now finishes
    announcements::mark_sent(conn(), claimed[1], now());
    EXPECT_TRUE(announcements::claim(conn(), 10, now()).empty());
    EXPECT_EQ(announcements::get(conn(), a.id)->status, AnnouncementStatus::cancelled);
    EXPECT_FALSE(announcements::cancel(conn(), a.id, kAdmin, now()));
    const auto trail = audit_for(conn(), "announcement", std::to_string(a.id.value));
    ASSERT_EQ(trail.size(), 3u);
    EXPECT_EQ(trail[2].entry.action, "announcement.cancelled");
    EXPECT_EQ(trail[2].entry.actor, kOtherAdmin.str());
    EXPECT_EQ((*trail[2].entry.after)["dms_dropped"], 2);

    // A draft: only its author may cancel it.
    const auto b = draft(Audience::all);
    EXPECT_EQ(announcements::cancel(conn(), b.id, kOtherAdmin, now()).error().code, ErrorCode::forbidden);
    EXPECT_TRUE(announcements::cancel(conn(), b.id, kAdmin, now()).has_value());
    EXPECT_FALSE(announcements::confirm(conn(), b.id, kAdmin, now()));
}

TEST_P(AnnouncementsTest, ASenderThatStoppedMidSendIsResumedWithoutSendingAnyoneTwice) {
    for (std::uint64_t n = 1; n <= 3; ++n) customer(n, true, "", server_);
    const auto a = draft(Audience::all);
    ASSERT_EQ(*announcements::confirm(conn(), a.id, kAdmin, now()), 3);
    // The first sender claimed two rows, sent one and stopped before marking the second.
    auto held = announcements::claim(conn(), 2, now());
    ASSERT_EQ(held.size(), 2u);
    announcements::mark_sent(conn(), held[0], now());

    // After a restart: a fresh claim does not hand out the row in flight...
    clock_.advance(1min);
    auto next = announcements::claim(conn(), 10, now());
    ASSERT_EQ(next.size(), 1u);
    EXPECT_NE(next[0].user, held[1].user);
    announcements::mark_sent(conn(), next[0], now());
    EXPECT_TRUE(announcements::finish(conn(), now()).empty()) << "one row is still being sent";
    // ... and once its claim is old, it is settled as unknown (counted as sent), never resent.
    clock_.advance(15min);
    EXPECT_EQ(announcements::settle_interrupted(conn(), now() - 10min, now()), 1);
    EXPECT_TRUE(announcements::claim(conn(), 10, now()).empty());
    EXPECT_EQ(announcements::finish(conn(), now()).size(), 1u);
    const auto p = announcements::progress(conn(), a.id);
    EXPECT_EQ(p.sent, 2);
    EXPECT_EQ(p.unknown, 1);
    EXPECT_EQ(p.remaining, 0);
    EXPECT_EQ(count("SELECT MAX(attempts) FROM announcement_recipients"), 1);
}

TEST_P(AnnouncementsTest, TurningDmsOffDropsTheCustomersWaitingDms) {
    const auto quitter = customer(1, true, "", server_);
    customer(2, true, "", server_);
    EXPECT_TRUE(announcements::dm_opt_in(conn(), quitter));
    const auto a = draft(Audience::all);
    ASSERT_EQ(*announcements::confirm(conn(), a.id, kAdmin, now()), 2);
    announcements::set_dm_opt_in(conn(), quitter, false, now());
    EXPECT_FALSE(announcements::dm_opt_in(conn(), quitter));
    auto claimed = announcements::claim(conn(), 10, now());
    ASSERT_EQ(claimed.size(), 1u);
    EXPECT_NE(claimed[0].user, quitter);
    EXPECT_EQ(announcements::progress(conn(), a.id).dropped, 1);
    // Off by default for a new customer.
    EXPECT_FALSE(announcements::dm_opt_in(conn(), make_user("300000000000000001")));
}

NEBULA_INSTANTIATE_FOR_BACKENDS(AnnouncementsTest);

}  // namespace
}  // namespace nebula::bot::domain
