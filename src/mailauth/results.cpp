// SPDX-License-Identifier: MIT
#include "mailauth/results.hpp"

namespace postern::mailauth {

std::string_view to_string(spf_result r) noexcept {
    switch (r) {
        case spf_result::none: return "none";
        case spf_result::neutral: return "neutral";
        case spf_result::pass: return "pass";
        case spf_result::fail: return "fail";
        case spf_result::softfail: return "softfail";
        case spf_result::temperror: return "temperror";
        case spf_result::permerror: return "permerror";
    }
    return "permerror";
}

std::string_view to_string(dkim_result r) noexcept {
    switch (r) {
        case dkim_result::none: return "none";
        case dkim_result::pass: return "pass";
        case dkim_result::fail: return "fail";
        case dkim_result::policy: return "policy";
        case dkim_result::neutral: return "neutral";
        case dkim_result::temperror: return "temperror";
        case dkim_result::permerror: return "permerror";
    }
    return "permerror";
}

std::string_view to_string(dmarc_result r) noexcept {
    switch (r) {
        case dmarc_result::none: return "none";
        case dmarc_result::pass: return "pass";
        case dmarc_result::fail: return "fail";
        case dmarc_result::temperror: return "temperror";
        case dmarc_result::permerror: return "permerror";
    }
    return "permerror";
}

std::string_view to_string(dmarc_policy p) noexcept {
    switch (p) {
        case dmarc_policy::none: return "none";
        case dmarc_policy::quarantine: return "quarantine";
        case dmarc_policy::reject: return "reject";
    }
    return "none";
}

}  // namespace postern::mailauth
