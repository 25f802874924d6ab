// SPDX-License-Identifier: MIT
#pragma once
/// A deleter for std::unique_ptr that calls a C library's free function:
/// `std::unique_ptr<EVP_PKEY, c_deleter<&EVP_PKEY_free>>`.

namespace postern {

template <auto Free>
struct c_deleter {
    void operator()(auto* p) const noexcept { Free(p); }
};

}  // namespace postern
