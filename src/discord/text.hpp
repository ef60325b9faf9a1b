#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace nebula::discord {

/// Replaces every invalid UTF-8 sequence (bad lead byte, truncated or overlong sequence,
/// surrogate, value above U+10FFFF) with U+FFFD, so the text can always be serialised as JSON.
std::string sanitize_utf8(std::string_view text);

/// Length as Discord's limits count it: UTF-16 code units (a character outside the Basic
/// Multilingual Plane, such as most emoji, counts 2). `text` must be valid UTF-8.
std::size_t text_length(std::string_view text);

/// Cuts sanitised `text` to at most `max_units` UTF-16 code units without splitting a code
/// point, and without leaving a combining mark (Arabic harakat, Latin accents) or a zero-width
/// joiner orphaned at the cut. When text is removed, `ellipsis` is appended within the limit.
/// Always returns valid UTF-8.
std::string truncate_text(std::string_view text, std::size_t max_units, std::string_view ellipsis = "…");

}  // namespace nebula::discord
