#include "config/variable_expansion.h"

#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"

namespace fedgate {
namespace {

// Go's isShellSpecialVar: the characters that name a variable on their own.
bool IsSpecialVariableChar(char c) {
  switch (c) {
    case '*':
    case '#':
    case '$':
    case '@':
    case '!':
    case '?':
    case '-':
      return true;
    default:
      return c >= '0' && c <= '9';
  }
}

bool IsNameChar(char c) {
  return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
         (c >= 'A' && c <= 'Z');
}

// A reference after a `$`: its name, and how many bytes after the `$` it
// spans. An empty name with a nonzero length is bad syntax (dropped); with
// length zero, no reference (the `$` stays).
struct Reference {
  absl::string_view name;
  size_t length;
};

// `rest` is the text after a `$`; it is not empty.
Reference ReadReference(absl::string_view rest) {
  if (rest[0] == '{') {
    if (rest.size() > 2 && IsSpecialVariableChar(rest[1]) && rest[2] == '}') {
      return {rest.substr(1, 1), 3};
    }
    const size_t close = rest.find('}', 1);
    if (close == absl::string_view::npos) return {"", 1};  // `${` dropped.
    if (close == 1) return {"", 2};                        // `${}` dropped.
    return {rest.substr(1, close - 1), close + 1};
  }
  if (IsSpecialVariableChar(rest[0])) return {rest.substr(0, 1), 1};
  size_t n = 0;
  while (n < rest.size() && IsNameChar(rest[n])) ++n;
  return {rest.substr(0, n), n};
}

}  // namespace

std::string ExpandVariables(
    absl::string_view s,
    absl::FunctionRef<std::string(absl::string_view name)> mapping) {
  std::string out;
  out.reserve(s.size());
  size_t copied = 0;  // s[copied, j) is still to be copied.
  for (size_t j = 0; j + 1 < s.size(); ++j) {
    if (s[j] != '$') continue;
    out.append(s.data() + copied, j - copied);
    const Reference ref = ReadReference(s.substr(j + 1));
    if (!ref.name.empty()) {
      out += mapping(ref.name);
    } else if (ref.length == 0) {
      out += '$';
    }
    j += ref.length;
    copied = j + 1;
  }
  if (copied < s.size()) out.append(s.data() + copied, s.size() - copied);
  return out;
}

std::string GetEnvironmentVariable(absl::string_view name) {
  if (name.empty() || name.find('=') != absl::string_view::npos ||
      name.find('\0') != absl::string_view::npos) {
    return "";
  }
  const char* value = std::getenv(std::string(name).c_str());
  return value == nullptr ? "" : value;
}

}  // namespace fedgate
