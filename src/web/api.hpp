// SPDX-License-Identifier: MIT
#pragma once
/// The JSON API and the HTML body view (docs/web.md): one request in, one response out. Runs on
/// the inbox's worker thread (it reads the index and the message files); no sockets here, so the
/// whole API is tested by calling handle().
#include "web/inbox.hpp"

#include <boost/beast/http/message_generator.hpp>
#include <boost/beast/http/string_body.hpp>

#include <string>

namespace postern::web {

namespace http = boost::beast::http;
using request = http::request<http::string_body>;

/// True for the paths handle() answers: /api/v1/... and /view/....
bool is_api_path(std::string_view target);

/// Answers one request. Never throws for any input; errors are JSON {"Error": "..."} with a 4xx
/// or 500 status. Message files are reached only through the index, never by a path made from
/// the request.
http::message_generator handle(const request& req, inbox& box);

/// An error response in the API's shape, for the connection's own errors (400, 401, 404, 413, 431).
http::response<http::string_body> json_error(http::status status, std::string_view message, unsigned version,
                                             bool keep_alive);

}  // namespace postern::web
