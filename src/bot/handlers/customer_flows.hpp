#pragma once

// What the customer flows (panel.cpp, ordering.cpp, receipts.cpp, account.cpp) share; not a
// public interface: register_customer_handlers() in customer.hpp puts them on the router.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "bot/handlers/context.hpp"
#include "bot/handlers/router.hpp"

namespace nebula::bot::handlers::customer {

inline constexpr std::uint32_t kBrandColour = 0x5865F2;

/// A plan select (at most Discord's 25 options) under `prompt`, in the clicker's language.
discord::MessagePayload plan_select(const Call& call, const std::vector<domain::Plan>& plans,
                                    std::string custom_id, std::string prompt);
/// The chosen select-menu value as an id: a plain positive decimal within int64, else none.
std::optional<std::int64_t> selected_id(const Call& call);

/// The main panel's Buy Access, My Account and Renew buttons.
boost::asio::awaitable<void> press_buy(Call& call);
boost::asio::awaitable<void> my_account(Call& call);
boost::asio::awaitable<void> press_renew(Call& call);
/// The main panel's Free trial button (growth.cpp).
boost::asio::awaitable<void> press_trial(Call& call);

/// Each flow's routes.
void register_panel_routes(Router& router);
void register_ordering_routes(Router& router, BotContext& ctx);
void register_receipt_routes(Router& router, BotContext& ctx);
void register_account_routes(Router& router);
/// My Account's referral part (growth.cpp): the customer's code and the button to enter the
/// code of who referred them; nothing when referrals are off.
boost::asio::awaitable<void> add_referral(Call& call, discord::MessagePayload& payload);
/// The order channel's Promo code button and modal, My Account's referral code (growth.cpp).
void register_growth_routes(Router& router);
/// My Account's "Announcements by DM: on/off" button (announcements.cpp).
boost::asio::awaitable<void> add_announcement_toggle(Call& call, discord::MessagePayload& payload);
/// That button, the DMs' Stop announcements button and the admins' Confirm / Cancel buttons of
/// /admin announce (announcements.cpp).
void register_announcement_routes(Router& router);

}  // namespace nebula::bot::handlers::customer
