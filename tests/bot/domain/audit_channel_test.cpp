// The audit channel's outbox and the daily usage history, on both backends.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "bot/domain/account_sweeps.hpp"
#include "bot/domain/audit.hpp"
#include "bot/domain/usage_history.hpp"
#include "bot/ui/audit_line.hpp"
#include "common/crypto.hpp"
#include "domain_fixture.hpp"

namespace nebula::bot::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace domain;

const domain::DiscordId kAuditChannel{100000000000000050ULL};
const domain::DiscordId kAdmin{100000000000000001ULL};

class AuditChannelTest : public DomainTest {
  protected:
    std::vector<std::int64_t> outbox_ids() {
        std::vector<std::int64_t> ids;
        for (const auto& record : audit_outbox(conn(), 100)) ids.push_back(record.id);
        return ids;
    }
    std::vector<std::int64_t> audit_ids() {
        std::vector<std::int64_t> ids;
        auto rows = conn().query("SELECT id FROM audit_logs ORDER BY id");
        while (rows->step()) ids.push_back(rows->get<std::int64_t>(0));
        return ids;
    }
    /// An active account of a new customer on a new server, expiring at `expires_at`.
    AccountId make_account(Timestamp expires_at = Timestamp{}) {
        const auto user = make_user("1000000000000001" + std::to_string(10 + accounts_made_));
        const auto order = order_under_review(user, "receipt-" + std::to_string(accounts_made_));
        if (!server_) server_ = make_server("fra-1");
        ++accounts_made_;
        return *conn().scalar<AccountId>(
            "INSERT INTO vpn_accounts (user_id, server_id, order_id, client_email, client_uuid, sub_id, "
            "inbound_id, expires_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 's', 1, ?, 0, 0) "
            "RETURNING id",
            user, *server_, order.id, "client-" + std::to_string(accounts_made_) + "@nebula",
            common::uuid_v4(), expires_at);
    }
    std::map<std::string, std::int64_t> history(AccountId account) {
        std::map<std::string, std::int64_t> out;
        for (const auto& day : usage_history::days(conn(), account, "2000-01-01", "2999-12-31"))
            out[day.day] = day.used_bytes;
        return out;
    }

    std::optional<ServerId> server_;
    int accounts_made_ = 0;
};

TEST_P(AuditChannelTest, WithoutAnAuditChannelNothingIsQueued) {
    make_plan("Weekly", 7, 10LL << 30, Piasters::from_pounds(50));
    EXPECT_FALSE(audit_ids().empty());
    EXPECT_EQ(audit_outbox_size(conn()), 0);
    EXPECT_FALSE(audit_channel(conn()).has_value());
}

TEST_P(AuditChannelTest, EveryEntryIsQueuedInItsTransactionAndReadOldestFirst) {
    set_audit_channel(conn(), kAuditChannel, to_timestamp(clock_.now()));
    EXPECT_EQ(audit_channel(conn()), kAuditChannel);
    const auto before = audit_ids().size();
    make_plan("Weekly", 7, 10LL << 30, Piasters::from_pounds(50));
    make_server("ams-1");
    const auto all = audit_ids();
    ASSERT_EQ(all.size(), before + 2);
    EXPECT_EQ(outbox_ids(),
              std::vector<std::int64_t>(all.begin() + static_cast<std::ptrdiff_t>(before), all.end()));

    // A change rolled back takes its entry and its outbox row with it.
    EXPECT_THROW(db::in_transaction(conn(),
                                    [&](db::Connection& t) {
                                        record_audit(t,
                                                     {kAdmin.str(), "plan.updated", "plan", "1", std::nullopt,
                                                      nlohmann::json{{"price", 1}}},
                                                     to_timestamp(clock_.now()));
                                        throw std::runtime_error("the change failed");
                                    }),
                 std::runtime_error);
    EXPECT_EQ(audit_ids().size(), before + 2);
    EXPECT_EQ(audit_outbox_size(conn()), 2);

    // Posted entries leave the outbox; the next one is then the oldest.
    const auto queued = outbox_ids();
    audit_posted(conn(), queued.front());
    EXPECT_EQ(outbox_ids(), std::vector<std::int64_t>{queued.back()});
    const auto records = audit_outbox(conn(), 1);
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].entry.action, "server.created");

    // Turning the channel off stops the queueing and drops what was waiting.
    set_audit_channel(conn(), std::nullopt, to_timestamp(clock_.now()));
    EXPECT_EQ(audit_outbox_size(conn()), 0);
    make_plan("Daily", 1, 1LL << 30, Piasters::from_pounds(10));
    EXPECT_EQ(audit_outbox_size(conn()), 0);
}

TEST_P(AuditChannelTest, EntriesAJobWritesManyAtATimeAreQueuedToo) {
    const auto first = make_account(to_timestamp(clock_.now()) - std::chrono::hours(1));
    const auto second = make_account(to_timestamp(clock_.now()) - std::chrono::hours(1));
    set_audit_channel(conn(), kAuditChannel, to_timestamp(clock_.now()));
    std::vector<DueAccount> due;
    for (const auto id : {first, second}) {
        auto row =
            conn().query("SELECT user_id, client_email, expires_at FROM vpn_accounts WHERE id = ?", id);
        ASSERT_TRUE(row->step());
        due.push_back({id, row->get<UserId>(0), row->get<std::string>(1), row->get<Timestamp>(2)});
    }
    EXPECT_EQ(account_sweeps::mark_expired(conn(), due, to_timestamp(clock_.now())), 2);
    const auto queued = audit_outbox(conn(), 10);
    ASSERT_EQ(queued.size(), 2u);
    EXPECT_EQ(queued[0].entry.action, "account.expired");
    EXPECT_EQ(queued[0].entry.target_id, std::to_string(first.value));
    EXPECT_EQ(queued[1].entry.target_id, std::to_string(second.value));
    EXPECT_LT(queued[0].id, queued[1].id);
}

TEST_P(AuditChannelTest, TheChannelLineNeverCarriesTheServerKey) {
    set_audit_channel(conn(), kAuditChannel, to_timestamp(clock_.now()));
    const std::string key = "k3y-" + std::string(40, 'z');
    auto server = catalog_.create_server(conn(), kAdmin,
                                         {"par-1", "Paris", "https://par.example:8443", key, "", 1, 100, 1});
    ASSERT_TRUE(server.has_value()) << server.error().message;
    const auto queued = audit_outbox(conn(), 10);
    ASSERT_FALSE(queued.empty());
    for (const auto& record : queued) {
        const auto line = ui::audit_line(record);
        EXPECT_THAT(line, Not(HasSubstr(key)));
        EXPECT_THAT(line, Not(HasSubstr("zzzzzzzz")));
        EXPECT_THAT(line, HasSubstr("<@" + kAdmin.str() + ">"));
        EXPECT_THAT(line, HasSubstr("`server.created` server #" + std::to_string(server->id.value)));
    }
}

TEST_P(AuditChannelTest, UsageHistoryStoresEachDaysDifference) {
    const auto account = make_account();
    usage_history::record(conn(), {{account, 100}}, "2026-03-01");  // first reading: all of it
    usage_history::record(conn(), {{account, 250}}, "2026-03-01");  // same day: +150
    usage_history::record(conn(), {{account, 400}}, "2026-03-02");
    EXPECT_EQ(history(account),
              (std::map<std::string, std::int64_t>{{"2026-03-01", 250}, {"2026-03-02", 150}}));
}

TEST_P(AuditChannelTest, UsageHistoryToleratesACounterResetAndMissedDays) {
    const auto account = make_account();
    const auto other = make_account();
    usage_history::record(conn(), {{account, 1000}, {other, 10}}, "2026-03-01");
    // The panel's counter was reset (a renewal): the whole new counter was used since.
    usage_history::record(conn(), {{account, 300}, {other, 20}}, "2026-03-02");
    // No reading on the 3rd and 4th: what was used meanwhile lands on the 5th; nothing is lost.
    usage_history::record(conn(), {{account, 900}, {other, 20}}, "2026-03-05");
    EXPECT_EQ(history(account), (std::map<std::string, std::int64_t>{
                                    {"2026-03-01", 1000}, {"2026-03-02", 300}, {"2026-03-05", 600}}));
    EXPECT_EQ(history(other), (std::map<std::string, std::int64_t>{
                                  {"2026-03-01", 10}, {"2026-03-02", 10}, {"2026-03-05", 0}}));
    // A range reads only its days.
    const auto middle = usage_history::days(conn(), account, "2026-03-02", "2026-03-04");
    ASSERT_EQ(middle.size(), 1u);
    EXPECT_EQ(middle[0].day, "2026-03-02");
    // Old days are pruned.
    EXPECT_EQ(usage_history::prune(conn(), "2026-03-02"), 2);
    EXPECT_EQ(history(account).size(), 2u);
    // The base survives pruning: the next reading still counts only its difference.
    usage_history::record(conn(), {{account, 950}}, "2026-03-06");
    EXPECT_EQ(history(account).at("2026-03-06"), 50);
}

TEST_P(AuditChannelTest, TheTrafficReadingFillsTheHistory) {
    const auto account = make_account(to_timestamp(clock_.now()) + std::chrono::days(30));
    const std::string email =
        *conn().scalar<std::string>("SELECT client_email FROM vpn_accounts WHERE id = ?", account);
    TrafficEntry first{email, 100, 400, 0, 0, true};
    std::map<std::string, const TrafficEntry*, std::less<>> usage{{email, &first}};
    account_sweeps::record_traffic(conn(), *server_, usage, {80, 95}, to_timestamp(clock_.now()),
                                   "2026-03-01");
    TrafficEntry second{email, 200, 500, 0, 0, true};
    usage[email] = &second;
    account_sweeps::record_traffic(conn(), *server_, usage, {80, 95}, to_timestamp(clock_.now()),
                                   "2026-03-02");
    EXPECT_EQ(history(account),
              (std::map<std::string, std::int64_t>{{"2026-03-01", 500}, {"2026-03-02", 200}}));
}

NEBULA_INSTANTIATE_FOR_BACKENDS(AuditChannelTest);

}  // namespace
}  // namespace nebula::bot::testing
