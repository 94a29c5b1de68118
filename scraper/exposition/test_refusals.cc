#include "scraper/exposition/test_refusals.h"

#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "scraper/exposition/exposition_parser.h"

namespace fedgate {
namespace {

// Parses `line:column`.
bool ParsePosition(absl::string_view text, int* line, int* column) {
  const std::pair<absl::string_view, absl::string_view> parts =
      absl::StrSplit(text, absl::MaxSplits(':', 1));
  return absl::SimpleAtoi(parts.first, line) &&
         absl::SimpleAtoi(parts.second, column);
}

}  // namespace

void ExpectRefusal(const absl::Status& status, const RefusedBody& refused) {
  if (refused.line == 0) {
    EXPECT_TRUE(IsSampleRejected(status)) << status;
    EXPECT_EQ(status.message(), refused.message);
    return;
  }
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  const std::string prefix =
      absl::StrCat("line ", refused.line, ", column ", refused.column, ": ");
  EXPECT_TRUE(absl::StartsWith(status.message(), prefix)) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), refused.message)) << status;
}

std::vector<RefusedBody> RefusedByBothTextFormats() {
  // From the test's working directory, the root of its runfiles.
  const std::string path =
      "scraper/exposition/testdata/refused_by_both_text_formats.tsv";
  std::ifstream file(path);
  if (!file) {
    ADD_FAILURE() << "cannot open " << path;
    return {};
  }
  std::vector<RefusedBody> cases;
  std::string line;
  for (int number = 1; std::getline(file, line); ++number) {
    if (line.empty() || line[0] == '#') continue;
    // name, line:column, body (C escapes), message.
    const std::vector<std::string> fields = absl::StrSplit(line, '\t');
    RefusedBody refused;
    std::string error;
    if (fields.size() != 4 ||
        !ParsePosition(fields[1], &refused.line, &refused.column) ||
        !absl::CUnescape(fields[2], &refused.body, &error)) {
      ADD_FAILURE() << path << ":" << number << ": not a case " << error;
      continue;
    }
    refused.name = fields[0];
    refused.message = fields[3];
    cases.push_back(std::move(refused));
  }
  if (cases.empty()) ADD_FAILURE() << "no cases in " << path;
  return cases;
}

}  // namespace fedgate
