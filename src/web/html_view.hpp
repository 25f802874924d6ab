// SPDX-License-Identifier: MIT
#pragma once
/// The HTML body of a message as a page of its own, for the inbox page's sandboxed iframe: under
/// a Content-Security-Policy that forbids every script and, unless asked, every remote fetch.
#include "message/mime_parse.hpp"

#include <boost/beast/http/message_generator.hpp>
#include <boost/beast/http/string_body.hpp>

#include <string>

namespace postern::web {

/// `cid:` references of the HTML replaced by this message's part URLs (RFC 2392).
std::string link_inline_parts(std::string html, std::string_view id, const message::parsed_message& m);

/// The CSP of the view: no script, no plugin, no form, no navigation of the page that frames it;
/// images and styles from this server or data: URLs, or (remote) from anywhere.
std::string view_policy(bool remote);

boost::beast::http::message_generator html_view_response(const boost::beast::http::request<boost::beast::http::string_body>& req,
                                                         std::string_view id, const message::parsed_message& m, bool remote);

}  // namespace postern::web
