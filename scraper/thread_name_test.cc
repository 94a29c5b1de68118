#include "scraper/thread_name.h"

#include <pthread.h>

#include <string>
#include <thread>

#include "gtest/gtest.h"

namespace fedgate {
namespace {

std::string NameOfThread(const std::string& name) {
  std::string seen;
  std::thread thread([&] {
    NameCurrentThread(name);
    char buf[32] = {};
    pthread_getname_np(pthread_self(), buf, sizeof(buf));
    seen = buf;
  });
  thread.join();
  return seen;
}

TEST(ThreadNameTest, NamesTheCallingThread) {
  EXPECT_EQ(NameOfThread("scrape-io"), "scrape-io");
}

TEST(ThreadNameTest, CutsNamesLongerThanLinuxKeeps) {
  EXPECT_EQ(NameOfThread("a-name-of-twenty-chars"), "a-name-of-twent");
}

TEST(ThreadNameTest, ThreadsStartedInAScopeTakeItsName) {
  std::string started;
  std::string after;
  std::thread thread([&] {
    NameCurrentThread("owner");
    {
      ScopedThreadName scope("library");
      std::thread inner([&] {
        char buf[32] = {};
        pthread_getname_np(pthread_self(), buf, sizeof(buf));
        started = buf;
      });
      inner.join();
    }
    char buf[32] = {};
    pthread_getname_np(pthread_self(), buf, sizeof(buf));
    after = buf;
  });
  thread.join();
  EXPECT_EQ(started, "library");
  EXPECT_EQ(after, "owner");
}

}  // namespace
}  // namespace fedgate
