// SPDX-License-Identifier: MIT
#include "dns/wire.hpp"

#include <optional>

namespace postern::dns {
namespace {

constexpr std::size_t header_size = 12;
constexpr std::uint16_t class_in = 1;

// A cursor that never reads past the end: every read says whether it could.
class reader {
public:
    explicit reader(std::span<const std::uint8_t> m) : m_(m) {}
    std::size_t pos() const { return pos_; }
    bool skip(std::size_t n) {
        if (m_.size() - pos_ < n) return false;
        pos_ += n;
        return true;
    }
    std::optional<std::uint16_t> u16() {
        if (m_.size() - pos_ < 2) return std::nullopt;
        const auto v = static_cast<std::uint16_t>(m_[pos_] << 8 | m_[pos_ + 1]);
        pos_ += 2;
        return v;
    }
    std::optional<std::uint8_t> u8() {
        if (pos_ >= m_.size()) return std::nullopt;
        return m_[pos_++];
    }
    // A name is labels ending in the root or in a compression pointer (RFC 1035 §4.1.4); it is
    // skipped, never followed, so a pointer loop cannot make this spin.
    bool skip_name() {
        for (int labels = 0; labels < 128; ++labels) {
            auto len = u8();
            if (!len) return false;
            if (*len == 0) return true;
            if ((*len & 0xC0) == 0xC0) return skip(1);
            if ((*len & 0xC0) != 0) return false;  // the obsolete extended label types
            if (!skip(*len)) return false;
        }
        return false;
    }

private:
    std::span<const std::uint8_t> m_;
    std::size_t pos_ = 0;
};

struct rr_header {
    std::uint16_t type = 0, rclass = 0, rdlength = 0;
};

std::optional<rr_header> read_rr_header(reader& r) {
    rr_header h;
    if (!r.skip_name()) return std::nullopt;
    auto type = r.u16(), rclass = r.u16();
    if (!type || !rclass || !r.skip(4)) return std::nullopt;  // 4: the TTL
    auto len = r.u16();
    if (!len) return std::nullopt;
    h.type = *type;
    h.rclass = *rclass;
    h.rdlength = *len;
    return h;
}

}  // namespace

status parse_tlsa_answer(std::span<const std::uint8_t> message, std::vector<tlsa_record>& out) {
    if (message.size() < header_size) return status::error;
    reader r(message);
    r.skip(4);  // ID and flags
    const auto qdcount = *r.u16(), ancount = *r.u16();
    r.skip(4);  // NSCOUNT, ARCOUNT: those sections are not read
    for (unsigned i = 0; i < qdcount; ++i)
        if (!r.skip_name() || !r.skip(4)) return status::error;
    std::vector<tlsa_record> found;
    for (unsigned i = 0; i < ancount; ++i) {
        auto h = read_rr_header(r);
        if (!h) return status::error;
        const auto rdata = message.subspan(r.pos(), std::min<std::size_t>(h->rdlength, message.size() - r.pos()));
        if (!r.skip(h->rdlength)) return status::error;
        if (h->type != static_cast<std::uint16_t>(record_type::tlsa) || h->rclass != class_in) continue;
        if (rdata.size() < 3) return status::error;  // usage, selector and matching type at least
        found.push_back({rdata[0], rdata[1], rdata[2], {rdata.begin() + 3, rdata.end()}});
    }
    if (found.empty()) return status::no_records;
    out.insert(out.end(), std::make_move_iterator(found.begin()), std::make_move_iterator(found.end()));
    return status::ok;
}

}  // namespace postern::dns
