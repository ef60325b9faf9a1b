#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace nebula::common {

/// Wraps an error value so a Result can be built from it unambiguously.
template <typename E>
struct Unexpected {
    E error;
};

template <typename E>
Unexpected<std::decay_t<E>> unexpected(E&& error) {
    return {std::forward<E>(error)};
}

/// A value or an error, for outcomes a caller is expected to handle (the std::expected idea,
/// which g++ 12 only offers under C++23). Accessing the wrong alternative is a bug and asserts.
template <typename T, typename E>
class [[nodiscard]] Result {
  public:
    Result(T value)
        : data_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(google-explicit-constructor)
    template <typename U>
    Result(Unexpected<U> error)  // NOLINT(google-explicit-constructor)
        : data_(std::in_place_index<1>, E(std::move(error.error))) {}

    bool has_value() const { return data_.index() == 0; }
    explicit operator bool() const { return has_value(); }

    T& value() & {
        assert(has_value());
        return std::get<0>(data_);
    }
    const T& value() const& {
        assert(has_value());
        return std::get<0>(data_);
    }
    T&& value() && {
        assert(has_value());
        return std::get<0>(std::move(data_));
    }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }

    const E& error() const {
        assert(!has_value());
        return std::get<1>(data_);
    }

  private:
    std::variant<T, E> data_;
};

/// A Result with no value: success, or an error.
template <typename E>
class [[nodiscard]] Status {
  public:
    Status() = default;
    template <typename U>
    Status(Unexpected<U> error) : error_(E(std::move(error.error))), ok_(false) {}  // NOLINT

    bool has_value() const { return ok_; }
    explicit operator bool() const { return ok_; }
    const E& error() const {
        assert(!ok_);
        return error_;
    }

  private:
    E error_{};
    bool ok_ = true;
};

}  // namespace nebula::common
