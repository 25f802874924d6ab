// SPDX-License-Identifier: MIT
#pragma once
/// Time is passed in: code below app/ asks a clock it is given, never the system.
#include <chrono>

namespace postern {

class clock {
public:
    virtual ~clock() = default;
    virtual std::chrono::system_clock::time_point now() const = 0;
};

class system_clock_source final : public clock {
public:
    std::chrono::system_clock::time_point now() const override { return std::chrono::system_clock::now(); }
};

class fixed_clock final : public clock {
public:
    explicit fixed_clock(std::chrono::system_clock::time_point t) : t_(t) {}
    std::chrono::system_clock::time_point now() const override { return t_; }
    void advance(std::chrono::seconds s) { t_ += s; }

private:
    std::chrono::system_clock::time_point t_;
};

}  // namespace postern
