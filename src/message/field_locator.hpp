// SPDX-License-Identifier: MIT
#pragma once
/// Finds where the header fields of one name start in a message that arrives in chunks, with the
/// first octets of each one's value: for renaming fields in place once the message is stored
/// (RFC 8601 §5: Authentication-Results fields that claim to be ours). Pure; constant memory.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace postern::message {

class field_locator {
public:
    struct field {
        std::uint64_t offset = 0;  ///< of the field name's first octet, from the start of the message
        std::string value;         ///< the value's first octets (up to max_value), folding kept
    };

    /// `name` is matched case-insensitively (RFC 5322 §1.2.2), with optional WSP before the colon.
    explicit field_locator(std::string name, std::size_t max_fields = 16, std::size_t max_value = 512)
        : name_(std::move(name)), max_fields_(max_fields), max_value_(max_value) {}

    /// The next chunk of the message. Stops looking at the end of the header section.
    void feed(std::string_view bytes);
    /// The fields found so far (at most max_fields; later ones are not reported).
    const std::vector<field>& fields() const noexcept { return fields_; }

private:
    void at_line_start();
    void take(char c, std::uint64_t offset);

    std::string name_;
    std::size_t max_fields_, max_value_;
    std::vector<field> fields_;
    std::uint64_t offset_ = 0;
    std::string line_head_;       // the current line's first octets, to recognise the name
    std::uint64_t line_head_start_ = 0;
    bool line_start_ = true;
    bool done_ = false;           // past the header section
    bool in_match_ = false;       // the current field is one of ours: collect its value
    bool in_value_ = false;       // past the colon of a matching line
    bool line_is_blank_ = true;   // nothing but the line end so far
};

}  // namespace postern::message
