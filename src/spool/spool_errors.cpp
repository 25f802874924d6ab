// SPDX-License-Identifier: MIT
#include "spool/spool_errors.hpp"

#include <string>

namespace postern::spool {
namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "postern.spool"; }
    std::string message(int ev) const override {
        switch (static_cast<spool_errc>(ev)) {
        case spool_errc::bad_envelope: return "malformed queue envelope";
        case spool_errc::unsupported_version: return "unsupported queue envelope version";
        case spool_errc::envelope_too_large: return "queue envelope too large";
        case spool_errc::no_such_message: return "no such queued message";
        case spool_errc::bad_id: return "malformed queue id";
        case spool_errc::data_mismatch: return "queued message file missing or of the wrong size";
        case spool_errc::stopped: return "queue stopped";
        }
        return "unknown spool error";
    }
};

}  // namespace

const std::error_category& spool_category() noexcept {
    static const category c;
    return c;
}

}  // namespace postern::spool
