// SPDX-License-Identifier: MIT
#pragma once
// Internal to cares_resolver: c-ares status codes and answer buffers to dns:: values. The
// parsers take a whole DNS message (what ares_query hands its callback) and append the records
// of one type; they return ok, no_records, or error for a message they cannot read.
#include "dns/types.hpp"

#include <vector>

namespace postern::dns::detail {

status from_ares(int ares_status) noexcept;

status parse_mx(const unsigned char* msg, int len, std::vector<mx_record>& out);
status parse_a(const unsigned char* msg, int len, std::vector<boost::asio::ip::address>& out);
status parse_aaaa(const unsigned char* msg, int len, std::vector<boost::asio::ip::address>& out);
status parse_txt(const unsigned char* msg, int len, std::vector<txt_record>& out);
status parse_tlsa(const unsigned char* msg, int len, std::vector<tlsa_record>& out);
// PTR targets, through normalize_host (lower-case, no trailing dot), in answer order.
status parse_ptr(const unsigned char* msg, int len, std::vector<std::string>& out);

// An exchange as c-ares gives it ("MX1.Example." or "" for the root) in mx_record's form.
std::string normalize_host(std::string host);

}  // namespace postern::dns::detail
