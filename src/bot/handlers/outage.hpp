#pragma once

#include <optional>

#include "bot/handlers/context.hpp"
#include "bot/handlers/router.hpp"

namespace nebula::bot::handlers {

/// The admins' "Tell its customers" button on the health job's server-down alert
/// (`outage:<server>:<incident>`): queues an outage notice for the server's customers and sends
/// them (`pointer_channel`: NOTICE_CHANNEL_ID, see notify::deliver_notices()).
void register_outage_handlers(Router& router, BotContext& ctx,
                              std::optional<discord::Snowflake> pointer_channel);

}  // namespace nebula::bot::handlers
