// The audit-channel job: the audit outbox posted to AUDIT_CHANNEL_ID, oldest entry first.
#include <spdlog/spdlog.h>

#include "bot/domain/audit.hpp"
#include "bot/jobs/jobs.hpp"
#include "bot/ui/audit_line.hpp"

namespace nebula::bot::jobs {
namespace asio = boost::asio;

asio::awaitable<JobResult> Jobs::post_audit_channel() {
    if (!config_.audit_channel) co_return "no audit channel";
    const auto channel = *config_.audit_channel;
    const int batch = config_.audit_channel_batch;
    auto queued = co_await ctx_.db.run([batch](db::Connection& c) { return domain::audit_outbox(c, batch); });
    int posted = 0;
    for (const auto& record : queued) {
        discord::MessagePayload payload;
        payload.content = ui::audit_line(record);
        // The same nonce for every attempt at this entry: a repeat within Discord's nonce window
        // returns the message already posted instead of posting it again.
        payload.nonce = "audit-" + std::to_string(record.id);
        auto sent = co_await ctx_.rest.create_message(channel, std::move(payload));
        if (!sent) {
            // Stop here: the next run starts again from this entry, so none is skipped or
            // overtaken. Rate limits were already waited out by the REST client.
            co_return common::unexpected(std::to_string(posted) + " audit line(s) posted; entry " +
                                         std::to_string(record.id) +
                                         " not posted: " + sent.error().describe());
        }
        const auto id = record.id;
        co_await ctx_.db.run([id](db::Connection& c) { domain::audit_posted(c, id); });
        ++posted;
    }
    co_return std::to_string(posted) + " audit line(s) posted";
}

}  // namespace nebula::bot::jobs
