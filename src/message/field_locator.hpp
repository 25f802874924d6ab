// SPDX-License-Identifier: MIT
#pragma once
/// Finds, in a message that arrives in chunks, where the header fields of one name start whose
/// value a test picks out: for renaming fields in place once the message is stored (RFC 8601 §5:
/// Authentication-Results fields that claim to be ours). Pure; memory bounded by max_fields.
///
/// Each field of the name is decided when it ends (at the next field, the end of the header
/// section, or finish()): kept when `wanted(value)` says so, or when its value was longer than
/// max_value (undecidable, so kept: renaming too much is harmless, too little is not).
/// Line ends are CRLF or a bare LF; a CR not followed by LF is content, so a line of bare CRs does
/// not end the header section (as the DKIM header collector and mail readers see it).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace postern::message {

class field_locator {
public:
    using test = std::function<bool(std::string_view value)>;

    /// `name` is matched case-insensitively (RFC 5322 §1.2.2), with any WSP before the colon
    /// (obs-optional, §4.5).
    field_locator(std::string name, test wanted, std::size_t max_fields = 1000, std::size_t max_value = 1024)
        : name_(std::move(name)), wanted_(std::move(wanted)), max_fields_(max_fields), max_value_(max_value) {}

    /// The next chunk of the message. Stops looking at the end of the header section.
    void feed(std::string_view bytes);
    /// The message ended (a header section with no body ends here).
    void finish();

    /// Offsets (from the start of the message) of the kept fields' first octet, in order.
    const std::vector<std::uint64_t>& offsets() const noexcept { return offsets_; }
    /// More than max_fields fields were kept: offsets() holds the first max_fields only.
    bool overflow() const noexcept { return overflow_; }

private:
    enum class state { name, space, value, skip };
    void content(char c, std::uint64_t offset);
    void content_of_value(char c);
    void end_line();
    void close_field();

    std::string name_;
    test wanted_;
    std::size_t max_fields_, max_value_;
    std::vector<std::uint64_t> offsets_;
    bool overflow_ = false;

    std::uint64_t offset_ = 0;
    bool done_ = false;
    bool cr_pending_ = false;
    bool line_start_ = true;
    bool line_blank_ = true;
    state state_ = state::skip;
    std::size_t matched_ = 0;      // octets of name_ matched on this line
    bool collecting_ = false;      // inside a field of our name
    bool truncated_ = false;
    std::uint64_t field_offset_ = 0;
    std::string value_;
};

}  // namespace postern::message
