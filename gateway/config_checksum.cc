#include "gateway/config_checksum.h"

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "config/config_loader.h"
#include "config/file_contents.h"
#include "config/rule_file_loader.h"
#include "gateway/security/digest.h"

namespace fedgate {
namespace {

absl::StatusOr<std::string> ReadWhole(const std::string& path) {
  return ReadFileContents(path, [&path](absl::string_view, int error_number) {
    return absl::ErrnoToStatus(error_number, absl::StrCat("reading ", path));
  });
}

}  // namespace

absl::StatusOr<std::string> ConfigChecksum(const std::string& config_file) {
  absl::StatusOr<std::string> contents = ReadWhole(config_file);
  if (!contents.ok()) return contents.status();
  // The loader resolves `rule_files` against the file's directory; the
  // rule files are the ones a reload would read.
  absl::StatusOr<Config> config = ParseConfig(*contents, config_file);
  if (!config.ok()) return config.status();
  absl::StatusOr<std::vector<std::string>> rule_files =
      ExpandRuleFilePatterns(config->rule_files);
  if (!rule_files.ok()) return rule_files.status();
  // Each part is preceded by its length, so that moving bytes from one
  // file to the next changes the checksum.
  std::string hashed = absl::StrCat(contents->size(), "\n", *contents);
  for (const std::string& file : *rule_files) {
    absl::StatusOr<std::string> rules = ReadWhole(file);
    if (!rules.ok()) return rules.status();
    absl::StrAppend(&hashed, "r\n", file.size(), "\n", file, rules->size(),
                    "\n", *rules);
  }
  return Sha256(hashed);
}

}  // namespace fedgate
