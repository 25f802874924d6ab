// SPDX-License-Identifier: MIT
#include "web/html_view.hpp"

#include <fmt/format.h>

namespace postern::web {

namespace http = boost::beast::http;

std::string link_inline_parts(std::string html, std::string_view id, const message::parsed_message& m) {
    for (const auto& a : m.attachments) {
        if (a.content_id.empty()) continue;
        const std::string from = "cid:" + a.content_id;
        const std::string to = fmt::format("/api/v1/message/{}/part/{}", id, a.part_id);
        for (std::size_t at = html.find(from); at != std::string::npos; at = html.find(from, at + to.size())) {
            // Only whole references: the next octet ends the URL (a quote, white space, ')').
            const std::size_t end = at + from.size();
            if (end < html.size() && html[end] != '"' && html[end] != '\'' && html[end] != ')' && html[end] != ' ' &&
                html[end] != '>') {
                at += 1;
                continue;
            }
            html.replace(at, from.size(), to);
        }
    }
    return html;
}

std::string view_policy(bool remote) {
    // `sandbox` here as well as on the iframe: opened on its own, the page is still scriptless.
    const char* images = remote ? "img-src 'self' data: http: https:; style-src 'unsafe-inline' 'self' http: https:; font-src data: http: https:"
                                : "img-src 'self' data:; style-src 'unsafe-inline'; font-src data:";
    return fmt::format("default-src 'none'; {}; script-src 'none'; object-src 'none'; form-action 'none'; "
                       "frame-ancestors 'self'; base-uri 'none'; sandbox allow-popups allow-popups-to-escape-sandbox",
                       images);
}

http::message_generator html_view_response(const http::request<http::string_body>& req, std::string_view id,
                                           const message::parsed_message& m, bool remote) {
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::content_type, "text/html; charset=utf-8");
    res.set("Content-Security-Policy", view_policy(remote));
    res.set(http::field::cache_control, "no-store");
    res.set("X-Content-Type-Options", "nosniff");
    res.set("Referrer-Policy", "no-referrer");
    // <base target=_blank>: links open in a new tab (allow-popups), never inside the frame.
    res.body() = "<!doctype html><meta charset=\"utf-8\"><base target=\"_blank\">" + link_inline_parts(m.html, id, m);
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    return res;
}

}  // namespace postern::web
