// SPDX-License-Identifier: MIT
// The inbox's worker: arrivals indexed in batches, events, retention; and the /metrics text.
#include "web/inbox.hpp"
#include "web/metrics.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <mutex>
#include <random>

namespace postern::web {
namespace {

namespace fs = std::filesystem;

class Inbox : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("postern-inbox-" + std::to_string(std::random_device{}()));
        fs::create_directories(dir_ / "mail/inbox/new");
    }
    void TearDown() override { fs::remove_all(dir_); }

    arrival store(int n) {
        const fs::path p = dir_ / "mail/inbox/new" / ("17000000" + std::to_string(10 + n) + ".M1P1Q" + std::to_string(n) + ".h");
        std::ofstream(p, std::ios::binary) << "From: a@example.com\r\nSubject: number " << n << "\r\n\r\nbody " << n << "\r\n";
        return arrival{{p}, "s@example.net", {"r@example.org"},
                       std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000 + n)), {}};
    }

    std::unique_ptr<inbox> open(index::retention keep) {
        auto b = inbox::open(inbox_config{dir_, keep});
        EXPECT_TRUE(b);
        (*b)->set_event_sink([this](std::string e) {
            std::lock_guard lock(mutex_);
            events_.push_back(nlohmann::json::parse(e));
        });
        return std::move(*b);
    }

    std::vector<std::string> types() {
        std::lock_guard lock(mutex_);
        std::vector<std::string> out;
        for (const auto& e : events_) out.push_back(e["Type"]);
        return out;
    }

    fs::path dir_;
    std::mutex mutex_;
    std::vector<nlohmann::json> events_;
};

TEST_F(Inbox, ArrivalsAreIndexedAndAnnounced) {
    auto box = open({0, 0});
    for (int i = 0; i < 5; ++i) box->on_arrival(store(i));
    box->stop();  // drains what is queued
    auto page = box->index().list(0, 10);
    ASSERT_TRUE(page);
    EXPECT_EQ(page->total, 5u);
    EXPECT_EQ(page->messages.front().subject, "number 4");
    EXPECT_EQ(page->messages.front().envelope_to, std::vector<std::string>{"r@example.org"});
    auto t = types();
    EXPECT_EQ(std::count(t.begin(), t.end(), "new"), 5);
    EXPECT_EQ(t.back(), "stats");
}

TEST_F(Inbox, RetentionDeletesTheOldestFiles) {
    auto box = open({3, 0});
    std::vector<arrival> stored;
    for (int i = 0; i < 5; ++i) stored.push_back(store(i));
    for (auto& a : stored) box->on_arrival(a);
    box->stop();
    EXPECT_EQ(box->index().count()->messages, 3u);
    EXPECT_FALSE(fs::exists(stored[0].files[0]));
    EXPECT_FALSE(fs::exists(stored[1].files[0]));
    EXPECT_TRUE(fs::exists(stored[4].files[0]));
    auto t = types();
    EXPECT_NE(std::find(t.begin(), t.end(), "delete"), t.end());
}

TEST_F(Inbox, MissingFileIsSkipped) {
    auto box = open({0, 0});
    auto a = store(1);
    fs::remove(a.files[0]);
    box->on_arrival(a);
    box->on_arrival(store(2));
    box->stop();
    EXPECT_EQ(box->index().count()->messages, 1u);
}

TEST(Metrics, EveryFamilyHasHelpAndType) {
    server::server_stats s;
    s.messages = 3;
    s.rejections["rcpt 554 5.7.1"] = 2;
    auto text = format_metrics(s, 1, store_figures{10, 4, 1000, 0}, http_figures{});
    EXPECT_NE(text.find("postern_smtp_messages_accepted_total 3\n"), std::string::npos);
    EXPECT_NE(text.find("postern_smtp_rejections_total{stage=\"rcpt\",code=\"554\",enhanced=\"5.7.1\"} 2\n"), std::string::npos);
    EXPECT_NE(text.find("postern_store_messages 10\n"), std::string::npos);
    std::istringstream in(text);
    std::string line, family;
    while (std::getline(in, line)) {
        if (line.starts_with("# HELP ")) {
            family = line.substr(7, line.find(' ', 7) - 7);
        } else if (!line.starts_with("# TYPE ")) {
            EXPECT_TRUE(line.starts_with(family)) << line;
        }
    }
}

}  // namespace
}  // namespace postern::web
