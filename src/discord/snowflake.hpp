#pragma once

#include "common/snowflake.hpp"

namespace nebula::discord {

/// Discord's ids are the shared id type, so the bot's domain and this client pass them to each
/// other without converting to text and back.
using common::Snowflake;

}  // namespace nebula::discord
