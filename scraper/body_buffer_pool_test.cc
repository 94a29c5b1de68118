#include "scraper/body_buffer_pool.h"

#include <string>

#include "gtest/gtest.h"

namespace fedgate {
namespace {

std::string BufferOfCapacity(size_t capacity) {
  std::string buffer;
  buffer.reserve(capacity);
  return buffer;
}

TEST(BodyBufferPoolTest, TakeFromEmptyPoolReturnsEmptyBuffer) {
  BodyBufferPool pool;
  const std::string buffer = pool.Take(1000);
  EXPECT_TRUE(buffer.empty());
}

TEST(BodyBufferPoolTest, GivenBufferComesBackClearedWithItsCapacity) {
  BodyBufferPool pool;
  std::string given = BufferOfCapacity(4096);
  given = "body";
  const size_t capacity = given.capacity();
  pool.Give(std::move(given));
  const std::string taken = pool.Take(100);
  EXPECT_TRUE(taken.empty());
  EXPECT_EQ(taken.capacity(), capacity);
  EXPECT_TRUE(pool.Take(100).capacity() < capacity);  // Pool empty again.
}

TEST(BodyBufferPoolTest, TakePicksSmallestBufferThatFits) {
  BodyBufferPool pool;
  pool.Give(BufferOfCapacity(1000));
  pool.Give(BufferOfCapacity(8000));
  pool.Give(BufferOfCapacity(4000));
  const std::string taken = pool.Take(3000);
  EXPECT_GE(taken.capacity(), 4000u);
  EXPECT_LT(taken.capacity(), 8000u);
}

TEST(BodyBufferPoolTest, TakePicksLargestBufferWhenNoneFits) {
  BodyBufferPool pool;
  pool.Give(BufferOfCapacity(1000));
  pool.Give(BufferOfCapacity(4000));
  const std::string taken = pool.Take(100000);
  EXPECT_GE(taken.capacity(), 4000u);
}

TEST(BodyBufferPoolTest, GiveBeyondByteLimitFreesBuffer) {
  BodyBufferPool pool;
  pool.Give(BufferOfCapacity(BodyBufferPool::kMaxBytes + 1));
  EXPECT_EQ(pool.Take(1).capacity(), std::string().capacity());
}

TEST(BodyBufferPoolTest, KeepsAtMostMaxBuffers) {
  BodyBufferPool pool;
  for (size_t i = 0; i < BodyBufferPool::kMaxBuffers + 2; ++i) {
    pool.Give(BufferOfCapacity(1000));
  }
  size_t kept = 0;
  while (pool.Take(1).capacity() >= 1000) ++kept;
  EXPECT_EQ(kept, BodyBufferPool::kMaxBuffers);
}

}  // namespace
}  // namespace fedgate
