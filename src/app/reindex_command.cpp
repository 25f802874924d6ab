// SPDX-License-Identifier: MIT
#include "app/reindex_command.hpp"

#include "index/message_index.hpp"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

namespace postern::app {
namespace {

struct reindex_flags {
    std::string data = "postern-data";
    bool json = false;
};

int run_reindex(const reindex_flags& f) {
    const std::filesystem::path data(f.data);
    const auto t0 = std::chrono::steady_clock::now();
    auto idx = index::message_index::open(data / "index.sqlite");
    if (!idx) {
        std::fprintf(stderr, "postern reindex: cannot open %s: %s\n", (data / "index.sqlite").c_str(), idx.error().message().c_str());
        return 1;
    }
    auto report = (*idx)->rebuild(data / "mail");
    if (!report) {
        std::fprintf(stderr, "postern reindex: %s\n", report.error().message().c_str());
        return 1;
    }
    auto stats = (*idx)->stats();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    const unsigned long long bytes = stats ? stats->bytes : 0;
    if (f.json)
        std::printf("{\"indexed\": %llu, \"skipped\": %llu, \"bytes\": %llu, \"ms\": %lld}\n",
                    static_cast<unsigned long long>(report->indexed), static_cast<unsigned long long>(report->skipped), bytes,
                    static_cast<long long>(ms));
    else
        std::printf("indexed %llu messages (%llu bytes) in %lld ms%s\n", static_cast<unsigned long long>(report->indexed), bytes,
                    static_cast<long long>(ms),
                    report->skipped ? (", skipped " + std::to_string(report->skipped) + " unreadable files").c_str() : "");
    return 0;
}

}  // namespace

void add_reindex_command(CLI::App& app, int& exit_code) {
    auto f = std::make_shared<reindex_flags>();
    auto* s = app.add_subcommand("reindex", "Rebuild the message index (DATA/index.sqlite) from the Maildir");
    s->add_option("--data", f->data, "Data folder (default ./postern-data)");
    s->add_flag("--json", f->json, "One JSON object: indexed, skipped, bytes, ms");
    s->callback([f, &exit_code] { exit_code = run_reindex(*f); });
}

}  // namespace postern::app
