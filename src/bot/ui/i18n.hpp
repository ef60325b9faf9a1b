#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bot/domain/types.hpp"
#include "bot/ui/time_zone.hpp"

namespace nebula::bot::ui {

/// The languages the bot speaks.
enum class Locale { en, ar };

/// The catalogue language for a Discord locale code: every code starting with "ar" ("ar",
/// "ar-EG") is Arabic; "en-US", "en-GB" and every other code are English. Case-insensitive.
Locale locale_from_discord(std::string_view code);

/// "en" or "ar" (the values of users.locale_choice).
std::string_view locale_code(Locale locale);

/// The language to answer a customer in: their explicit choice (the Language button,
/// users.locale_choice "en"/"ar"; empty while they have not chosen) wins; otherwise their Discord
/// language decides: Arabic for an Arabic Discord locale, else the shop's default (Discord's own
/// list has no Arabic today, so a shop for Arabic speakers sets DEFAULT_LOCALE=ar).
Locale choose_locale(std::string_view saved_choice, std::string_view discord_locale, Locale shop_default);

/// Every string a customer or an admin sees. The English and Arabic templates live in
/// i18n_catalogue.inc (included by i18n.cpp); the build fails unless each key has both, with the
/// same `{placeholders}`, and unless every Latin word in an Arabic template is wrapped in a
/// Unicode isolate (see tr()).
enum class Msg : std::uint16_t {
    // main panel
    panel_title,
    panel_description,
    panel_footer,
    button_buy,
    button_my_account,
    button_renew,
    button_help,
    button_language,
    language_set,
    help_title,
    help_body,
    // plans
    plan_select_prompt,
    plan_select_placeholder,
    plan_option_label,
    plan_option_description,
    plans_none,
    unlimited,
    unlimited_devices,
    // order channel
    order_channel_opened,
    order_title,
    order_welcome,
    order_expiry_note,
    renewal_note,
    label_customer,
    label_plan,
    label_price,
    label_amount,
    label_duration,
    label_traffic,
    label_devices,
    label_reference,
    label_method,
    label_status,
    label_order_type,
    label_server,
    label_expires,
    label_submitted,
    label_account,
    order_kind_new,
    order_kind_renewal,
    status_awaiting_payment,
    status_under_review,
    status_approved,
    status_fulfilled,
    status_declined,
    status_expired,
    status_cancelled,
    account_status_active,
    account_status_disabled,
    account_status_expired,
    account_status_deleted,
    // payment
    payment_method_prompt,
    payment_method_placeholder,
    method_vodafone_cash,
    method_orange_cash,
    method_etisalat_cash,
    method_we_pay,
    method_instapay,
    payment_methods_none,
    payment_wallet_instructions,
    payment_instapay_instructions,
    button_cancel_order,
    button_change_method,
    order_cancelled,
    order_cancel_too_late,
    // receipts
    receipt_too_large,
    receipt_not_your_order,
    receipt_not_awaiting,
    receipt_choose_method_first,
    receipt_hint,
    receipt_under_review,
    // review (admins)
    review_title,
    review_reused_warning,
    review_claimed_by,
    review_approved_by,
    review_declined_by,
    review_already_claimed,
    review_already_handled,
    review_provisioning_failed,
    review_no_capacity,
    review_customer_left,
    button_claim,
    button_approve,
    button_decline,
    decline_modal_title,
    decline_reason_label,
    decline_reason_placeholder,
    // outcomes for the customer
    order_approved,
    order_declined,
    order_being_prepared,
    no_capacity,
    // delivery
    delivery_title,
    delivery_body,
    delivery_qr,
    setup_hints,
    delivery_dm_sent,
    channel_closing,
    billing_line,
    // my account
    account_title,
    account_none,
    account_heading,
    account_details,
    account_days_left,
    account_expired_short,
    traffic_used_of,
    traffic_used_unlimited,
    button_show_config,
    show_config_body,
    account_select_placeholder,
    account_option_label,
    // renewal
    renew_choose_account,
    renew_choose_plan,
    renew_none,
    renewal_done,
    // timeouts, reminders, alerts
    order_expired,
    reminder_expiry_days,
    reminder_expiry_day,
    traffic_alert,
    traffic_exhausted,
    account_expired_notice,
    // errors
    error_banned,
    error_open_order,
    error_stale_button,
    error_not_admin,
    error_dms_closed,
    error_not_your_account,
    error_order_not_found,
    error_plan_unavailable,
    error_slow_down,
    error_internal,
    // admin commands
    admin_panel_posted,
    admin_panel_refreshed,
    admin_plan_created,
    admin_plan_updated,
    admin_plan_enabled,
    admin_plan_disabled,
    admin_plans_title,
    admin_plans_empty,
    admin_plan_line,
    admin_server_added,
    admin_server_updated,
    admin_server_removed,
    admin_server_remove_busy,
    admin_servers_title,
    admin_servers_empty,
    admin_server_line,
    server_health_up,
    server_health_down,
    server_health_unknown,
    admin_server_test_ok,
    admin_server_test_failed,
    admin_payment_set,
    admin_payment_enabled,
    admin_payment_disabled,
    admin_payments_title,
    admin_payment_line,
    payment_account_unset,
    state_enabled,
    state_disabled,
    admin_stats_title,
    stats_revenue,
    stats_orders,
    stats_new_users,
    stats_active_accounts,
    stats_conversion,
    period_today,
    period_7_days,
    period_30_days,
    period_all_time,
    admin_export_ready,
    admin_audit_title,
    admin_audit_empty,
    admin_user_info,
    user_status_banned,
    admin_user_banned,
    admin_user_unbanned,
    admin_account_extended,
    admin_account_enabled,
    admin_account_disabled,
    admin_account_deleted,
    admin_account_traffic_reset,
    admin_order_approved,
    admin_order_declined,
    admin_not_found,
    admin_failed,
    // background jobs (admins)
    job_server_down,
    job_server_up,
    job_order_stuck,
    job_revenue_posted,
    job_automatic,
    // server outages (button for admins, notices for customers)
    job_tell_customers,
    job_outage_queued,
    job_outage_over,
    notice_server_outage,
    notice_server_restored,
    job_order_customer_left,
    // staff access to /admin, PDF receipts, private notices, usage freshness
    admin_setup_staff_access,
    receipt_wrong_type,
    notice_private_pointer,
    account_usage_as_of,
    // every order ends (open order without a channel, declined orders expiring, cancelled during
    // review, unreviewed receipts)
    error_open_order_no_channel,
    order_expired_declined,
    review_cancelled_by_customer,
    job_review_reminder,
    // the customer's language: a choice, or their Discord's
    language_prompt,
    button_language_arabic,
    button_language_english,
    button_language_follow,
    language_follow_set,
    // written for a customer in Cairo
    label_wallet_number,
    label_ipa,
    error_not_your_order_method,
    error_not_your_order_cancel,
    decline_reason_amount,
    decline_reason_not_received,
    decline_reason_unreadable,
    decline_reason_wrong_account,
    decline_reason_reused,
    // durable delivery
    delivery_customer_left_report,
    delivery_unreachable_report,
    label_delivery,
    delivery_state_complete,
    delivery_state_pending,
    delivery_state_untracked,
    delivery_part_card,
    delivery_part_channel,
    delivery_part_dm,
    delivery_part_role,
    delivery_part_billing,
    delivery_part_closing,
    // The guided setup (/admin setup) and a shop not selling yet.
    setup_offer_intro,
    setup_item_admin_role,
    setup_item_subscriber_role,
    setup_item_review_channel,
    setup_item_billing_channel,
    setup_item_panel_channel,
    setup_item_orders_category,
    setup_offer_question,
    button_setup_create,
    button_setup_not_now,
    setup_not_now,
    setup_created,
    setup_failed,
    setup_todo_intro,
    setup_todo_server,
    setup_todo_wallet,
    setup_todo_plan,
    setup_ready,
    sales_open_soon,
    setup_name_admin_role,
    setup_name_subscriber_role,
    setup_name_review_channel,
    setup_name_billing_channel,
    setup_name_panel_channel,
    setup_name_orders_category,
    // Charts (drawn with the admin's or the shop's language).
    chart_revenue_title,
    chart_axis_day,
    chart_axis_month,
    chart_axis_money,
    chart_average_7_days,
    chart_no_data,
    // Backups sent off the machine.
    backup_uploaded,
    backup_too_large,
    // growth: free trial and promo codes
    button_free_trial,
    trial_ready,
    trial_preparing,
    trial_not_offered,
    trial_already_used,
    trial_account_too_new,
    trial_open_order,
    trial_no_capacity,
    trial_reminder,
    admin_trial_set,
    admin_trial_disabled,
    admin_trial_current,
    admin_trial_none,
    stats_trials,
    stats_trials_value,
    label_trial,
    button_promo_code,
    promo_modal_title,
    promo_modal_label,
    promo_applied,
    promo_unknown,
    promo_expired,
    promo_used_up,
    promo_not_for_plan,
    promo_per_customer,
    promo_too_late,
    price_breakdown,
    label_discount,
    label_promo_code,
    stats_discounts,
    admin_promo_line,
    admin_promo_created,
    admin_promo_disabled,
    admin_promos_title,
    admin_promos_empty,
    promo_all_plans,
    promo_no_limit,
    promo_never,
    referral_your_code,
    button_referral,
    referral_modal_title,
    referral_modal_label,
    referral_attached,
    referral_unknown,
    referral_self,
    referral_already,
    referral_not_new,
    referral_loop,
    referral_reward,
    stats_referrals,
    stats_referrals_value,
    // customers, accounts given by admins, refunds
    admin_users_title,
    admin_users_page,
    admin_users_row,
    admin_users_none,
    button_previous_page,
    button_next_page,
    admin_users_not_yours,
    admin_user_orders,
    admin_user_order_line,
    admin_user_accounts,
    admin_user_account_line,
    admin_user_notes,
    admin_user_note_line,
    admin_user_nothing,
    admin_user_more,
    admin_user_note_added,
    order_status_refunded,
    order_gift,
    admin_account_gifted,
    admin_account_gift_pending,
    admin_account_plan_changed,
    admin_order_refunded,
    admin_order_refund_not_disabled,
    order_refunded,
    order_refunded_account_disabled,
    stats_refunds,
    stats_refunds_value,
    // the audit channel and the usage chart
    chart_usage_title,
    chart_axis_gigabytes,
    chart_axis_megabytes,
    chart_no_usage,
    button_usage_chart,
    usage_chart_body,
    // ---- announcements ----
    announce_audience_all,
    announce_audience_active,
    announce_audience_expired,
    announce_audience_server,
    announce_preview,
    announce_channel_mention,
    announce_channel_no_mention,
    announce_no_channel,
    button_announce_confirm,
    button_announce_cancel,
    announce_confirmed,
    announce_posted,
    announce_post_failed,
    announce_cancelled,
    announce_progress,
    announce_status_title,
    announce_status_line,
    announce_status_none,
    announce_state_sending,
    announce_state_done,
    announce_state_cancelled,
    announce_state_draft,
    announce_not_author,
    announce_already,
    announce_dm,
    button_announce_stop,
    announce_dm_stopped,
    announce_dm_started,
    button_announce_dm_on,
    button_announce_dm_off,
    // choice of location and account moves
    location_select_prompt,
    location_select_placeholder,
    location_any,
    location_any_description,
    location_full_pick_again,
    location_fallback_note,
    location_fallback_billing,
    account_moved_title,
    account_moved_body,
    account_move_unreachable_report,
    admin_account_moved,
    admin_account_move_pending,
    label_location,
};

/// The number of keys; Msg values are 0 .. kMsgCount - 1.
inline constexpr std::size_t kMsgCount = static_cast<std::size_t>(Msg::label_location) + 1;

/// One named value for a placeholder. Values are data, never templates: a `{` in a value is
/// printed as is.
struct Arg {
    Arg(std::string_view arg_name, std::string arg_value) : name(arg_name), value(std::move(arg_value)) {}
    Arg(std::string_view arg_name, std::string_view arg_value) : name(arg_name), value(arg_value) {}
    Arg(std::string_view arg_name, const char* arg_value) : name(arg_name), value(arg_value) {}
    template <std::integral T>
    Arg(std::string_view arg_name, T arg_value) : name(arg_name), value(std::to_string(arg_value)) {}

    std::string_view name;
    std::string value;
};

/// Renders `msg` in `locale`, replacing each `{name}` with the value of the Arg of that name.
///
/// Values are cleaned: the bidi embedding and override controls U+202A..U+202E are removed,
/// and so are isolate controls that do not pair up, so a customer name cannot reorder the text
/// around it. In Arabic, each value outside code is wrapped in FIRST STRONG ISOLATE ... POP
/// DIRECTIONAL ISOLATE (U+2068 ... U+2069), so links, codes, numbers and Latin names keep their
/// own direction, and each inline code span (`...`) is wrapped in LEFT-TO-RIGHT ISOLATE ... PDI.
/// Code blocks (```) are never touched, so what a customer copies from them is exactly the
/// value; a backtick inside a value placed in code becomes U+02CB so it cannot end the span.
/// Every Arabic line outside code blocks then gets a RIGHT-TO-LEFT MARK (U+200F) at both ends
/// and after a list marker ("1. ", "• ", "- "), so a line that starts or ends with Latin text,
/// digits or punctuation still reads right to left with its punctuation in place.
///
/// A missing, unknown or repeated Arg is a bug and throws std::invalid_argument.
/// Thread-safe: the catalogue is immutable.
std::string tr(Locale locale, Msg msg, std::initializer_list<Arg> args = {});

/// The key's name as written in the enum ("panel_title"), for logs and tests.
std::string_view msg_id(Msg msg);
/// The raw template.
std::string_view msg_template(Locale locale, Msg msg);
/// The placeholder names of `msg`, in order of first appearance (the same in both languages).
std::vector<std::string_view> msg_placeholders(Msg msg);

/// The localised name of an order status, account status, order kind or server health.
Msg order_status_msg(domain::OrderStatus status);
Msg account_status_msg(domain::AccountStatus status);
Msg order_kind_msg(domain::OrderKind kind);
Msg server_health_msg(domain::ServerHealth health);
/// The name of a payment method by its code (vodafone_cash, orange_cash, etisalat_cash, we_pay,
/// instapay); nothing for other codes.
std::optional<Msg> payment_method_msg(std::string_view code);

/// The ready-made reasons an admin can decline a payment with, by code ("amount",
/// "not_received", "unreadable", "wrong_account", "reused"), in the order offered.
const std::vector<std::string_view>& decline_presets();
/// The message of a ready-made reason; nothing for an unknown code.
std::optional<Msg> decline_preset_msg(std::string_view code);
/// A decline reason in `locale`: the ready-made reason `preset` (empty: none) and the admin's own
/// words `text` (may be empty), joined by " — ". Stored in English (decline_reason(Locale::en, …)).
std::string decline_reason(Locale locale, std::string_view preset, std::string_view text);
/// A reason stored by decline_reason(Locale::en, …) in `locale`: a ready-made reason at its start
/// is translated, the admin's own words are kept as typed.
std::string translate_decline_reason(Locale locale, std::string_view stored);

// ---- value formatting (plain text; tr() adds the isolates when the value goes into Arabic) ----

/// "1,250.00 EGP" / "1,250.00 ج.م".
std::string format_money(Locale locale, domain::Piasters amount);

/// A size in binary units as the panel counts them (1 GB = 2^30 bytes), at most one decimal:
/// "30 GB", "1.5 GB", "512 MB", "0 B". Negative sizes are a bug (std::invalid_argument).
std::string format_bytes(std::int64_t bytes);
/// format_bytes, or "Unlimited" / "غير محدود" for 0 (the panel's "no limit").
std::string format_traffic_limit(Locale locale, std::int64_t bytes);

/// Units that format_count knows how to pluralise.
enum class Unit { day, hour, minute, device };
/// "1 day", "30 days"; Arabic with its six plural forms ("يوم واحد", "يومان", "3 أيام",
/// "11 يومًا", "100 يوم").
std::string format_count(Locale locale, std::int64_t n, Unit unit);
/// "2 devices", or "Unlimited devices" / "أجهزة غير محدودة" for 0.
std::string format_device_limit(Locale locale, int limit);
/// A duration in its largest whole unit: whole days ("2 days"), else hours ("36 hours"), else
/// minutes rounded up ("5 minutes"). Negative durations are a bug (std::invalid_argument).
std::string format_duration(Locale locale, std::chrono::seconds duration);

/// "5 Mar 2025" / "5 مارس 2025", the calendar date in `zone`.
std::string format_date(Locale locale, std::chrono::sys_seconds t, const TimeZone& zone);
/// "5 Mar 2025, 14:30" / "5 مارس 2025، 14:30" (24-hour clock, in `zone`).
std::string format_date_time(Locale locale, std::chrono::sys_seconds t, const TimeZone& zone);

/// Whole days from `now` until `expiry`, rounded up (5 hours left is 1 day); 0 once expired.
int days_left(std::chrono::sys_seconds now, std::chrono::sys_seconds expiry);

/// "▰▰▰▱▱▱▱▱▱▱ 30%": `width` cells filled in proportion to used/total, rounded down, and the
/// percentage rounded down (so 100% means really used up); above 100% the bar is full and the
/// real percentage shows. `total` must be positive and `used` not negative; width 1..50.
std::string progress_bar(std::int64_t used, std::int64_t total, int width = 10);

/// `text` wrapped in FIRST STRONG ISOLATE ... POP DIRECTIONAL ISOLATE, for composing Arabic
/// text by hand (tr() already does this for its values).
std::string isolate(std::string_view text);

/// Arabic text composed by hand (an embed field holding a duration, a plan's Arabic name) with
/// its lines' direction fixed as tr() fixes its own (see tr()); English is returned as is.
std::string mark_direction(Locale locale, std::string_view text);

}  // namespace nebula::bot::ui
