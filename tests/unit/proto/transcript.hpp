// SPDX-License-Identifier: MIT
#pragma once
// Transcript tests of the server core (h11's style): a script of client input and expected
// replies, replayed whole (one receive per step), byte by byte, and pipelined (all input in
// one receive). All three runs must give the same replies and the same stored messages.
#include "proto/replies.hpp"
#include "proto/server_session.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace postern::proto::testing {

struct parsed_reply {
    int code = 0;
    std::optional<enhanced_code> esc;
    std::vector<std::string> lines;
};

/// Splits the server's output into replies (multi-line replies joined).
std::vector<parsed_reply> parse_replies(const std::string& out);

/// A policy that accepts everything except: recipients at refused.example (550 5.1.1), a sender
/// at blocked.example (550 5.7.1), and VRFY of known@local.example (250).
struct fake_policy {
    std::vector<std::string> messages;  // every message queued, as decoded
    int aborted = 0;
    int next_id = 1;
    std::string current;
    bool refuse_data = false;
    std::optional<reply> decide(const event& ev);
};

struct run_result {
    std::vector<parsed_reply> replies;
    std::vector<std::string> messages;
    int aborted = 0;
    bool closing = false;
};

/// Feeds `chunks` in order to a new session (after greet()), answering events with `policy`.
run_result run_session(const session_config& cfg, const std::vector<std::string>& chunks, fake_policy policy = {});

session_config test_config();

class transcript {
public:
    explicit transcript(session_config cfg = test_config()) : cfg_(std::move(cfg)) {}
    ~transcript();
    transcript& client(std::string line);    ///< a command line; CRLF is added
    transcript& raw(std::string bytes);      ///< bytes as they are
    transcript& expect(int code, std::optional<enhanced_code> esc = std::nullopt);
    transcript& expect_messages(std::vector<std::string> bodies);
    transcript& expect_aborted(int n);
    transcript& expect_closing();
    transcript& with_policy(fake_policy p);
    /// Skip the byte-by-byte and pipelined runs (for scripts whose replies depend on timing).
    transcript& whole_only();
    const run_result& result();

private:
    struct expected { int code; std::optional<enhanced_code> esc; };
    void check(const run_result& r, const char* mode) const;
    session_config cfg_;
    std::vector<std::string> steps_;
    std::vector<expected> expect_;
    std::optional<std::vector<std::string>> messages_;
    std::optional<int> aborted_;
    bool closing_ = false;
    bool whole_only_ = false;
    bool ran_ = false;
    fake_policy policy_;
    run_result whole_;
};

}  // namespace postern::proto::testing
