// SPDX-License-Identifier: MIT
#pragma once
// A tiny DNS responder for the c-ares tests: a UDP socket on 127.0.0.1:0, on the test's own
// io_context, answering each (name, type) with a canned reply, or not at all. Unknown
// questions get REFUSED (what dnsmasq does outside its zones). No dnsmasq needed.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/udp.hpp>

#include <array>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace postern::dns::testing {

namespace asio = boost::asio;
using bytes = std::vector<std::uint8_t>;

inline constexpr std::uint8_t rcode_noerror = 0, rcode_servfail = 2, rcode_nxdomain = 3, rcode_refused = 5;

inline void put16(bytes& b, std::uint16_t v) {
    b.push_back(static_cast<std::uint8_t>(v >> 8));
    b.push_back(static_cast<std::uint8_t>(v));
}

// "mx1.example" -> 3 mx1 7 example 0; "." or "" -> the root.
inline bytes encode_name(std::string_view name) {
    bytes b;
    while (!name.empty() && name != ".") {
        const auto dot = name.find('.');
        const auto label = name.substr(0, dot);
        b.push_back(static_cast<std::uint8_t>(label.size()));
        b.insert(b.end(), label.begin(), label.end());
        name = dot == std::string_view::npos ? std::string_view{} : name.substr(dot + 1);
    }
    b.push_back(0);
    return b;
}

struct rr {
    std::uint16_t type;
    bytes rdata;
};

inline rr mx_rr(std::uint16_t preference, std::string_view host) {
    rr r{15, {}};
    put16(r.rdata, preference);
    auto n = encode_name(host);
    r.rdata.insert(r.rdata.end(), n.begin(), n.end());
    return r;
}
inline rr a_rr(std::string_view address) {
    auto b = asio::ip::make_address_v4(std::string(address)).to_bytes();
    return {1, bytes(b.begin(), b.end())};
}
inline rr aaaa_rr(std::string_view address) {
    auto b = asio::ip::make_address_v6(std::string(address)).to_bytes();
    return {28, bytes(b.begin(), b.end())};
}
inline rr txt_rr(const std::vector<std::string>& strings) {
    rr r{16, {}};
    for (const auto& s : strings) {
        r.rdata.push_back(static_cast<std::uint8_t>(s.size()));
        r.rdata.insert(r.rdata.end(), s.begin(), s.end());
    }
    return r;
}
inline rr tlsa_rr(std::uint8_t usage, std::uint8_t selector, std::uint8_t mtype, const bytes& data) {
    rr r{52, {usage, selector, mtype}};
    r.rdata.insert(r.rdata.end(), data.begin(), data.end());
    return r;
}
inline rr cname_rr(std::string_view target) { return {5, encode_name(target)}; }

struct plan {
    std::uint8_t rcode = rcode_noerror;
    std::vector<rr> answers;
    bool silent = false;  // never answer: the timeout case
};

// A whole response to `query`: its ID, RD and question, then `answers` (owner: a pointer to
// the question name, RFC 1035 §4.1.4).
inline bytes make_response(const bytes& query, std::size_t question_end, const plan& p) {
    bytes r{query[0], query[1], static_cast<std::uint8_t>(0x80 | (query[2] & 0x79)),
            static_cast<std::uint8_t>(0x80 | p.rcode)};
    put16(r, 1);
    put16(r, static_cast<std::uint16_t>(p.answers.size()));
    put16(r, 0);
    put16(r, 0);
    r.insert(r.end(), query.begin() + 12, query.begin() + static_cast<std::ptrdiff_t>(question_end));
    for (const auto& a : p.answers) {
        put16(r, 0xC00C);
        put16(r, a.type);
        put16(r, 1);
        put16(r, 0);
        put16(r, 300);  // TTL
        put16(r, static_cast<std::uint16_t>(a.rdata.size()));
        r.insert(r.end(), a.rdata.begin(), a.rdata.end());
    }
    return r;
}

class fake_dns_server {
public:
    explicit fake_dns_server(asio::io_context& io)
        : sock_(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        receive();
    }

    std::string address() const { return "127.0.0.1:" + std::to_string(sock_.local_endpoint().port()); }

    void on(const std::string& name, std::uint16_t type, plan p) { plans_[{name, type}] = std::move(p); }

    // Every question received, in order (retries included).
    std::vector<std::pair<std::string, std::uint16_t>> seen;

private:
    void receive() {
        sock_.async_receive_from(asio::buffer(buf_), from_, [this](boost::system::error_code ec, std::size_t n) {
            if (ec) return;  // the socket is closed: the test is over
            answer(bytes(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(n)));
            receive();
        });
    }

    void answer(const bytes& q) {
        if (q.size() < 17) return;
        std::string name;
        std::size_t pos = 12;
        while (pos < q.size() && q[pos] != 0) {
            const std::size_t len = q[pos];
            if (pos + 1 + len > q.size()) return;
            if (!name.empty()) name += '.';
            for (std::size_t i = 0; i < len; ++i) name += static_cast<char>(std::tolower(q[pos + 1 + i]));
            pos += 1 + len;
        }
        if (pos + 5 > q.size()) return;
        const auto type = static_cast<std::uint16_t>(q[pos + 1] << 8 | q[pos + 2]);
        seen.emplace_back(name, type);
        const auto it = plans_.find({name, type});
        const plan p = it != plans_.end() ? it->second : plan{rcode_refused, {}, false};
        if (p.silent) return;
        const auto r = make_response(q, pos + 5, p);
        boost::system::error_code ec;
        sock_.send_to(asio::buffer(r), from_, 0, ec);
    }

    asio::ip::udp::socket sock_;
    asio::ip::udp::endpoint from_;
    std::array<std::uint8_t, 4096> buf_{};
    std::map<std::pair<std::string, std::uint16_t>, plan> plans_;
};

// Runs `io` until `done()` or `limit` passes; returns done().
template <class Done>
bool run_until(asio::io_context& io, Done done, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < end) {
        if (io.stopped()) io.restart();
        io.run_one_for(std::chrono::milliseconds(10));
    }
    return done();
}

}  // namespace postern::dns::testing
