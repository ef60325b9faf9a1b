// The reconciler: approved orders provisioned and delivered, order channels and review cards a
// crash left unfinished completed, closing schedules of other processes resumed.
#include <fstream>
#include <iterator>

#include <spdlog/spdlog.h>

#include "bot/jobs/jobs.hpp"
#include "bot/notify/account_moves.hpp"
#include "bot/notify/channel_closer.hpp"
#include "bot/notify/delivery.hpp"
#include "bot/notify/order_channel.hpp"
#include "bot/notify/referrals.hpp"
#include "bot/notify/review_card.hpp"

namespace nebula::bot::jobs {
namespace asio = boost::asio;
using discord::MessagePayload;
using domain::Timestamp;
using ui::Msg;

// ---- reconciler ----

asio::awaitable<JobResult> Jobs::reconcile() {
    const auto started = clock_now();
    // Order channels that a `nebula-bot jobs run` process finished get their closing timers here.
    notify::resume_channel_closers(ctx_);
    auto pending = co_await ctx_.db.run(
        [&](db::Connection& c) { return ctx_.orders.with_status(c, domain::OrderStatus::approved, 1000); });
    int fulfilled = 0, failed = 0;
    for (const auto& order : pending) {
        if (order.approved_at && *order.approved_at > started - config_.reconcile_settle) continue;
        auto result = co_await ctx_.provisioner.fulfil(order.id);
        if (!result) {
            ++failed;
            spdlog::warn("reconciler: order {} still not provisioned: {}", order.reference,
                         result.error().message);
            if (order.provision_attempts + 1 == config_.stuck_after_attempts) {
                MessagePayload payload;
                payload.content = ui::tr(ctx_.shop.default_locale, Msg::job_order_stuck,
                                         {{"reference", order.reference},
                                          {"attempts", order.provision_attempts + 1},
                                          {"error", result.error().message}});
                auto posted =
                    co_await ctx_.rest.create_message(ctx_.shop.review_channel_id, std::move(payload));
                if (!posted) spdlog::warn("reconciler: report not posted: {}", posted.error().describe());
            }
            continue;
        }
        ++fulfilled;
    }
    // Steps a crash (or Discord) interrupted before approval: order channels and review cards.
    const auto channels = co_await notify::repair_order_channels(ctx_);
    const auto cards = co_await repost_review_cards(started - config_.reconcile_settle);
    failed += channels.failed + cards.failed;
    // Deliveries of orders fulfilled just now, and whatever earlier deliveries still miss (a
    // crash after the commit, a Discord outage): the billing line names the automatic retry, a
    // customer who has left is reported in the review channel.
    const auto sweep = co_await notify::deliver_pending(ctx_, false);
    // Referral rewards owed by orders fulfilled meanwhile.
    const auto referrals = co_await notify::grant_referral_rewards(ctx_);
    // Account moves a crash or an outage left half done.
    const int moves = co_await notify::resume_account_moves(ctx_);
    std::string summary = std::to_string(fulfilled) + " order(s) provisioned, " + std::to_string(failed) +
                          " still failing; " + std::to_string(sweep.completed) +
                          " delivery(ies) completed, " + std::to_string(sweep.pending) + " still pending";
    if (channels.finished + channels.orphans_deleted + cards.sent > 0) {
        summary += "; " + std::to_string(channels.finished) + " order channel(s) completed, " +
                   std::to_string(channels.orphans_deleted) + " left-behind channel(s) deleted, " +
                   std::to_string(cards.sent) + " review card(s) posted";
    }
    if (moves > 0) summary += "; " + std::to_string(moves) + " account move(s) finished";
    if (referrals.granted > 0)
        summary += "; " + std::to_string(referrals.granted) + " referral reward(s) granted";
    if (failed > 0 || sweep.pending > 0) co_return common::unexpected(summary);
    co_return summary;
}

asio::awaitable<NoticeReport> Jobs::repost_review_cards(Timestamp submitted_before) {
    struct Missing {
        domain::SubmittedReceipt submitted;
        std::string image;
    };
    NoticeReport report;
    auto missing = co_await ctx_.db.run([&](db::Connection& c) {
        std::vector<Missing> out;
        for (auto& order : ctx_.orders.without_review_card(c, submitted_before)) {
            auto receipts = ctx_.orders.receipts(c, order.id);
            if (receipts.empty()) continue;
            // Blocking file work on a database thread, never on the Discord executor.
            std::ifstream in(receipts.back().file_path, std::ios::binary);
            std::string image((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
            out.push_back({{std::move(order), std::move(receipts.back())}, std::move(image)});
        }
        return out;
    });
    for (auto& m : missing) {
        const auto id = m.submitted.order.id;
        const std::string content_type = m.submitted.receipt.content_type;
        co_await notify::post_review_card(ctx_, m.submitted, std::move(m.image), content_type);
        const bool stored = co_await ctx_.db.run([&](db::Connection& c) {
            auto order = ctx_.orders.get(c, id);
            return order && order->review_message_id;
        });
        stored ? ++report.sent : ++report.failed;
    }
    co_return report;
}

}  // namespace nebula::bot::jobs
