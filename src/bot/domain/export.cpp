#include "bot/domain/export.hpp"

#include <span>
#include <string>

#include <nlohmann/json.hpp>

namespace nebula::bot::domain {
namespace {

struct Column {
    std::string_view name;
    std::string_view expression;
    bool numeric;
};

constexpr Column kOrderColumns[] = {
    {"id", "o.id", true},
    {"reference", "o.reference", false},
    {"discord_id", "u.discord_id", false},
    {"username", "u.username", false},
    {"plan", "p.name", false},
    {"kind", "o.kind", false},
    {"status", "o.status", false},
    {"amount_piasters", "o.amount_piasters", true},
    {"list_price_piasters", "o.list_price_piasters", true},
    {"discount_piasters", "o.discount_piasters", true},
    {"promo_code", "pc.code", false},
    {"trial", "o.trial", true},
    {"payment_method", "m.code", false},
    {"reviewer_id", "o.reviewer_id", false},
    {"decline_reason", "o.decline_reason", false},
    {"account_id", "o.account_id", true},
    {"created_at", "o.created_at", true},
    {"submitted_at", "o.submitted_at", true},
    {"approved_at", "o.approved_at", true},
    {"fulfilled_at", "o.fulfilled_at", true},
    {"gift_reason", "o.gift_reason", false},
    {"refunded_at", "o.refunded_at", true},
    {"refunded_by", "o.refunded_by", false},
    {"refund_reason", "o.refund_reason", false},
    {"location", "o.location", false},
    {"server", "s.name", false},
};
constexpr std::string_view kOrderFrom =
    " FROM orders o JOIN users u ON u.id = o.user_id JOIN plans p ON p.id = o.plan_id "
    "LEFT JOIN payment_methods m ON m.id = o.payment_method_id LEFT JOIN promo_codes pc ON pc.id = "
    "o.promo_code_id LEFT JOIN servers s ON s.id = o.server_id "
    "ORDER BY o.id";

constexpr Column kUserColumns[] = {
    {"id", "id", true},
    {"discord_id", "discord_id", false},
    {"username", "username", false},
    {"locale_choice", "locale_choice", false},
    {"last_locale", "last_locale", false},
    {"status", "status", false},
    {"ban_reason", "ban_reason", false},
    {"created_at", "created_at", true},
};
constexpr std::string_view kUserFrom = " FROM users ORDER BY id";

constexpr Column kAccountColumns[] = {
    {"id", "a.id", true},
    {"discord_id", "u.discord_id", false},
    {"server", "s.name", false},
    {"location", "s.location", false},
    {"order_id", "a.order_id", true},
    {"client_email", "a.client_email", false},
    {"status", "a.status", false},
    {"traffic_limit_bytes", "a.traffic_limit_bytes", true},
    {"used_up_bytes", "a.used_up_bytes", true},
    {"used_down_bytes", "a.used_down_bytes", true},
    {"expires_at", "a.expires_at", true},
    {"created_at", "a.created_at", true},
};
constexpr std::string_view kAccountFrom =
    " FROM vpn_accounts a JOIN users u ON u.id = a.user_id JOIN servers s ON s.id = a.server_id ORDER BY "
    "a.id";

constexpr Column kRevenueColumns[] = {
    {"day", "day", false},
    {"revenue_piasters", "revenue_piasters", true},
    {"discounts_piasters", "discounts_piasters", true},
    {"orders_fulfilled", "orders_fulfilled", true},
    {"revenue_by_method", "revenue_by_method", false},
    {"revenue_by_plan", "revenue_by_plan", false},
    {"orders_by_status", "orders_by_status", false},
    {"new_users", "new_users", true},
    {"active_accounts", "active_accounts", true},
};
constexpr std::string_view kRevenueFrom = " FROM revenue_snapshots ORDER BY day";

constexpr Column kAuditColumns[] = {
    {"id", "id", true},
    {"at", "at", true},
    {"actor", "actor", false},
    {"action", "action", false},
    {"target_type", "target_type", false},
    {"target_id", "target_id", false},
    {"before_json", "before_json", false},
    {"after_json", "after_json", false},
};
constexpr std::string_view kAuditFrom = " FROM audit_logs ORDER BY id";

struct Table {
    std::span<const Column> columns;
    std::string_view from;
};

Table table_for(ExportKind kind) {
    switch (kind) {
        case ExportKind::orders:
            return {kOrderColumns, kOrderFrom};
        case ExportKind::users:
            return {kUserColumns, kUserFrom};
        case ExportKind::accounts:
            return {kAccountColumns, kAccountFrom};
        case ExportKind::revenue:
            return {kRevenueColumns, kRevenueFrom};
        case ExportKind::audit:
            return {kAuditColumns, kAuditFrom};
    }
    return {kUserColumns, kUserFrom};
}

}  // namespace

std::string_view to_string(ExportKind kind) {
    switch (kind) {
        case ExportKind::orders:
            return "orders";
        case ExportKind::users:
            return "users";
        case ExportKind::accounts:
            return "accounts";
        case ExportKind::revenue:
            return "revenue";
        case ExportKind::audit:
            return "audit";
    }
    return "unknown";
}

void write_csv_field(std::ostream& out, std::string_view value) {
    if (value.find_first_of(",\"\r\n") == std::string_view::npos) {
        out << value;
        return;
    }
    out << '"';
    for (char c : value) {
        if (c == '"') out << '"';
        out << c;
    }
    out << '"';
}

std::int64_t export_rows(db::Connection& connection, ExportKind kind, std::ostream& out,
                         const ExportOptions& options) {
    const auto table = table_for(kind);
    const bool csv = options.format == ExportFormat::csv;
    std::string sql = "SELECT ";
    for (std::size_t i = 0; i < table.columns.size(); ++i) {
        if (i > 0) sql += ", ";
        const auto& column = table.columns[i];
        // The CSV writer quotes empty strings (to tell them from NULL); our exports show both as
        // an empty field, as spreadsheets do. Text that a spreadsheet would run as a formula
        // (starting with = + - @, tab or CR: OWASP's CSV injection list) gets a leading
        // apostrophe; both backends do it in the query, so their bytes stay identical.
        if (csv && !column.numeric) {
            const std::string e(column.expression);
            sql += "NULLIF(CASE WHEN substr(" + e +
                   ", 1, 1) IN ('=', '+', '-', '@', '\t', '\r') THEN '''' || " + e + " ELSE " + e +
                   " END, '')";
        } else {
            sql += column.expression;
        }
    }
    sql += table.from;
    out.exceptions(std::ios::badbit | std::ios::failbit);

    if (csv) {
        if (options.excel_bom) out << "\xEF\xBB\xBF";
        for (std::size_t i = 0; i < table.columns.size(); ++i) {
            if (i > 0) out << ',';
            write_csv_field(out, table.columns[i].name);
        }
        out << "\r\n";
        const auto written = connection.copy_csv(sql, [&out](std::string_view chunk) {
            out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
        });
        out.flush();
        return written;
    }

    auto rows = connection.prepare(sql, db::Fetch::streamed);
    const int count = static_cast<int>(table.columns.size());
    std::int64_t written = 0;
    out << '[';
    while (rows->step()) {
        out << (written == 0 ? "\n" : ",\n") << '{';
        for (int i = 0; i < count; ++i) {
            if (i > 0) out << ',';
            out << nlohmann::json(std::string(table.columns[i].name)).dump() << ':';
            if (rows->is_null(i)) {
                out << "null";
            } else if (table.columns[i].numeric) {
                out << rows->get_int64(i);
            } else {
                out << nlohmann::json(rows->get_text(i))
                           .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
            }
        }
        out << '}';
        ++written;
    }
    out << (written == 0 ? "]\n" : "\n]\n");
    out.flush();
    return written;
}

}  // namespace nebula::bot::domain
