#pragma once

#include <memory>
#include <string>
#include <utility>

#include <boost/asio/awaitable.hpp>

#include "bot/db/executor.hpp"
#include "bot/ui/chart.hpp"

namespace nebula::bot::core {

/// Renders `chart` as a PNG (ui::render_bar_chart, some 10–20 ms of Cairo and Pango) on a thread
/// of the database pool and resumes the caller on its own executor, so the Discord thread keeps
/// answering clicks while a chart is drawn. The drawing holds one pooled connection meanwhile.
inline boost::asio::awaitable<std::string> draw_chart(db::DbExecutor& db, ui::BarChart chart) {
    // Not a coroutine itself, and the chart shared rather than moved into the work: g++ 12
    // mishandles a by-value coroutine parameter moved into a lambda's capture.
    auto shared = std::make_shared<const ui::BarChart>(std::move(chart));
    return db.run([shared](db::Connection&) { return ui::render_bar_chart(*shared); });
}

}  // namespace nebula::bot::core
