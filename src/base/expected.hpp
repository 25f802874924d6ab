// SPDX-License-Identifier: MIT
#pragma once
/// The subset of C++23 std::expected that postern needs (g++ 12 has no <expected>
/// in C++20 mode). Becomes a using-alias once the build moves to C++23.
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

namespace postern {

template <class E>
class unexpected {
public:
    explicit unexpected(E e) : error_(std::move(e)) {}
    const E& error() const& noexcept { return error_; }
    E& error() & noexcept { return error_; }
    E&& error() && noexcept { return std::move(error_); }

private:
    E error_;
};

template <class E>
unexpected(E) -> unexpected<E>;

template <class T, class E>
class [[nodiscard]] expected {
public:
    using value_type = T;
    using error_type = E;

    expected() requires std::is_default_constructible_v<T> : v_(std::in_place_index<0>) {}
    expected(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    template <class G>
    expected(unexpected<G> u) : v_(std::in_place_index<1>, E(std::move(u).error())) {}

    bool has_value() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const E& error() const& { return std::get<1>(v_); }
    E& error() & { return std::get<1>(v_); }

    template <class U>
    T value_or(U&& other) const& { return has_value() ? value() : static_cast<T>(std::forward<U>(other)); }

private:
    std::variant<T, E> v_;
};

/// expected<void, E>: success carries nothing.
template <class E>
class [[nodiscard]] expected<void, E> {
public:
    expected() = default;
    template <class G>
    expected(unexpected<G> u) : error_(E(std::move(u).error())), ok_(false) {}

    bool has_value() const noexcept { return ok_; }
    explicit operator bool() const noexcept { return ok_; }
    const E& error() const& { return error_; }

private:
    E error_{};
    bool ok_ = true;
};

template <class T>
using result = expected<T, std::error_code>;

/// Shorthand for returning an error from a function that yields result<T>.
inline unexpected<std::error_code> fail(std::error_code ec) { return unexpected<std::error_code>(ec); }
inline unexpected<std::error_code> fail(std::errc e) { return unexpected<std::error_code>(std::make_error_code(e)); }
template <class Enum>
    requires std::is_error_code_enum_v<Enum>
unexpected<std::error_code> fail(Enum e) { return unexpected<std::error_code>(make_error_code(e)); }

/// The errno of the last failed system call, as an error_code.
inline std::error_code last_system_error() { return {errno, std::system_category()}; }

}  // namespace postern
