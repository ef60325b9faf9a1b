#include "bot/handlers/customer.hpp"

#include "bot/handlers/customer_flows.hpp"

namespace nebula::bot::handlers {

void register_customer_handlers(Router& router, BotContext& ctx) {
    customer::register_panel_routes(router);
    customer::register_ordering_routes(router, ctx);
    customer::register_receipt_routes(router, ctx);
    customer::register_account_routes(router);
    customer::register_growth_routes(router);
    customer::register_announcement_routes(router);
}

}  // namespace nebula::bot::handlers
