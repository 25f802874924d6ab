// SPDX-License-Identifier: MIT
// The /api/v1 routes and /view/{ID}.html, on the inbox's worker thread.
#include "web/api.hpp"

#include "index/errors.hpp"
#include "web/html_view.hpp"
#include "web/json_views.hpp"
#include "web/mapped_file.hpp"
#include "web/url.hpp"

#include <boost/beast/http/file_body.hpp>
#include <boost/beast/version.hpp>
#include <fmt/format.h>

#include <charconv>

namespace postern::web {
namespace {

using status = http::status;
using string_response = http::response<http::string_body>;

constexpr std::size_t default_limit = 50;
constexpr std::size_t max_limit = 10'000;

// An error the handlers return; turned into a JSON response by handle().
struct api_error {
    status code;
    std::string message;
};
template <class T>
using answer = expected<T, api_error>;
api_error error(status s, std::string m) { return {s, std::move(m)}; }
unexpected<api_error> fail(api_error e) { return unexpected<api_error>(std::move(e)); }

string_response text_response(const request& req, status s, std::string body, std::string_view type) {
    string_response res{s, req.version()};
    res.set(http::field::content_type, type);
    res.set(http::field::cache_control, "no-store");
    res.set("X-Content-Type-Options", "nosniff");
    res.keep_alive(req.keep_alive());
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
}

string_response json_response(const request& req, const json& j) {
    return text_response(req, status::ok, dump(j), "application/json");
}

string_response ok_response(const request& req) { return text_response(req, status::ok, "ok", "text/plain"); }

answer<std::size_t> number_param(std::string_view target, std::string_view name, std::size_t fallback) {
    auto v = query_param(target, name);
    if (!v || v->empty()) return fallback;
    std::size_t n = 0;
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc() || p != v->data() + v->size()) return fail(error(status::bad_request, fmt::format("{} must be a number", name)));
    return n;
}

answer<json> page_of(const request& req, inbox& box, std::string_view query) {
    auto start = number_param(req.target(), "start", 0);
    if (!start) return fail(start.error());
    auto limit = number_param(req.target(), "limit", default_limit);
    if (!limit) return fail(limit.error());
    auto p = box.index().search(query, *start, std::min(*limit, max_limit));
    if (!p) {
        if (p.error() == index::index_errc::bad_query) return fail(error(status::bad_request, "the search could not be run"));
        return fail(error(status::internal_server_error, p.error().message()));
    }
    if (query.empty()) return page_json(*p, index::totals{p->total, p->unread}, *start);  // the list is the mailbox
    auto totals = box.index().count();
    if (!totals) return fail(error(status::internal_server_error, totals.error().message()));
    return page_json(*p, *totals, *start);
}

// Message ids are Maildir file names; anything else is not one of ours.
bool plausible_id(std::string_view id) {
    if (id.empty() || id.size() > 255 || id == "." || id == "..") return false;
    for (unsigned char c : id)
        if (c <= 0x20 || c == '/' || c >= 0x7f) return false;
    return true;
}

answer<index::indexed_message> find_row(inbox& box, std::string_view id) {
    if (id == "latest") {
        auto p = box.index().list(0, 1);
        if (!p) return fail(error(status::internal_server_error, p.error().message()));
        if (p->messages.empty()) return fail(error(status::not_found, "no messages"));
        return std::move(p->messages.front());
    }
    if (!plausible_id(id)) return fail(error(status::not_found, "no such message"));
    auto row = box.index().get(id);
    if (!row) return fail(error(status::internal_server_error, row.error().message()));
    if (!*row) return fail(error(status::not_found, "no such message"));
    return std::move(**row);
}

std::filesystem::path current_path(const index::indexed_message& row) { return web::current_path(row.path, row.id); }

answer<mapped_file> open_message(const index::indexed_message& row) {
    auto f = mapped_file::open(current_path(row));
    if (f) return std::move(*f);
    return fail(error(status::not_found, "the message file is gone"));
}

answer<std::vector<std::string>> ids_of(const json& body) {
    std::vector<std::string> ids;
    if (!body.is_object() || !body.contains("IDs") || body["IDs"].is_null()) return ids;
    if (!body["IDs"].is_array()) return fail(error(status::bad_request, "IDs must be an array of strings"));
    for (const auto& v : body["IDs"]) {
        if (!v.is_string()) return fail(error(status::bad_request, "IDs must be an array of strings"));
        ids.push_back(v.get<std::string>());
    }
    return ids;
}

answer<json> body_json(const request& req, bool optional) {
    if (req.body().empty() && optional) return json::object();
    auto j = json::parse(req.body(), nullptr, false);
    if (j.is_discarded() || !j.is_object()) return fail(error(status::bad_request, "the body is not a JSON object"));
    return j;
}

http::message_generator message_route(const request& req, inbox& box, std::string_view rest);
http::message_generator route(const request& req, inbox& box);

}  // namespace

namespace {

template <class T>
http::message_generator reply(const request& req, answer<T>&& a) {
    if (!a) return json_error(a.error().code, a.error().message, req.version(), req.keep_alive());
    if constexpr (std::is_same_v<T, json>) return json_response(req, *a);
    else return std::move(*a);
}

answer<string_response> messages_put(const request& req, inbox& box) {
    auto body = body_json(req, false);
    if (!body) return fail(body.error());
    auto ids = ids_of(*body);
    if (!ids) return fail(ids.error());
    bool read = false;
    if (body->contains("Read")) {
        if (!(*body)["Read"].is_boolean()) return fail(error(status::bad_request, "Read must be true or false"));
        read = (*body)["Read"].get<bool>();
    }
    if (auto r = box.set_read(*ids, read); !r) return fail(error(status::internal_server_error, r.error().message()));
    return ok_response(req);
}

answer<string_response> messages_delete(const request& req, inbox& box) {
    auto body = body_json(req, true);
    if (!body) return fail(body.error());
    auto ids = ids_of(*body);
    if (!ids) return fail(ids.error());
    if (ids->empty()) {
        if (auto r = box.remove_all(); !r) return fail(error(status::internal_server_error, r.error().message()));
    } else if (auto r = box.remove(*ids); !r) {
        return fail(error(status::internal_server_error, r.error().message()));
    }
    return ok_response(req);
}

answer<std::string> search_query(const request& req) {
    auto q = query_param(req.target(), "query");
    std::string query = q ? *q : std::string();
    if (query.find_first_not_of(" \t\r\n") == std::string::npos) return fail(error(status::bad_request, "no search query"));
    // "subject:" or "*" alone would match everything: a search that names nothing is refused
    // (so that DELETE /api/v1/search can never empty the inbox by accident).
    auto terms = index::parse_search(query);
    if (terms.matches_everything())
        return fail(error(status::bad_request, "the search has no words or filters"));
    return query;
}

http::message_generator search_route(const request& req, inbox& box) {
    auto q = search_query(req);
    if (!q) return reply(req, answer<json>(fail(q.error())));
    if (req.method() == http::verb::get) return reply(req, page_of(req, box, *q));
    if (req.method() != http::verb::delete_) return json_error(status::method_not_allowed, "GET or DELETE", req.version(), req.keep_alive());
    auto n = box.remove_matching(*q);
    if (!n) return json_error(status::internal_server_error, n.error().message(), req.version(), req.keep_alive());
    return ok_response(req);
}

answer<json> info(inbox& box) {
    auto t = box.index().count();
    auto st = box.index().stats();
    if (!t || !st) return fail(error(status::internal_server_error, "the index cannot be read"));
    return json{{"Version", POSTERN_VERSION}, {"Messages", t->messages}, {"Unread", t->unread}, {"Size", st->bytes}};
}

http::message_generator route(const request& req, inbox& box) {
    const std::string_view path = target_path(req.target());
    const auto m = req.method();
    if (path == "/api/v1/messages") {
        if (m == http::verb::get) return reply(req, page_of(req, box, {}));
        if (m == http::verb::put) return reply(req, messages_put(req, box));
        if (m == http::verb::delete_) return reply(req, messages_delete(req, box));
        return json_error(status::method_not_allowed, "GET, PUT or DELETE", req.version(), req.keep_alive());
    }
    if (path == "/api/v1/search") return search_route(req, box);
    if (path == "/api/v1/info") {
        if (m == http::verb::get) return reply(req, info(box));
        return json_error(status::method_not_allowed, "GET", req.version(), req.keep_alive());
    }
    if (path.starts_with("/api/v1/message/")) return message_route(req, box, path.substr(16));
    if (path.starts_with("/view/") && path.ends_with(".html") && path.size() > 11) {
        if (m != http::verb::get) return json_error(status::method_not_allowed, "GET", req.version(), req.keep_alive());
        const std::string id = percent_decode(path.substr(6, path.size() - 11), false);
        auto row = find_row(box, id);
        if (!row) return reply(req, answer<json>(fail(row.error())));
        auto file = open_message(*row);
        if (!file) return reply(req, answer<json>(fail(file.error())));
        const bool remote = query_param(req.target(), "remote").value_or("") == "1";
        return html_view_response(req, row->id, message::parse_message(file->bytes()), remote);
    }
    return json_error(status::not_found, "no such path", req.version(), req.keep_alive());
}

}  // namespace

namespace {

// RFC 6266: an ASCII fallback name and the UTF-8 one (RFC 8187).
std::string disposition(std::string_view filename) {
    std::string ascii, encoded;
    for (unsigned char c : filename) {
        bool safe = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
        ascii += (safe || c == ' ') ? static_cast<char>(c) : '_';
        encoded += safe ? std::string(1, static_cast<char>(c)) : fmt::format("%{:02X}", c);
    }
    if (ascii.empty()) ascii = encoded = "part";
    return fmt::format("attachment; filename=\"{}\"; filename*=UTF-8''{}", ascii, encoded);
}

// A part's Content-Type, rebuilt from its parsed type (only token characters) and charset.
std::string safe_content_type(const message::mime_part& p) {
    auto token = [](const std::string& s) {
        for (unsigned char c : s)
            if (!(std::isalnum(c) || c == '-' || c == '+' || c == '.' || c == '_')) return false;
        return !s.empty();
    };
    if (!token(p.type) || !token(p.subtype) || p.multipart()) return "application/octet-stream";
    std::string out = p.content_type();
    if (p.type == "text" && token(p.charset)) out += "; charset=" + p.charset;
    return out;
}

http::message_generator raw_response(const request& req, const index::indexed_message& row) {
    http::response<http::file_body> res{status::ok, req.version()};
    boost::beast::error_code ec;
    res.body().open(current_path(row).c_str(), boost::beast::file_mode::scan, ec);
    if (ec) return json_error(status::not_found, "the message file is gone", req.version(), req.keep_alive());
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.set("X-Content-Type-Options", "nosniff");
    res.set(http::field::cache_control, "no-store");
    if (query_param(req.target(), "dl").value_or("") == "1") res.set(http::field::content_disposition, disposition(row.id + ".eml"));
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    return res;
}

http::message_generator part_response(const request& req, std::string_view raw, const message::parsed_message& parsed,
                                      std::string_view part_id) {
    const auto* part = message::find_part(parsed, part_id);
    if (!part || part->multipart()) return json_error(status::not_found, "no such part", req.version(), req.keep_alive());
    auto res = text_response(req, status::ok, message::decode_part(raw, *part), safe_content_type(*part));
    res.set(http::field::content_disposition, disposition(part->filename.empty() ? "part-" + std::string(part_id) : part->filename));
    // Opened on its own, an HTML or SVG part must not run script on this origin.
    res.set("Content-Security-Policy", "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'");
    return res;
}

http::message_generator message_route(const request& req, inbox& box, std::string_view rest) {
    if (req.method() != http::verb::get) return json_error(status::method_not_allowed, "GET", req.version(), req.keep_alive());
    const auto slash = rest.find('/');
    const std::string id = percent_decode(rest.substr(0, slash), false);
    const std::string_view sub = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    auto row = find_row(box, id);
    if (!row) return reply(req, answer<json>(fail(row.error())));
    if (sub == "raw") return raw_response(req, *row);
    if (!sub.empty() && sub != "headers" && !sub.starts_with("part/"))
        return json_error(status::not_found, "no such path", req.version(), req.keep_alive());
    auto file = open_message(*row);
    if (!file) return reply(req, answer<json>(fail(file.error())));
    const auto parsed = message::parse_message(file->bytes());
    if (sub == "headers") return json_response(req, headers_json(parsed));
    if (!sub.empty()) return part_response(req, file->bytes(), parsed, sub.substr(5));
    if (!row->read) (void)box.set_read({row->id}, true);  // opening a message reads it, as in Mailpit
    return json_response(req, message_json(*row, parsed));
}

}  // namespace

bool is_api_path(std::string_view target) {
    auto path = target_path(target);
    return path.starts_with("/api/v1/") || path.starts_with("/view/");
}

http::response<http::string_body> json_error(http::status s, std::string_view message, unsigned version, bool keep_alive) {
    string_response res{s, version};
    res.set(http::field::content_type, "application/json");
    res.set(http::field::cache_control, "no-store");
    res.set("X-Content-Type-Options", "nosniff");
    res.keep_alive(keep_alive);
    res.body() = dump(json{{"Error", message}});
    res.prepare_payload();
    return res;
}

http::message_generator handle(const request& req, inbox& box) {
    try {
        return route(req, box);
    } catch (const std::exception& e) {  // std::bad_alloc, a JSON type error we did not foresee
        return json_error(status::internal_server_error, e.what(), req.version(), req.keep_alive());
    }
}

}  // namespace postern::web
