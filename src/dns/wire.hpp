// SPDX-License-Identifier: MIT
#pragma once
/// Raw DNS answers (RFC 1035 §4.1) for the types c-ares 1.18 cannot parse (TLSA).
#include "dns/types.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace postern::dns {

/// Appends the TLSA records (RFC 6698 §2.1, class IN) of the answer section of `message` to
/// `out`; records of other types (a CNAME before them) are skipped. Every length is checked
/// against the message: a short or inconsistent message is status::error and leaves `out` as
/// it was. status::no_records when the answer section holds no TLSA record.
status parse_tlsa_answer(std::span<const std::uint8_t> message, std::vector<tlsa_record>& out);

}  // namespace postern::dns
