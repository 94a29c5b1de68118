#include "config/variable_expansion.h"

#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace fedgate {
namespace {

// The variables of Go's os/env_test.go (testGetenv).
std::string GoTestGetenv(absl::string_view name) {
  if (name == "*") return "all the args";
  if (name == "#") return "NARGS";
  if (name == "$") return "PID";
  if (name == "1") return "ARGUMENT1";
  if (name == "HOME") return "/usr/gopher";
  if (name == "H") return "(Value of H)";
  if (name == "home_1") return "/usr/foo";
  if (name == "_") return "underscore";
  return "";
}

TEST(VariableExpansionTest, GoExpandTable) {
  // Go's expandTests (os/env_test.go), the behaviour of Go 1.19's os.Expand
  // that Prometheus 2.42 is built with.
  const std::pair<const char*, const char*> cases[] = {
      {"", ""},
      {"$*", "all the args"},
      {"$$", "PID"},
      {"${*}", "all the args"},
      {"$1", "ARGUMENT1"},
      {"${1}", "ARGUMENT1"},
      {"now is the time", "now is the time"},
      {"$HOME", "/usr/gopher"},
      {"$home_1", "/usr/foo"},
      {"${HOME}", "/usr/gopher"},
      {"${H}OME", "(Value of H)OME"},
      {"A$$$#$1$H$home_1*B", "APIDNARGSARGUMENT1(Value of H)/usr/foo*B"},
      {"start$+middle$^end$", "start$+middle$^end$"},
      {"mixed$|bag$$$", "mixed$|bagPID$"},
      {"$", "$"},
      {"$}", "$}"},
      {"${", ""},
      {"${}", ""},
  };
  for (const auto& [in, out] : cases) {
    SCOPED_TRACE(in);
    EXPECT_EQ(ExpandVariables(in, GoTestGetenv), out);
  }
}

TEST(VariableExpansionTest, NamesAsPrometheusReadsThem) {
  // Each name passed to the mapping, checked against Prometheus 2.42's
  // external labels with --enable-feature=expand-external-labels (its
  // "Empty environment variable" warnings name them).
  struct Case {
    const char* in;
    std::vector<std::string> names;
    const char* out;  // With every variable "<name>".
  };
  const Case cases[] = {
      {"plain", {}, "plain"},
      {"x$-y", {"-"}, "x<->y"},
      {"x$@y", {"@"}, "x<@>y"},
      {"$FOObar", {"FOObar"}, "<FOObar>"},
      {"${FOO}bar", {"FOO"}, "<FOO>bar"},
      {"$$FOO", {"$"}, "<$>FOO"},
      {"${$}", {"$"}, "<$>"},
      {"${*}z${#}", {"*", "#"}, "<*>z<#>"},
      {"${1}$12${FOO-x}", {"1", "1", "FOO-x"}, "<1><1>2<FOO-x>"},
      {"${a=b}", {"a=b"}, "<a=b>"},
      {"${FOO.BAR}", {"FOO.BAR"}, "<FOO.BAR>"},
      {"${ spaced }", {" spaced "}, "< spaced >"},
      {"\xc3\xa9${FOO}\xc3\xa9", {"FOO"}, "\xc3\xa9<FOO>\xc3\xa9"},
      {"$ x", {}, "$ x"},
      {"x$", {}, "x$"},
      {"$FOO$", {"FOO"}, "<FOO>$"},
      {"x${}y", {}, "xy"},
      {"x${abc", {}, "xabc"},
      {"${FOO", {}, "FOO"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.in);
    std::vector<std::string> names;
    const std::string out =
        ExpandVariables(c.in, [&names](absl::string_view name) {
          names.emplace_back(name);
          return std::string("<") + std::string(name) + ">";
        });
    EXPECT_EQ(out, c.out);
    EXPECT_EQ(names, c.names);
  }
}

TEST(VariableExpansionTest, GetEnvironmentVariableAsGoGetenv) {
  ASSERT_EQ(setenv("FEDGATE_EXPANSION_TEST", "value", 1), 0);
  ASSERT_EQ(setenv("FEDGATE_EXPANSION_EMPTY", "", 1), 0);
  ASSERT_EQ(unsetenv("FEDGATE_EXPANSION_UNSET"), 0);
  // glibc's getenv("FEDGATE_EXPANSION_TEST=va") would find "lue" here; Go's
  // os.Getenv never matches a name with '='.
  EXPECT_EQ(GetEnvironmentVariable("FEDGATE_EXPANSION_TEST"), "value");
  EXPECT_EQ(GetEnvironmentVariable("FEDGATE_EXPANSION_TEST=va"), "");
  EXPECT_EQ(GetEnvironmentVariable("FEDGATE_EXPANSION_EMPTY"), "");
  EXPECT_EQ(GetEnvironmentVariable("FEDGATE_EXPANSION_UNSET"), "");
  EXPECT_EQ(GetEnvironmentVariable(""), "");
  EXPECT_EQ(GetEnvironmentVariable(
                absl::string_view("FEDGATE_EXPANSION_TEST\0x", 24)),
            "");
  EXPECT_EQ(ExpandVariables("a-${FEDGATE_EXPANSION_TEST}-$"
                            "FEDGATE_EXPANSION_UNSET-b",
                            GetEnvironmentVariable),
            "a-value--b");
}

}  // namespace
}  // namespace fedgate
