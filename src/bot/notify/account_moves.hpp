#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "bot/core/context.hpp"
#include "bot/domain/account_moves.hpp"

namespace nebula::bot::notify {

/// Where a run of a move got to.
struct MoveRun {
    std::optional<domain::AccountMove> move;  ///< the move after the run (none: no such move)
    std::optional<std::string> error;         ///< why it stopped before done; the next run resumes
};

/// Takes a move (domain::AccountMover) from wherever it stands to done: the new client created
/// and the account switched to it, the customer given the new link, QR code and subscription URL
/// (by DM, else where only they and the admins can read; after five failed attempts the move goes
/// on and the review channel is asked to pass the link on), then the old client removed. A second
/// call for a move this process is running returns at once.
boost::asio::awaitable<MoveRun> run_account_move(core::BotContext& ctx, std::int64_t move);

/// Resumes every move not done yet (the reconciler, and start-up after a crash); how many are done.
boost::asio::awaitable<int> resume_account_moves(core::BotContext& ctx);

/// resume_account_moves() in the background (start-up).
void resume_account_moves_in_background(core::BotContext& ctx);

}  // namespace nebula::bot::notify
