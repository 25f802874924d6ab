// SPDX-License-Identifier: MIT
// The envelope codec. Decoding never throws: the text is bounded in size and nesting before the
// (recursive) JSON parser sees it, nlohmann's non-throwing parse is used, every field is checked
// for presence and type before it is read, and a catch-all turns anything unforeseen (bad_alloc)
// into bad_envelope.
#include "spool/envelope_codec.hpp"
#include "spool/spool_errors.hpp"

#include <nlohmann/json.hpp>

#include <climits>
#include <cstdint>
#include <limits>

namespace postern::spool {
namespace {

using json = nlohmann::json;

// RFC 3629 §4: well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool valid_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) { ++i; continue; }
        std::size_t n = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC2 ? 1 : 0;
        if (n == 0 || c > 0xF4 || s.size() - i <= n) return false;  // n continuation octets must follow
        auto c1 = static_cast<unsigned char>(s[i + 1]);
        unsigned lo = 0x80, hi = 0xBF;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
        if (c1 < lo || c1 > hi) return false;
        for (std::size_t k = 2; k <= n; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
        i += n + 1;
    }
    return true;
}

json text(const std::string& s) {
    if (valid_utf8(s)) return s;
    static constexpr char digits[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(s.size() * 2);
    for (unsigned char c : s) {
        hex.push_back(digits[c >> 4]);
        hex.push_back(digits[c & 15]);
    }
    return json{{"hex", std::move(hex)}};
}

std::int64_t seconds(time_point t) {
    return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string_view ret_word(dsn_return r) {
    switch (r) {
    case dsn_return::full: return "full";
    case dsn_return::headers: return "headers";
    case dsn_return::unspecified: break;
    }
    return "unspecified";
}

json encode_recipient(const queued_recipient& r) {
    json notify = nullptr;
    if (r.notify)
        notify = {{"never", r.notify->never}, {"success", r.notify->success},
                  {"failure", r.notify->failure}, {"delay", r.notify->delay}};
    return {{"address", text(r.address)},   {"notify", std::move(notify)},
            {"orcpt", text(r.orcpt)},       {"status", to_string(r.status)},
            {"attempts", r.attempts},       {"next_attempt", seconds(r.next_attempt)},
            {"last_reply", text(r.last_reply)}, {"remote_host", text(r.remote_host)},
            {"delay_notified", r.delay_notified}};
}

// The JSON parser recurses per level of nesting; an envelope has four. Refuse deeper input before
// parsing so that a damaged or hostile file cannot exhaust the stack.
bool nesting_within(std::string_view s, int limit) {
    int depth = 0;
    bool in_string = false, escaped = false;
    for (char c : s) {
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > limit) return false;
        } else if (c == '}' || c == ']') {
            --depth;
        }
    }
    return true;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// Reads the fields of one JSON object; the first problem clears ok and later reads return defaults.
class field_reader {
public:
    explicit field_reader(const json& obj) : obj_(obj), ok_(obj.is_object()) {}
    bool ok() const { return ok_; }

    const json* find(const char* key) {
        if (!ok_) return nullptr;
        auto it = obj_.find(key);
        if (it == obj_.end()) return bad();
        return &*it;
    }
    std::string str(const char* key) {
        const json* v = find(key);
        if (!v) return {};
        if (v->is_string()) return v->get_ref<const std::string&>();
        return from_hex(*v);
    }
    bool boolean(const char* key) {
        const json* v = find(key);
        if (!v || !v->is_boolean()) return bad(), false;
        return v->get<bool>();
    }
    std::uint64_t number(const char* key, std::uint64_t max) {
        const json* v = find(key);
        if (!v || !v->is_number_unsigned() || v->get<std::uint64_t>() > max) return bad(), 0;
        return v->get<std::uint64_t>();
    }
    time_point time(const char* key) {
        // Between 1970 and 2200: far from the ±292 years that system_clock's 64-bit nanoseconds
        // hold, so that no "arrival + lifetime" or "now - arrival" can overflow.
        constexpr std::int64_t limit = 7'258'118'400;  // 2200-01-01T00:00:00Z
        const json* v = find(key);
        if (!v || !v->is_number_integer()) return bad(), time_point{};
        auto s = v->is_number_unsigned() ? (v->get<std::uint64_t>() > static_cast<std::uint64_t>(limit)
                                                ? limit + 1 : static_cast<std::int64_t>(v->get<std::uint64_t>()))
                                         : v->get<std::int64_t>();
        if (s > limit || s < 0) return bad(), time_point{};
        return time_point{std::chrono::seconds{s}};
    }

private:
    std::nullptr_t bad() {
        ok_ = false;
        return nullptr;
    }
    std::string from_hex(const json& v) {
        auto it = v.is_object() && v.size() == 1 ? v.find("hex") : v.end();
        if (it == v.end() || !it->is_string()) return bad(), std::string{};
        const auto& h = it->get_ref<const std::string&>();
        std::string out;
        if (h.size() % 2 != 0) return bad(), out;
        for (std::size_t i = 0; i < h.size(); i += 2) {
            int hi = hex_value(h[i]), lo = hex_value(h[i + 1]);
            if (hi < 0 || lo < 0) return bad(), std::string{};
            out.push_back(static_cast<char>(hi * 16 + lo));
        }
        return out;
    }

    const json& obj_;
    bool ok_;
};

std::optional<notify_flags> decode_notify(const json& v, bool& ok) {
    if (v.is_null()) return std::nullopt;
    field_reader f(v);
    notify_flags n{f.boolean("never"), f.boolean("success"), f.boolean("failure"), f.boolean("delay")};
    ok = ok && f.ok();
    return n;
}

result<queued_recipient> decode_recipient(const json& v) {
    field_reader f(v);
    queued_recipient r;
    r.address = f.str("address");
    bool notify_ok = true;
    if (const json* n = f.find("notify")) r.notify = decode_notify(*n, notify_ok);
    r.orcpt = f.str("orcpt");
    auto status = parse_delivery_status(f.str("status"));
    r.status = status.value_or(delivery_status::scheduled);
    r.attempts = static_cast<unsigned>(f.number("attempts", UINT_MAX));
    r.next_attempt = f.time("next_attempt");
    r.last_reply = f.str("last_reply");
    r.remote_host = f.str("remote_host");
    r.delay_notified = f.boolean("delay_notified");
    if (!f.ok() || !notify_ok || !status) return fail(spool_errc::bad_envelope);
    return r;
}

std::optional<dsn_return> parse_ret(std::string_view s) {
    for (auto r : {dsn_return::unspecified, dsn_return::full, dsn_return::headers})
        if (ret_word(r) == s) return r;
    return std::nullopt;
}

result<queued_message> decode_message(const json& doc) {
    field_reader f(doc);
    queued_message m;
    m.id = f.str("id");
    m.reverse_path = f.str("reverse_path");
    m.arrival = f.time("arrival");
    m.size = f.number("size", std::numeric_limits<std::uint64_t>::max());
    m.envid = f.str("envid");
    auto ret = parse_ret(f.str("ret"));
    m.ret = ret.value_or(dsn_return::unspecified);
    m.smtputf8 = f.boolean("smtputf8");
    m.eight_bit = f.boolean("eight_bit");
    m.requiretls = f.boolean("requiretls");
    const json* rcpts = f.find("recipients");
    if (!f.ok() || !ret || !rcpts || !rcpts->is_array()) return fail(spool_errc::bad_envelope);
    m.recipients.reserve(rcpts->size());
    for (const auto& r : *rcpts) {
        auto rcpt = decode_recipient(r);
        if (!rcpt) return fail(rcpt.error());
        m.recipients.push_back(std::move(*rcpt));
    }
    return m;
}

}  // namespace

std::string encode_envelope(const queued_message& m) {
    json rcpts = json::array();
    for (const auto& r : m.recipients) rcpts.push_back(encode_recipient(r));
    json doc = {{"version", envelope_version},     {"id", text(m.id)},
                {"reverse_path", text(m.reverse_path)}, {"arrival", seconds(m.arrival)},
                {"size", m.size},                  {"envid", text(m.envid)},
                {"ret", ret_word(m.ret)},          {"smtputf8", m.smtputf8},
                {"eight_bit", m.eight_bit},        {"requiretls", m.requiretls},
                {"recipients", std::move(rcpts)}};
    // text() hex-encodes every string that is not UTF-8, so `replace` never alters anything; it is
    // there so that dump() cannot throw.
    return doc.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

result<queued_message> decode_envelope(std::string_view text) {
    if (text.size() > max_envelope_size) return fail(spool_errc::envelope_too_large);
    if (!nesting_within(text, 8)) return fail(spool_errc::bad_envelope);
    try {
        auto doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
        if (doc.is_discarded() || !doc.is_object()) return fail(spool_errc::bad_envelope);
        auto v = doc.find("version");
        if (v == doc.end() || !v->is_number_integer()) return fail(spool_errc::bad_envelope);
        if (!v->is_number_unsigned() || v->get<std::uint64_t>() != envelope_version)
            return fail(spool_errc::unsupported_version);
        return decode_message(doc);
    } catch (...) {
        return fail(spool_errc::bad_envelope);
    }
}

}  // namespace postern::spool
