// SPDX-License-Identifier: MIT
#include "dns/cares_parse.hpp"

#include "dns/wire.hpp"

#include <ares.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <span>

namespace postern::dns::detail {
namespace {

// What ares_parse_*_reply returned: ENODATA means the answer held no record of the type
// (a CNAME alone, for instance); anything else is a message it could not read.
status parsed(int rc) {
    if (rc == ARES_SUCCESS) return status::ok;
    return rc == ARES_ENODATA ? status::no_records : status::error;
}

template <std::size_t N, class Bytes>
status addresses_from(hostent* host, std::vector<boost::asio::ip::address>& out) {
    if (host == nullptr || host->h_addr_list == nullptr || host->h_length != static_cast<int>(N)) {
        if (host) ares_free_hostent(host);
        return status::error;
    }
    for (char** p = host->h_addr_list; *p != nullptr; ++p) {
        Bytes b;
        std::memcpy(b.data(), *p, N);
        if constexpr (N == 4)
            out.emplace_back(boost::asio::ip::address_v4(b));
        else
            out.emplace_back(boost::asio::ip::address_v6(b));
    }
    ares_free_hostent(host);
    return out.empty() ? status::no_records : status::ok;
}

}  // namespace

status from_ares(int ares_status) noexcept {
    switch (ares_status) {
        case ARES_SUCCESS: return status::ok;
        case ARES_ENODATA: return status::no_records;
        case ARES_ENOTFOUND: return status::nxdomain;  // ares_query's name for RCODE 3
        case ARES_ESERVFAIL: return status::servfail;
        case ARES_EREFUSED: return status::refused;
        case ARES_ETIMEOUT: return status::timeout;
        case ARES_EBADNAME: return status::bad_name;
        case ARES_ECANCELLED:
        case ARES_EDESTRUCTION: return status::cancelled;
        default: return status::error;
    }
}

std::string normalize_host(std::string host) {
    if (!host.empty() && host.back() == '.') host.pop_back();
    if (host.empty()) return ".";  // the root: RFC 7505's null MX target
    std::transform(host.begin(), host.end(), host.begin(),
                   [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; });
    return host;
}

status parse_mx(const unsigned char* msg, int len, std::vector<mx_record>& out) {
    ares_mx_reply* list = nullptr;
    const status s = parsed(ares_parse_mx_reply(msg, len, &list));
    for (auto* mx = list; mx != nullptr; mx = mx->next)
        out.push_back({mx->priority, normalize_host(mx->host ? mx->host : "")});
    if (list) ares_free_data(list);
    if (s == status::ok && out.empty()) return status::no_records;
    return s;
}

status parse_a(const unsigned char* msg, int len, std::vector<boost::asio::ip::address>& out) {
    hostent* host = nullptr;
    const status s = parsed(ares_parse_a_reply(msg, len, &host, nullptr, nullptr));
    if (s != status::ok) {
        if (host) ares_free_hostent(host);
        return s;
    }
    return addresses_from<4, boost::asio::ip::address_v4::bytes_type>(host, out);
}

status parse_aaaa(const unsigned char* msg, int len, std::vector<boost::asio::ip::address>& out) {
    hostent* host = nullptr;
    const status s = parsed(ares_parse_aaaa_reply(msg, len, &host, nullptr, nullptr));
    if (s != status::ok) {
        if (host) ares_free_hostent(host);
        return s;
    }
    return addresses_from<16, boost::asio::ip::address_v6::bytes_type>(host, out);
}

// ares_txt_ext lists every <character-string>; record_start marks the first of each record.
status parse_txt(const unsigned char* msg, int len, std::vector<txt_record>& out) {
    ares_txt_ext* list = nullptr;
    const status s = parsed(ares_parse_txt_reply_ext(msg, len, &list));
    for (auto* t = list; t != nullptr; t = t->next) {
        if (t->record_start || out.empty()) out.emplace_back();
        std::string part(reinterpret_cast<const char*>(t->txt), t->length);
        out.back().text += part;
        out.back().strings.push_back(std::move(part));
    }
    if (list) ares_free_data(list);
    if (s == status::ok && out.empty()) return status::no_records;
    return s;
}

// ares_parse_ptr_reply wants the address it was asked about only to copy it into the hostent;
// a placeholder serves. It lists every PTR target in h_aliases (h_name is one of them), and
// follows a CNAME in front of the PTRs (RFC 2317 classless delegation) when the names chain.
status parse_ptr(const unsigned char* msg, int len, std::vector<std::string>& out) {
    const unsigned char placeholder[4] = {0, 0, 0, 0};
    hostent* host = nullptr;
    const status s = parsed(ares_parse_ptr_reply(msg, len, placeholder, sizeof placeholder, AF_INET, &host));
    if (s == status::ok && host != nullptr) {
        if (host->h_aliases != nullptr)
            for (char** p = host->h_aliases; *p != nullptr; ++p) out.push_back(normalize_host(*p));
        if (out.empty() && host->h_name != nullptr) out.push_back(normalize_host(host->h_name));
    }
    if (host) ares_free_hostent(host);
    if (s == status::ok && out.empty()) return status::no_records;
    return s;
}

// c-ares 1.18 has no TLSA parser: read the message ourselves.
status parse_tlsa(const unsigned char* msg, int len, std::vector<tlsa_record>& out) {
    if (msg == nullptr || len < 0) return status::error;
    return parse_tlsa_answer(std::span<const std::uint8_t>(msg, static_cast<std::size_t>(len)), out);
}

}  // namespace postern::dns::detail
