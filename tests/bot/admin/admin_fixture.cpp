#include "bot/admin/admin_fixture.hpp"

#include "discord/interactions.hpp"
#include "discord/test_support.hpp"

namespace nebula::bot::testing {

namespace asio = boost::asio;
using nlohmann::json;

json option(const std::string& name, discord::OptionType type, json value) {
    return json{{"name", name}, {"type", static_cast<int>(type)}, {"value", std::move(value)}};
}
json str(const std::string& name, const std::string& value) {
    return option(name, discord::OptionType::string, value);
}
json integer(const std::string& name, std::int64_t value) {
    return option(name, discord::OptionType::integer, value);
}
json number(const std::string& name, double value) {
    return option(name, discord::OptionType::number, value);
}
json boolean(const std::string& name, bool value) {
    return option(name, discord::OptionType::boolean, value);
}
json user_option(const std::string& name, std::uint64_t id) {
    return option(name, discord::OptionType::user, std::to_string(id));
}
json focused(const std::string& name, const std::string& typed) {
    json o = str(name, typed);
    o["focused"] = true;
    return o;
}

std::string Answer::embed_text() const {
    std::string text;
    if (!data.contains("embeds") || data["embeds"].empty()) return text;
    const auto& embed = data["embeds"][0];
    text += embed.value("title", std::string()) + "\n" + embed.value("description", std::string());
    for (const auto& field : embed.value("fields", json::array())) {
        text += "\n" + field.value("name", std::string()) + ": " + field.value("value", std::string());
    }
    return text;
}

void AdminTest::SetUp() {
    build(db::Backend::sqlite, directory_);
    if (HasFatalFailure()) return;

    hooks_.order_fulfilled = [this](handlers::Call&, domain::Fulfilment f) -> asio::awaitable<void> {
        hook_calls_.push_back("fulfilled " + f.order.reference);
        co_return;
    };
    hooks_.order_pending = [this](domain::Order order, domain::Error) -> asio::awaitable<void> {
        hook_calls_.push_back("pending " + order.reference);
        co_return;
    };
    hooks_.order_declined = [this](domain::Order order) -> asio::awaitable<void> {
        hook_calls_.push_back("declined " + order.reference);
        co_return;
    };
    handlers::register_admin_handlers(router_, *ctx_, hooks_);
}

void AdminTest::TearDown() { tear_down(); }

namespace {

json command_data(const std::vector<std::string>& path, json options, json resolved) {
    // Nest the leaf options inside the group / subcommand options, as Discord sends them.
    json leaf = std::move(options);
    for (std::size_t i = path.size(); i-- > 1;) {
        const auto type = (i == path.size() - 1) ? discord::OptionType::sub_command
                                                 : discord::OptionType::sub_command_group;
        leaf = json::array({json{{"name", path[i]}, {"type", static_cast<int>(type)}, {"options", leaf}}});
    }
    json data{{"id", "990000000000000001"}, {"name", path.front()}, {"type", 1}, {"options", leaf}};
    if (!resolved.is_null()) data["resolved"] = std::move(resolved);
    return data;
}

std::string joined(const std::vector<std::string>& path) {
    std::string out;
    for (const auto& part : path) out += (out.empty() ? "" : " ") + part;
    return out;
}

}  // namespace

Answer AdminTest::admin(const std::vector<std::string>& path, json options, bool with_role, json resolved) {
    std::vector<std::string> full{"admin"};
    full.insert(full.end(), path.begin(), path.end());
    std::vector<std::uint64_t> roles;
    if (with_role) roles.push_back(kAdminRole);
    const json raw = fake_->make_interaction(2, kAdmin, roles,
                                             command_data(full, std::move(options), std::move(resolved)));
    auto parsed = discord::parse_interaction(raw);
    EXPECT_TRUE(parsed) << parsed.error().describe();
    if (!parsed) return {};
    const auto* handler = router_.command(joined(full));
    EXPECT_NE(handler, nullptr) << joined(full);
    if (handler == nullptr) return {};
    const std::size_t before = fake_->requests_matching("POST /interactions/.*/callback").size();
    auto responder = discord::make_responder(io_.get_executor(), *rest_, system_clock_, *parsed);
    handlers::Call call{*ctx_, responder->interaction(), *responder, locale_,
                        handlers::is_admin(shop_, responder->interaction())};
    nebula::discord::testing::run(io_, [&]() -> asio::awaitable<void> { co_await (*handler)(call); });
    const auto callbacks = fake_->requests_matching("POST /interactions/.*/callback");
    EXPECT_EQ(callbacks.size(), before + 1) << "one answer per interaction";
    if (callbacks.size() != before + 1) return {};
    const auto& sent = callbacks.back();
    EXPECT_EQ(sent.status, 204) << sent.body;
    Answer answer;
    answer.type = sent.json.value("type", 0);
    answer.data = sent.json.value("data", json::object());
    answer.files = sent.files;
    return answer;
}

Answer AdminTest::autocomplete(const std::vector<std::string>& path, json options, bool with_role) {
    std::vector<std::string> full{"admin"};
    full.insert(full.end(), path.begin(), path.end());
    std::vector<std::uint64_t> roles;
    if (with_role) roles.push_back(kAdminRole);
    const json raw =
        fake_->make_interaction(4, kAdmin, roles, command_data(full, std::move(options), nullptr));
    auto parsed = discord::parse_interaction(raw);
    EXPECT_TRUE(parsed) << parsed.error().describe();
    if (!parsed) return {};
    const auto* handler = router_.autocomplete(joined(full));
    EXPECT_NE(handler, nullptr) << joined(full);
    if (handler == nullptr) return {};
    auto responder = discord::make_responder(io_.get_executor(), *rest_, system_clock_, *parsed);
    handlers::Call call{*ctx_, responder->interaction(), *responder, locale_,
                        handlers::is_admin(shop_, responder->interaction())};
    nebula::discord::testing::run(io_, [&]() -> asio::awaitable<void> { co_await (*handler)(call); });
    const auto callbacks = fake_->requests_matching("POST /interactions/.*/callback");
    EXPECT_FALSE(callbacks.empty());
    if (callbacks.empty()) return {};
    Answer answer;
    answer.type = callbacks.back().json.value("type", 0);
    answer.data = callbacks.back().json.value("data", json::object());
    return answer;
}

domain::Plan AdminTest::make_plan(const std::string& name, domain::Piasters price, int days) {
    return with_db([&](db::Connection& c) {
        auto plan = catalog_.create_plan(c, domain::Actor::system(),
                                         {name, days, std::int64_t{50} << 30, 2, price, 0});
        EXPECT_TRUE(plan.has_value()) << plan.error().message;
        return *plan;
    });
}

domain::Server AdminTest::make_server(const std::string& name) {
    return with_db([&](db::Connection& c) {
        auto server = catalog_.create_server(
            c, domain::Actor::system(),
            {name, "Frankfurt", "https://" + name + ".example:8443", std::string(40, 'k'), "", 1, 100, 1});
        EXPECT_TRUE(server.has_value()) << server.error().message;
        return *server;
    });
}

domain::PaymentMethodId AdminTest::enable_method(const std::string& code, const std::string& account) {
    return with_db([&](db::Connection& c) {
        auto id = *c.scalar<domain::PaymentMethodId>("SELECT id FROM payment_methods WHERE code = ?", code);
        auto updated = catalog_.update_payment_method(c, domain::Actor::system(), id,
                                                      {account, std::nullopt, std::nullopt});
        EXPECT_TRUE(updated.has_value());
        return id;
    });
}

domain::UserId AdminTest::make_user(std::uint64_t discord_id) {
    return with_db([&](db::Connection& c) {
        return users_.ensure(c, domain::DiscordId{discord_id}, "user" + std::to_string(discord_id)).id;
    });
}

domain::Order AdminTest::order_under_review(domain::UserId user, domain::PlanId plan,
                                            const std::string& receipt) {
    const auto method = enable_method("vodafone_cash", "01012345678");
    return with_db([&](db::Connection& c) {
        auto placed = orders_->place(c, user, plan);
        EXPECT_TRUE(placed.has_value()) << placed.error().message;
        EXPECT_TRUE(orders_->choose_payment_method(c, placed->order.id, user, method).has_value());
        auto submitted =
            orders_->submit_receipt(c, placed->order.id, user, {receipt, "image/png", domain::DiscordId{1}});
        EXPECT_TRUE(submitted.has_value()) << submitted.error().message;
        return submitted->order;
    });
}

domain::Account AdminTest::fulfilled_account(std::uint64_t discord_id, domain::PlanId plan,
                                             const std::string& receipt) {
    const auto order = order_under_review(make_user(discord_id), plan, receipt);
    std::optional<domain::Account> account;
    nebula::discord::testing::run(io_, [&]() -> asio::awaitable<void> {
        auto done = co_await provisioner_->approve_and_fulfil(order.id, domain::DiscordId{7});
        EXPECT_TRUE(done.has_value()) << done.error().message;
        if (done) account = done->account;
    });
    EXPECT_TRUE(account.has_value());
    return account.value_or(domain::Account{});
}

}  // namespace nebula::bot::testing
