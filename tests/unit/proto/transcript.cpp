// SPDX-License-Identifier: MIT
#include "transcript.hpp"

#include <charconv>

namespace postern::proto::testing {

session_config test_config() {
    session_config c;
    c.hostname = "mx.test.example";
    c.limits.max_message_size = 10000;
    c.limits.max_recipients = 100;
    c.limits.max_errors = 1000;
    return c;
}

std::vector<parsed_reply> parse_replies(const std::string& out) {
    std::vector<parsed_reply> replies;
    parsed_reply cur;
    std::size_t pos = 0;
    while (pos < out.size()) {
        const auto eol = out.find("\r\n", pos);
        EXPECT_NE(eol, std::string::npos) << "reply without CRLF";
        if (eol == std::string::npos) break;
        std::string_view line{out.data() + pos, eol - pos};
        pos = eol + 2;
        EXPECT_GE(line.size(), 3u);
        int code = 0;
        std::from_chars(line.data(), line.data() + 3, code);
        const bool more = line.size() > 3 && line[3] == '-';
        std::string_view text = line.size() > 4 ? line.substr(4) : std::string_view{};
        cur.code = code;
        unsigned a = 0, b = 0, c = 0;
        char dot1 = 0, dot2 = 0;
        std::string t(text);
        if (sscanf(t.c_str(), "%u%c%u%c%u", &a, &dot1, &b, &dot2, &c) == 5 && dot1 == '.' && dot2 == '.' &&
            a == static_cast<unsigned>(code / 100))
            cur.esc = enhanced_code{static_cast<std::uint8_t>(a), static_cast<std::uint8_t>(b), static_cast<std::uint8_t>(c)};
        cur.lines.emplace_back(text);
        if (!more) {
            replies.push_back(std::move(cur));
            cur = {};
        }
    }
    return replies;
}

std::optional<reply> fake_policy::decide(const event& ev) {
    if (auto* m = std::get_if<mail_event>(&ev)) {
        if (m->reverse_path.mbox && m->reverse_path.mbox->domain == "blocked.example")
            return replies::make(550, {5, 7, 1}, "Sender refused");
    } else if (auto* r = std::get_if<rcpt_event>(&ev)) {
        if (r->forward_path.mbox && r->forward_path.mbox->domain == "refused.example")
            return replies::make(550, {5, 1, 1}, "No such user");
    } else if (std::get_if<data_event>(&ev)) {
        current.clear();
        if (refuse_data) return replies::local_error();
    } else if (auto* b = std::get_if<body_event>(&ev)) {
        current.append(b->bytes);
    } else if (std::get_if<message_event>(&ev)) {
        messages.push_back(std::exchange(current, {}));
        return replies::queued("ID" + std::to_string(next_id++));
    } else if (std::get_if<message_aborted_event>(&ev)) {
        ++aborted;
        current.clear();
    } else if (auto* v = std::get_if<vrfy_event>(&ev)) {
        if (v->mailbox && v->mailbox->to_string() == "known@local.example") return replies::vrfy_ok("known@local.example");
    }
    return std::nullopt;
}

run_result run_session(const session_config& cfg, const std::vector<std::string>& chunks, fake_policy policy) {
    server_session s(cfg);
    s.greet();
    std::string out;
    auto drain = [&] {
        while (auto ev = s.next_event()) {
            const bool decide = !std::holds_alternative<body_event>(*ev) &&
                                !std::holds_alternative<message_aborted_event>(*ev) &&
                                !std::holds_alternative<quit_event>(*ev);
            auto r = policy.decide(*ev);
            if (decide) {
                EXPECT_TRUE(s.awaiting_decision());
                s.respond(r);
            }
        }
        out += s.take_output();
    };
    drain();
    for (const auto& c : chunks) {
        s.receive(std::string_view(c));
        drain();
    }
    return {parse_replies(out), policy.messages, policy.aborted, s.closing()};
}

transcript& transcript::client(std::string line) { return raw(line + "\r\n"); }
transcript& transcript::raw(std::string bytes) {
    steps_.push_back(std::move(bytes));
    return *this;
}
transcript& transcript::expect(int code, std::optional<enhanced_code> esc) {
    expect_.push_back({code, esc});
    return *this;
}
transcript& transcript::expect_messages(std::vector<std::string> bodies) {
    messages_ = std::move(bodies);
    return *this;
}
transcript& transcript::expect_aborted(int n) {
    aborted_ = n;
    return *this;
}
transcript& transcript::expect_closing() {
    closing_ = true;
    return *this;
}
transcript& transcript::with_policy(fake_policy p) {
    policy_ = std::move(p);
    return *this;
}
transcript& transcript::whole_only() {
    whole_only_ = true;
    return *this;
}

void transcript::check(const run_result& r, const char* mode) const {
    SCOPED_TRACE(mode);
    ASSERT_EQ(r.replies.size(), expect_.size() + 1) << "replies (the greeting included)";
    EXPECT_EQ(r.replies[0].code, 220);
    for (std::size_t i = 0; i < expect_.size(); ++i) {
        SCOPED_TRACE("reply " + std::to_string(i + 1) + ": " + (r.replies[i + 1].lines.empty() ? "" : r.replies[i + 1].lines[0]));
        EXPECT_EQ(r.replies[i + 1].code, expect_[i].code);
        if (expect_[i].esc) {
            ASSERT_TRUE(r.replies[i + 1].esc.has_value());
            EXPECT_EQ(*r.replies[i + 1].esc, *expect_[i].esc);
        }
    }
    if (messages_) {
        EXPECT_EQ(r.messages, *messages_);
    }
    if (aborted_) {
        EXPECT_EQ(r.aborted, *aborted_);
    }
    if (closing_) {
        EXPECT_TRUE(r.closing);
    }
}

const run_result& transcript::result() {
    if (!ran_) {
        ran_ = true;
        whole_ = run_session(cfg_, steps_, policy_);
        check(whole_, "whole");
        if (!whole_only_) {
            std::vector<std::string> bytes;
            for (const auto& s : steps_)
                for (char c : s) bytes.emplace_back(1, c);
            check(run_session(cfg_, bytes, policy_), "byte by byte");
            std::string all;
            for (const auto& s : steps_) all += s;
            check(run_session(cfg_, {all}, policy_), "pipelined");
        }
    }
    return whole_;
}

transcript::~transcript() { result(); }

}  // namespace postern::proto::testing
