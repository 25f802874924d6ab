// SPDX-License-Identifier: MIT
#pragma once
/// Errors of the delivery scheduler, as std::error_code. Each one is a caller's mistake that the
/// scheduler refuses without changing anything.
#include <system_error>

namespace postern::delivery {

enum class scheduler_errc {
    duplicate_id = 1,  ///< add(): a message with this id is queued already
    finished,          ///< add(): every recipient is delivered or failed; remove it from the spool instead
    unknown_job,       ///< report(): no running job has this id (reported or abandoned already)
    not_in_job,        ///< report(): an outcome names a recipient that this job does not carry
    bad_outcome,       ///< report(): an outcome with status "scheduled", or two outcomes for one recipient
};

const std::error_category& scheduler_category() noexcept;
inline std::error_code make_error_code(scheduler_errc e) noexcept { return {static_cast<int>(e), scheduler_category()}; }

}  // namespace postern::delivery

template <>
struct std::is_error_code_enum<postern::delivery::scheduler_errc> : std::true_type {};
