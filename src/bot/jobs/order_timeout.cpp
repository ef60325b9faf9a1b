// The order-timeout job: unpaid orders expired (their customers told), admins reminded of
// receipts waiting for review.
#include <spdlog/spdlog.h>

#include "bot/domain/notices.hpp"
#include "bot/jobs/jobs.hpp"

namespace nebula::bot::jobs {
namespace asio = boost::asio;
using discord::MessagePayload;
using domain::Timestamp;
using ui::Msg;

namespace {

/// Unpaid orders expired this recently are announced even if the run that expired them died.
constexpr auto kOrderNoticeWindow = std::chrono::days(7);

}  // namespace

// ---- order timeout ----

asio::awaitable<JobResult> Jobs::expire_orders() {
    const auto now = clock_now();
    auto expired = co_await ctx_.db.run([&](db::Connection& c) {
        auto orders = ctx_.orders.expire_unpaid(c);
        // Also orders a previous run expired but died before queueing their notice.
        domain::queue_order_expired_notices(c, now, now - kOrderNoticeWindow);
        return orders.size();
    });
    auto notices = co_await deliver_notices();
    const int reminded = co_await remind_unreviewed();
    std::string summary = std::to_string(expired) + " order(s) expired; " + std::to_string(notices.sent) +
                          " notice(s) sent, " + std::to_string(notices.failed) + " not delivered; " +
                          std::to_string(reminded) + " review reminder(s)";
    if (notices.failed > 0) co_return common::unexpected(summary);
    co_return summary;
}

asio::awaitable<int> Jobs::remind_unreviewed() {
    // A receipt nobody reviewed within the order timeout: admins are reminded once (the customer
    // can cancel it meanwhile). Posted, then recorded: a crash in between reminds them twice.
    const auto timeout = ctx_.orders.options().unpaid_timeout;
    const auto before = clock_now() - timeout;
    auto waiting = co_await ctx_.db.run([&](db::Connection& c) { return ctx_.orders.unreviewed(c, before); });
    int reminded = 0;
    for (const auto& order : waiting) {
        const auto locale = ctx_.shop.default_locale;
        MessagePayload payload;
        payload.content =
            ui::tr(locale, Msg::job_review_reminder,
                   {{"reference", order.reference},
                    {"duration", ui::format_duration(locale, clock_now() - *order.submitted_at)}});
        auto posted = co_await ctx_.rest.create_message(ctx_.shop.review_channel_id, std::move(payload));
        if (!posted) {
            spdlog::warn("order {}: review reminder not posted: {}", order.reference,
                         posted.error().describe());
            continue;
        }
        const auto id = order.id;
        co_await ctx_.db.run([&](db::Connection& c) { ctx_.orders.mark_review_reminded(c, id); });
        ++reminded;
    }
    co_return reminded;
}

}  // namespace nebula::bot::jobs
