#pragma once

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
    // The work refers to the chart kept in this coroutine's frame: g++ 12 destroys a work
    // function that owns something (a string, a shared_ptr) twice, so it must own nothing.
    co_return co_await db.run([&chart](db::Connection&) { return ui::render_bar_chart(chart); });
}

}  // namespace nebula::bot::core
