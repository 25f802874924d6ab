// SPDX-License-Identifier: MIT
#include "delivery/scheduler_errors.hpp"

#include <string>

namespace postern::delivery {
namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "postern.scheduler"; }
    std::string message(int ev) const override {
        switch (static_cast<scheduler_errc>(ev)) {
        case scheduler_errc::duplicate_id: return "a message with this id is queued already";
        case scheduler_errc::finished: return "every recipient of this message is delivered or failed";
        case scheduler_errc::unknown_job: return "no running delivery job has this id";
        case scheduler_errc::not_in_job: return "an outcome names a recipient the job does not carry";
        case scheduler_errc::bad_outcome: return "an outcome is not a result, or repeats a recipient";
        }
        return "unknown scheduler error";
    }
};

}  // namespace

const std::error_category& scheduler_category() noexcept {
    static const category c;
    return c;
}

}  // namespace postern::delivery
