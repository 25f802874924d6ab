// SPDX-License-Identifier: MIT
#pragma once
/// A resolver that answers from a table: for the unit tests of everything above the DNS (MX
/// walk, SPF, DKIM, DMARC, DANE), as Stalwart's injected resolver and mail-auth's txt_add.
///
/// A name with records of some type answers another type with no_records (NODATA); a name
/// with none at all is nxdomain; set_status() makes a name answer any status (servfail,
/// timeout, ...) for one type or for all. Answers are posted to the executor like the real
/// resolver's, so the code under test sees the same ordering.
#include "base/expected.hpp"
#include "dns/resolver.hpp"

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace postern::dns {

class static_resolver final : public resolver {
public:
    explicit static_resolver(asio::any_io_executor ex);

    executor_type get_executor() const override { return ex_; }

    // Names (and MX hosts) go through to_a_label, so "Bücher.example" and its A-label are one
    // entry; "." as an MX host is the root (a null MX). A name that is not one, or an address
    // that is not one, throws std::invalid_argument: the test itself is broken.
    static_resolver& add_mx(std::string_view name, std::uint16_t preference, std::string_view host);
    static_resolver& add_address(std::string_view name, std::string_view address);  ///< IPv4: A, IPv6: AAAA
    static_resolver& add_txt(std::string_view name, std::vector<std::string> strings);
    static_resolver& add_tlsa(std::string_view name, tlsa_record record);
    /// A PTR record for `address` (kept under reverse_name(address)) naming `host`.
    static_resolver& add_ptr(std::string_view address, std::string_view host);
    /// Queries of `type` for `name` (every type for record_type::any) answer `s` from now on,
    /// whatever records the name has. The name then exists for the other types.
    static_resolver& set_status(std::string_view name, record_type type, status s);

    /// Adds the records of a table, one per line; '#' starts a comment, a leading "dns" word is
    /// skipped (so data files can mix "dns" lines with others), strings may be double-quoted:
    ///   MX     example.org  10 mx1.example.org
    ///   A      mx1.example.org  192.0.2.1
    ///   AAAA   mx1.example.org  2001:db8::1
    ///   TXT    example.org  "v=spf1 ip4:192.0.2.0/24 " "-all"     (one record, two strings)
    ///   TLSA   _25._tcp.mx1.example.org  3 1 1 8f0c...            (hex data)
    ///   PTR    192.0.2.1  mx1.example.org                          (the address, not the arpa name)
    ///   STATUS MX example.org servfail                             (or * for every type)
    ///   STATUS PTR 192.0.2.1 timeout                               (an address, for PTR)
    /// Error: "line N: what is wrong"; the lines before it stay added.
    expected<void, std::string> load(std::string_view table);

    /// Every query that reached the table (bad names do not), in order: tests count lookups.
    const std::vector<std::pair<record_type, std::string>>& queries() const { return queries_; }

protected:
    void start_mx(std::string name, callback<mx_record> done) override;
    void start_address(record_type type, std::string name, callback<asio::ip::address> done) override;
    void start_txt(std::string name, callback<txt_record> done) override;
    void start_tlsa(std::string name, callback<tlsa_record> done) override;
    void start_ptr(std::string name, callback<std::string> done) override;

private:
    struct entry {
        std::vector<mx_record> mx;
        std::vector<asio::ip::address> a, aaaa;
        std::vector<txt_record> txt;
        std::vector<tlsa_record> tlsa;
        std::vector<std::string> ptr;
        std::map<record_type, status> forced;
    };
    entry& at(std::string_view name);
    template <class Record>
    answer<Record> lookup(record_type type, std::string name, std::vector<Record> entry::*records);
    expected<void, std::string> load_line(const std::vector<std::string>& words);

    asio::any_io_executor ex_;
    std::map<std::string, entry, std::less<>> names_;
    std::vector<std::pair<record_type, std::string>> queries_;
};

}  // namespace postern::dns
