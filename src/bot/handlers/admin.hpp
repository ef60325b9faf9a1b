#pragma once

#include "bot/handlers/context.hpp"
#include "bot/handlers/router.hpp"

namespace nebula::bot::handlers {

/// Registers the `/admin ...` commands (every path except "admin setup", which the panel module
/// owns), their autocomplete and any admin buttons/modals. Called once by the app at start-up,
/// after the customer modules. Defined in admin*.cpp.
void register_admin_handlers(Router& router, BotContext& ctx);

}  // namespace nebula::bot::handlers
