// SPDX-License-Identifier: MIT
#include "dns/types.hpp"

#include <string>

namespace postern::dns {

std::string_view to_string(status s) noexcept {
    switch (s) {
        case status::ok: return "ok";
        case status::nxdomain: return "nxdomain";
        case status::no_records: return "no_records";
        case status::servfail: return "servfail";
        case status::refused: return "refused";
        case status::timeout: return "timeout";
        case status::bad_name: return "bad_name";
        case status::cancelled: return "cancelled";
        case status::error: return "error";
    }
    return "error";
}

std::string_view describe(status s) noexcept {
    switch (s) {
        case status::ok: return "ok";
        case status::nxdomain: return "no such domain (NXDOMAIN)";
        case status::no_records: return "no records of that type";
        case status::servfail: return "server failure (SERVFAIL)";
        case status::refused: return "query refused (REFUSED)";
        case status::timeout: return "no answer (timeout)";
        case status::bad_name: return "not a valid domain name";
        case status::cancelled: return "cancelled";
        case status::error: return "DNS error";
    }
    return "DNS error";
}

bool is_temporary(status s) noexcept {
    return s == status::servfail || s == status::refused || s == status::timeout || s == status::error;
}

std::string_view to_string(record_type t) noexcept {
    switch (t) {
        case record_type::a: return "A";
        case record_type::ptr: return "PTR";
        case record_type::mx: return "MX";
        case record_type::txt: return "TXT";
        case record_type::aaaa: return "AAAA";
        case record_type::tlsa: return "TLSA";
        case record_type::any: return "ANY";
    }
    return "ANY";
}

std::string reverse_name(const boost::asio::ip::address& ip) {
    std::string out;
    if (ip.is_v4()) {
        const auto b = ip.to_v4().to_bytes();
        for (auto it = b.rbegin(); it != b.rend(); ++it) out += std::to_string(*it) + ".";
        return out + "in-addr.arpa";
    }
    static constexpr char hex[] = "0123456789abcdef";
    const auto b = ip.to_v6().to_bytes();
    for (auto it = b.rbegin(); it != b.rend(); ++it) {
        out += hex[*it & 0x0f];
        out += '.';
        out += hex[*it >> 4];
        out += '.';
    }
    return out + "ip6.arpa";
}

namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "dns"; }
    std::string message(int v) const override { return std::string(describe(static_cast<status>(v))); }
};

}  // namespace

const std::error_category& dns_category() noexcept {
    static const category c;
    return c;
}

std::error_code make_error_code(status s) noexcept { return {static_cast<int>(s), dns_category()}; }

}  // namespace postern::dns
