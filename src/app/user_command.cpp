// SPDX-License-Identifier: MIT
#include "app/user_command.hpp"

#include "auth/errors.hpp"
#include "auth/user_db.hpp"

#include <CLI/CLI.hpp>
#include <sodium.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

namespace postern::app {
namespace {

constexpr const char* default_data = "postern-data";  // as app_config::data

struct user_flags {
    std::string name;
    std::string data = default_data;
    bool json = false;
};

// Reads one line from standard input; echo is off while it does if `quiet` (a terminal).
std::optional<std::string> read_line(bool quiet) {
    termios saved{};
    const bool restore = quiet && ::tcgetattr(STDIN_FILENO, &saved) == 0;
    if (restore) {
        termios silent = saved;
        silent.c_lflag &= static_cast<tcflag_t>(~ECHO);
        ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent);
    }
    std::string line;
    const bool got = static_cast<bool>(std::getline(std::cin, line));
    if (restore) {
        ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
        std::fputs("\n", stderr);
    }
    if (!got && line.empty()) return std::nullopt;
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
    return line;
}

// The new password: the first line of standard input, or asked twice on a terminal. nullopt:
// the two differ.
std::optional<std::string> read_password() {
    if (!::isatty(STDIN_FILENO)) return read_line(false).value_or(std::string());
    std::fputs("New password: ", stderr);
    auto first = read_line(true).value_or(std::string());
    std::fputs("Repeat password: ", stderr);
    auto second = read_line(true).value_or(std::string());
    const bool same = first == second;
    sodium_memzero(second.data(), second.size());
    if (same) return first;
    sodium_memzero(first.data(), first.size());
    return std::nullopt;
}

int report(const char* command, const std::string& name, std::error_code ec) {
    const bool usage = ec == auth::auth_errc::bad_user_name || ec == auth::auth_errc::empty_password;
    std::fprintf(stderr, "postern user %s: %s: %s\n", command, name.c_str(), ec.message().c_str());
    return usage ? 2 : 1;
}

std::unique_ptr<auth::user_db> open_db(const char* command, const user_flags& f) {
    auto db = auth::user_db::open(f.data);
    if (!db) {
        std::fprintf(stderr, "postern user %s: %s/users: %s\n", command, f.data.c_str(), db.error().message().c_str());
        return nullptr;
    }
    return std::move(*db);
}

int run_set(const char* command, const user_flags& f, bool add) {
    if (!auth::valid_user_name(f.name)) return report(command, f.name, auth::auth_errc::bad_user_name);
    auto db = open_db(command, f);
    if (!db) return 1;
    if (!add && !db->exists(f.name)) return report(command, f.name, auth::auth_errc::no_such_user);
    if (add && db->exists(f.name)) return report(command, f.name, auth::auth_errc::user_exists);
    auto password = read_password();
    if (!password) {
        std::fprintf(stderr, "postern user %s: %s: the passwords differ\n", command, f.name.c_str());
        return 2;
    }
    if (password->empty()) return report(command, f.name, auth::auth_errc::empty_password);
    auto r = add ? db->add(f.name, *password) : db->set_password(f.name, *password);
    sodium_memzero(password->data(), password->size());
    return r ? 0 : report(command, f.name, r.error());
}

int run_del(const user_flags& f) {
    auto db = open_db("del", f);
    if (!db) return 1;
    auto r = db->remove(f.name);
    return r ? 0 : report("del", f.name, r.error());
}

std::string json_string(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;  // names hold no control characters (valid_user_name)
    }
    return out + "\"";
}

int run_list(const user_flags& f) {
    auto db = open_db("list", f);
    if (!db) return 1;
    auto names = db->list();
    if (!names) return report("list", f.data + "/users", names.error());
    if (!f.json) {
        for (const auto& n : *names) std::printf("%s\n", n.c_str());
        return 0;
    }
    std::string out = "[";
    for (const auto& n : *names) out += (out.size() > 1 ? ", " : "") + std::string("{\"name\": ") + json_string(n) + "}";
    std::printf("%s]\n", out.c_str());
    return 0;
}

CLI::App* add_sub(CLI::App& user, const char* name, const char* help, user_flags& f, bool takes_name) {
    auto* s = user.add_subcommand(name, help);
    if (takes_name) s->add_option("NAME", f.name, "User (login) name, typically an email address")->required();
    s->add_option("--data", f.data, "Data folder (default ./postern-data)");
    return s;
}

}  // namespace

void add_user_command(CLI::App& app, int& exit_code) {
    auto f = std::make_shared<user_flags>();
    auto* user = app.add_subcommand("user", "Manage the users who may AUTH (DATA/users, a Dovecot passwd-file)");
    user->require_subcommand(1);
    add_sub(*user, "add", "Add a user; the password is read from standard input", *f, true)
        ->callback([f, &exit_code] { exit_code = run_set("add", *f, true); });
    add_sub(*user, "passwd", "Set a user's password, read from standard input", *f, true)
        ->callback([f, &exit_code] { exit_code = run_set("passwd", *f, false); });
    add_sub(*user, "del", "Remove a user", *f, true)->callback([f, &exit_code] { exit_code = run_del(*f); });
    auto* list = add_sub(*user, "list", "List the users", *f, false);
    list->add_flag("--json", f->json, "JSON: [{\"name\": ...}, ...]");
    list->callback([f, &exit_code] { exit_code = run_list(*f); });
}

}  // namespace postern::app
