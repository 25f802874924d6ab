// SPDX-License-Identifier: MIT
#include "dns/static_resolver.hpp"

#include "dns/idna.hpp"

#include <charconv>
#include <optional>
#include <stdexcept>

namespace postern::dns {
namespace {

std::string name_or_throw(std::string_view name) {
    auto label = to_a_label(name);
    if (!label) throw std::invalid_argument("static_resolver: not a domain name: " + std::string(name));
    return std::move(*label);
}

// Words separated by blanks; "double quoted" words keep their blanks, with \" and \\ inside.
expected<std::vector<std::string>, std::string> split_words(std::string_view line) {
    std::vector<std::string> words;
    std::size_t i = 0;
    while (i < line.size()) {
        if (line[i] == ' ' || line[i] == '\t' || line[i] == '\r') {
            ++i;
        } else if (line[i] == '#') {
            break;
        } else if (line[i] == '"') {
            std::string w;
            for (++i; i < line.size() && line[i] != '"'; ++i) {
                if (line[i] == '\\' && i + 1 < line.size()) ++i;
                w += line[i];
            }
            if (i >= line.size()) return unexpected<std::string>("unterminated string");
            ++i;
            words.push_back(std::move(w));
        } else {
            const auto end = line.find_first_of(" \t\r", i);
            words.emplace_back(line.substr(i, end == std::string_view::npos ? line.size() - i : end - i));
            i = end == std::string_view::npos ? line.size() : end;
        }
    }
    return words;
}

template <class Int>
std::optional<Int> number(const std::string& s) {
    Int v{};
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return v;
}

std::optional<std::vector<std::uint8_t>> hex_bytes(const std::string& s) {
    if (s.size() % 2 != 0) return std::nullopt;
    std::vector<std::uint8_t> out;
    for (std::size_t i = 0; i < s.size(); i += 2) {
        std::uint8_t b = 0;
        auto [end, ec] = std::from_chars(s.data() + i, s.data() + i + 2, b, 16);
        if (ec != std::errc() || end != s.data() + i + 2) return std::nullopt;
        out.push_back(b);
    }
    return out;
}

std::optional<status> status_named(std::string_view s) {
    for (auto st : {status::nxdomain, status::no_records, status::servfail, status::refused, status::timeout,
                    status::bad_name, status::cancelled, status::error})
        if (to_string(st) == s) return st;
    return std::nullopt;
}

std::optional<record_type> type_named(std::string_view s) {
    if (s == "*") return record_type::any;
    for (auto t : {record_type::a, record_type::aaaa, record_type::mx, record_type::txt, record_type::tlsa,
                   record_type::ptr})
        if (to_string(t) == s) return t;
    return std::nullopt;
}

asio::ip::address address_or_throw(std::string_view address) {
    boost::system::error_code ec;
    const auto a = asio::ip::make_address(std::string(address), ec);
    if (ec) throw std::invalid_argument("static_resolver: not an IP address: " + std::string(address));
    return a;
}

}  // namespace

static_resolver::static_resolver(asio::any_io_executor ex) : ex_(std::move(ex)) {}

static_resolver::entry& static_resolver::at(std::string_view name) { return names_[name_or_throw(name)]; }

static_resolver& static_resolver::add_mx(std::string_view name, std::uint16_t preference, std::string_view host) {
    at(name).mx.push_back({preference, host == "." ? std::string(".") : name_or_throw(host)});
    return *this;
}

static_resolver& static_resolver::add_address(std::string_view name, std::string_view address) {
    const auto a = address_or_throw(address);
    (a.is_v4() ? at(name).a : at(name).aaaa).push_back(a);
    return *this;
}

static_resolver& static_resolver::add_txt(std::string_view name, std::vector<std::string> strings) {
    txt_record r;
    for (const auto& s : strings) r.text += s;
    r.strings = std::move(strings);
    at(name).txt.push_back(std::move(r));
    return *this;
}

static_resolver& static_resolver::add_tlsa(std::string_view name, tlsa_record record) {
    at(name).tlsa.push_back(std::move(record));
    return *this;
}

static_resolver& static_resolver::add_ptr(std::string_view address, std::string_view host) {
    at(reverse_name(address_or_throw(address))).ptr.push_back(name_or_throw(host));
    return *this;
}

static_resolver& static_resolver::set_status(std::string_view name, record_type type, status s) {
    at(name).forced[type] = s;
    return *this;
}

expected<void, std::string> static_resolver::load(std::string_view table) {
    std::size_t line_no = 0;
    while (!table.empty()) {
        ++line_no;
        const auto eol = table.find('\n');
        const auto line = table.substr(0, eol);
        table = eol == std::string_view::npos ? std::string_view{} : table.substr(eol + 1);
        auto words = split_words(line);
        if (!words) return unexpected<std::string>("line " + std::to_string(line_no) + ": " + words.error());
        if (!words->empty() && words->front() == "dns") words->erase(words->begin());
        if (words->empty()) continue;
        try {
            if (auto r = load_line(*words); !r)
                return unexpected<std::string>("line " + std::to_string(line_no) + ": " + r.error());
        } catch (const std::invalid_argument& e) {
            return unexpected<std::string>("line " + std::to_string(line_no) + ": " + e.what());
        }
    }
    return {};
}

// One table line, already split; names and addresses that are not are thrown by add_*.
expected<void, std::string> static_resolver::load_line(const std::vector<std::string>& w) {
    const auto bad = [&](const char* why) { return unexpected<std::string>(w[0] + ": " + why); };
    const std::string& type = w[0];
    if (w.size() < 3) return bad("expected TYPE NAME DATA");
    if (type == "MX") {
        auto pref = number<std::uint16_t>(w[2]);
        if (w.size() != 4 || !pref) return bad("expected MX NAME PREFERENCE HOST");
        add_mx(w[1], *pref, w[3]);
    } else if (type == "A" || type == "AAAA") {
        if (w.size() != 3) return bad("expected one address");
        if ((type == "A") != (w[2].find(':') == std::string::npos)) return bad("address of the other family");
        add_address(w[1], w[2]);
    } else if (type == "TXT") {
        add_txt(w[1], std::vector<std::string>(w.begin() + 2, w.end()));
    } else if (type == "TLSA") {
        auto u = number<std::uint8_t>(w.size() == 6 ? w[2] : ""), s = number<std::uint8_t>(w.size() == 6 ? w[3] : ""),
             m = number<std::uint8_t>(w.size() == 6 ? w[4] : "");
        auto data = w.size() == 6 ? hex_bytes(w[5]) : std::nullopt;
        if (!u || !s || !m || !data) return bad("expected TLSA NAME USAGE SELECTOR MATCHING-TYPE HEX");
        add_tlsa(w[1], {*u, *s, *m, std::move(*data)});
    } else if (type == "PTR") {
        if (w.size() != 3) return bad("expected PTR ADDRESS HOST");
        add_ptr(w[1], w[2]);
    } else if (type == "STATUS") {
        auto t = type_named(w[1]);
        auto st = w.size() == 4 ? status_named(w[3]) : std::nullopt;
        if (!t || !st) return bad("expected STATUS TYPE|* NAME nxdomain|no_records|servfail|refused|timeout|error");
        // PTR statuses are set by address, as PTR records are added.
        set_status(*t == record_type::ptr ? reverse_name(address_or_throw(w[2])) : w[2], *t, *st);
    } else {
        return bad("unknown record type");
    }
    return {};
}

template <class Record>
answer<Record> static_resolver::lookup(record_type type, std::string name, std::vector<Record> entry::*records) {
    queries_.emplace_back(type, name);
    answer<Record> a;
    a.name = std::move(name);
    const auto it = names_.find(a.name);
    if (it == names_.end()) {
        a.status = status::nxdomain;
        return a;
    }
    const auto& forced = it->second.forced;
    if (auto f = forced.find(type); f != forced.end()) {
        a.status = f->second;
    } else if (auto any = forced.find(record_type::any); any != forced.end()) {
        a.status = any->second;
    } else {
        a.records = it->second.*records;
        a.status = a.records.empty() ? status::no_records : status::ok;
    }
    if (a.status == status::error) a.detail = "static_resolver: error set for this name";
    if (!a.ok()) a.records.clear();
    return a;
}

void static_resolver::start_mx(std::string name, callback<mx_record> done) {
    post_answer(std::move(done), lookup(record_type::mx, std::move(name), &entry::mx));
}

void static_resolver::start_address(record_type type, std::string name, callback<asio::ip::address> done) {
    post_answer(std::move(done), lookup(type, std::move(name), type == record_type::aaaa ? &entry::aaaa : &entry::a));
}

void static_resolver::start_txt(std::string name, callback<txt_record> done) {
    post_answer(std::move(done), lookup(record_type::txt, std::move(name), &entry::txt));
}

void static_resolver::start_tlsa(std::string name, callback<tlsa_record> done) {
    post_answer(std::move(done), lookup(record_type::tlsa, std::move(name), &entry::tlsa));
}

void static_resolver::start_ptr(std::string name, callback<std::string> done) {
    post_answer(std::move(done), lookup(record_type::ptr, std::move(name), &entry::ptr));
}

}  // namespace postern::dns
