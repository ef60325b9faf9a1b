#pragma once

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "bot/handlers/admin_commands.hpp"
#include "bot/support/bot_harness.hpp"
#include "bot/support/fake_nebula_gateway.hpp"

namespace nebula::bot::testing {

/// One option as Discord sends it inside an interaction.
nlohmann::json option(const std::string& name, discord::OptionType type, nlohmann::json value);
nlohmann::json str(const std::string& name, const std::string& value);
nlohmann::json integer(const std::string& name, std::int64_t value);
nlohmann::json number(const std::string& name, double value);
nlohmann::json boolean(const std::string& name, bool value);
nlohmann::json user_option(const std::string& name, std::uint64_t id);
nlohmann::json focused(const std::string& name, const std::string& typed);

/// What the fake Discord received as the interaction's answer.
struct Answer {
    int type = 0;         ///< callback type (4 message, 8 autocomplete, ...)
    nlohmann::json data;  ///< the callback's data object
    std::vector<fakes::discord::Part> files;
    std::string content() const { return data.value("content", std::string()); }
    bool ephemeral() const { return (data.value("flags", 0) & 64) != 0; }
    /// The first embed's title, description and every field value, joined.
    std::string embed_text() const;
};

/// The admin commands registered on the bot's graph (the test harness: Router + BotContext) over
/// a migrated SQLite database, the in-process fake nebula-gateway and a fake Discord on 127.0.0.1
/// that receives the answers. Interactions are built by the fake (as Discord would send them) and
/// handed to the registered handler with a real InteractionResponder.
class AdminTest : public ::testing::Test, protected BotGraph {
  protected:
    static constexpr std::uint64_t kGuild = shop::kGuild;
    static constexpr std::uint64_t kAdminRole = shop::kAdminRole;
    static constexpr std::uint64_t kAdmin = 500000000000000001ULL;
    static constexpr std::uint64_t kCustomer = 500000000000000002ULL;

    void SetUp() override;
    void TearDown() override;

    /// Runs `/admin <path…>` with `options` (the leaf options) as a member with (or without) the
    /// admin role and returns the answer.
    Answer admin(const std::vector<std::string>& path, nlohmann::json options = nlohmann::json::array(),
                 bool with_role = true, nlohmann::json resolved = nullptr);
    /// Runs the autocomplete of `/admin <path…>` (one option in `options` is focused).
    Answer autocomplete(const std::vector<std::string>& path, nlohmann::json options, bool with_role = true);

    // ---- data set-up through the domain, as the customer flow would make it ----
    domain::Plan make_plan(const std::string& name, domain::Piasters price, int days = 30);
    domain::Server make_server(const std::string& name);
    domain::PaymentMethodId enable_method(const std::string& code, const std::string& account);
    domain::UserId make_user(std::uint64_t discord_id);
    /// An order of `user` for `plan`, taken to under_review.
    domain::Order order_under_review(domain::UserId user, domain::PlanId plan, const std::string& receipt);
    /// An order approved and fulfilled: returns its account.
    domain::Account fulfilled_account(std::uint64_t discord_id, domain::PlanId plan,
                                      const std::string& receipt);

    /// Runs `fn` on a database connection of the fixture (from the test thread).
    template <typename F>
    auto with_db(F fn) {
        auto connection = database_->connect();
        return fn(*connection);
    }

    FakeNebulaGateway gateway_;
    FakeDirectory directory_{gateway_};
    handlers::AdminHooks hooks_;
    /// The language the dispatcher picked for the admin.
    ui::Locale locale_ = ui::Locale::en;
    /// What the hooks saw.
    std::vector<std::string> hook_calls_;
};

}  // namespace nebula::bot::testing
