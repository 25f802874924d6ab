// SPDX-License-Identifier: MIT
#pragma once
/// Errors of the outgoing queue (queue_store) and of its envelope codec, as std::error_code.
/// System call failures (ENOSPC, EIO, ...) keep their std::system_category() codes.
#include <system_error>

namespace postern::spool {

enum class spool_errc {
    bad_envelope = 1,     ///< an envelope file is not the JSON this version writes (field missing, wrong type)
    unsupported_version,  ///< an envelope file of a version this build does not read
    envelope_too_large,   ///< an envelope file above max_envelope_size
    no_such_message,      ///< get/update/remove/open_data: the id is not queued
    bad_id,               ///< an id that this store never makes (path traversal attempts included)
    data_mismatch,        ///< the message file is missing or its size differs from the envelope's
    stopped,              ///< commit() after stop()
};

const std::error_category& spool_category() noexcept;
inline std::error_code make_error_code(spool_errc e) noexcept { return {static_cast<int>(e), spool_category()}; }

}  // namespace postern::spool

template <>
struct std::is_error_code_enum<postern::spool::spool_errc> : std::true_type {};
