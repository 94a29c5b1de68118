#include "gateway/security/digest.h"

#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace fedgate {
namespace {

TEST(DigestTest, Sha256OfKnownInputs) {
  // FIPS 180-2's examples.
  EXPECT_EQ(absl::BytesToHexString(Sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(absl::BytesToHexString(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(DigestTest, DigestsEqualComparesWholeValues) {
  EXPECT_TRUE(DigestsEqual(Sha256("a"), Sha256("a")));
  EXPECT_FALSE(DigestsEqual(Sha256("a"), Sha256("b")));
  EXPECT_FALSE(DigestsEqual("abc", "ab"));
  EXPECT_TRUE(DigestsEqual("", ""));
}

TEST(DigestTest, RandomBytesDiffer) {
  const std::string a = RandomBytes(32), b = RandomBytes(32);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace fedgate
