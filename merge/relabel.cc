#include "merge/relabel.h"

#include <locale.h>
#include <openssl/evp.h>
#include <wctype.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "config/go_regexp.h"
#include "config/label_name.h"
#include "config/relabel_config.h"
#include "config/utf8.h"
#include "merge/labels.h"
#include "re2/re2.h"

namespace fedgate {
namespace {

using re2::RE2;

re2::StringPiece Sp(absl::string_view s) {
  return re2::StringPiece(s.data(), s.size());
}

// Go's unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' (the name
// characters of an expansion template).
bool IsTemplateNameRune(int32_t r, absl::string_view encoded) {
  if (r < 0x80) return absl::ascii_isalnum(r) || r == '_';
  if (r == kRuneError) return false;
  static const RE2* const kLetterOrDigit = new RE2(R"([\p{L}\p{Nd}])");
  return RE2::FullMatch(Sp(encoded), *kLetterOrDigit);
}

// Go's strings.ToLower / strings.ToUpper: Unicode simple case mapping per
// rune (glibc's C.UTF-8 tables, independent of the process locale); invalid
// UTF-8 bytes become U+FFFD, as strings.Map makes them.
std::string ChangeCase(absl::string_view s, bool upper) {
  bool ascii = true;
  for (char c : s) ascii = ascii && static_cast<uint8_t>(c) < 0x80;
  if (ascii) {
    return upper ? absl::AsciiStrToUpper(s) : absl::AsciiStrToLower(s);
  }
  static const locale_t kUtf8 =
      newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
  std::string out;
  out.reserve(s.size());
  while (!s.empty()) {
    const DecodedRune decoded = DecodeRune(s);
    s.remove_prefix(decoded.width);
    int32_t r = decoded.rune;
    if (kUtf8 != static_cast<locale_t>(nullptr)) {
      r = static_cast<int32_t>(upper ? towupper_l(r, kUtf8)
                                     : towlower_l(r, kUtf8));
    } else if (r < 0x80) {
      r = upper ? absl::ascii_toupper(static_cast<char>(r))
                : absl::ascii_tolower(static_cast<char>(r));
    }
    AppendRune(r, &out);
  }
  return out;
}

}  // namespace

uint64_t HashMod(absl::string_view value, uint64_t modulus) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(value.data(), value.size(), digest, &size, EVP_md5(), nullptr);
  uint64_t h = 0;
  for (int i = 8; i < 16; ++i) h = (h << 8) | digest[i];
  return h % modulus;
}

absl::StatusOr<RelabelRule> RelabelRule::Compile(const RelabelConfig& config) {
  absl::StatusOr<std::shared_ptr<const RE2>> regex =
      CompileGoRegexp(AnchoredRelabelRegex(config.regex));
  if (!regex.ok()) return regex.status();
  RelabelRule rule;
  rule.config_ = config;
  rule.groups_ = (*regex)->NumberOfCapturingGroups() + 1;
  rule.regex_ = *std::move(regex);
  rule.target_is_template_ = config.target_label.find('$') != std::string::npos;
  rule.target_ = rule.ParseTemplate(config.target_label);
  rule.replacement_ = rule.ParseTemplate(config.replacement);
  return rule;
}

// Go's Regexp.expand, resolved against this rule's groups once.
RelabelRule::Template RelabelRule::ParseTemplate(absl::string_view text) const {
  Template t;
  Piece current;
  while (!text.empty()) {
    const size_t dollar = text.find('$');
    if (dollar == absl::string_view::npos) break;
    current.literal.append(text.data(), dollar);
    text.remove_prefix(dollar + 1);
    if (!text.empty() && text[0] == '$') {  // `$$` is `$`.
      current.literal += '$';
      text.remove_prefix(1);
      continue;
    }
    // extract(): a name of letters, digits and `_`, optionally in braces.
    absl::string_view rest = text;
    const bool brace = !rest.empty() && rest[0] == '{';
    if (brace) rest.remove_prefix(1);
    size_t i = 0;
    while (i < rest.size()) {
      const DecodedRune r = DecodeRune(rest.substr(i));
      if (!IsTemplateNameRune(r.rune, rest.substr(i, r.width))) break;
      i += r.width;
    }
    const absl::string_view name = rest.substr(0, i);
    if (name.empty() || (brace && (i >= rest.size() || rest[i] != '}'))) {
      current.literal += '$';  // Malformed: the `$` is literal text.
      continue;
    }
    text = rest.substr(i + (brace ? 1 : 0));
    int num = 0;
    for (char c : name) {
      if (c < '0' || c > '9' || num >= 100000000) {
        num = -1;
        break;
      }
      num = num * 10 + (c - '0');
    }
    if (name[0] == '0' && name.size() > 1) num = -1;  // No leading zeros.
    int group = -1;
    if (num >= 0) {
      if (num < groups_) group = num;
    } else {
      const auto& named = regex_->NamedCapturingGroups();
      auto it = named.find(std::string(name));
      if (it != named.end()) group = it->second;
    }
    if (group >= 0) {
      current.group = group;
      t.push_back(std::move(current));
      current = Piece();
    }
    // A group that does not exist expands to nothing.
  }
  current.literal.append(text.data(), text.size());
  if (!current.literal.empty() || t.empty()) t.push_back(std::move(current));
  return t;
}

void RelabelRule::Expand(const Template& t,
                         absl::Span<const absl::string_view> groups,
                         std::string* out) {
  for (const Piece& p : t) {
    out->append(p.literal);
    if (p.group >= 0 && static_cast<size_t>(p.group) < groups.size()) {
      out->append(groups[p.group].data(), groups[p.group].size());
    }
  }
}

std::string RelabelRule::ReplaceAll(absl::string_view src) const {
  absl::InlinedVector<re2::StringPiece, 8> match(groups_);
  absl::InlinedVector<absl::string_view, 8> views(groups_);
  std::string out;
  size_t last_match_end = 0;
  size_t search_pos = 0;
  const re2::StringPiece text = Sp(src);
  while (search_pos <= src.size()) {
    if (!regex_->Match(text, search_pos, src.size(), RE2::UNANCHORED,
                       match.data(), groups_)) {
      break;
    }
    const size_t start = match[0].data() - src.data();
    const size_t end = start + match[0].size();
    out.append(src.data() + last_match_end, start - last_match_end);
    // No replacement for an empty match right after another match.
    if (end > last_match_end || start == 0) {
      for (int g = 0; g < groups_; ++g) {
        views[g] = match[g].data() == nullptr
                       ? absl::string_view()
                       : absl::string_view(match[g].data(), match[g].size());
      }
      Expand(replacement_, views, &out);
    }
    last_match_end = end;
    const size_t width = DecodeRune(src.substr(search_pos)).width;
    if (search_pos + width > end) {
      search_pos += width;
    } else if (search_pos + 1 > end) {
      ++search_pos;
    } else {
      search_pos = end;
    }
  }
  out.append(src.data() + last_match_end, src.size() - last_match_end);
  return out;
}

bool RelabelRule::Apply(Labels* labels) const {
  // relabel(): the joined source values. One source (the usual case) is a
  // view into `*labels`: every action below reads it before it writes.
  std::string joined;
  absl::string_view val;
  if (config_.source_labels.size() == 1) {
    val = labels->Get(config_.source_labels[0]);
  } else {
    for (size_t i = 0; i < config_.source_labels.size(); ++i) {
      if (i > 0) joined += config_.separator;
      const absl::string_view v = labels->Get(config_.source_labels[i]);
      joined.append(v.data(), v.size());
    }
    val = joined;
  }
  switch (config_.action) {
    case RelabelAction::kDrop:
      return !RE2::PartialMatch(Sp(val), *regex_);
    case RelabelAction::kKeep:
      return RE2::PartialMatch(Sp(val), *regex_);
    case RelabelAction::kDropEqual:
      return labels->Get(config_.target_label) != val;
    case RelabelAction::kKeepEqual:
      return labels->Get(config_.target_label) == val;
    case RelabelAction::kReplace: {
      absl::InlinedVector<re2::StringPiece, 8> match(groups_);
      if (!regex_->Match(Sp(val), 0, val.size(), RE2::UNANCHORED, match.data(),
                         groups_)) {
        return true;
      }
      absl::InlinedVector<absl::string_view, 8> views(groups_);
      for (int g = 0; g < groups_; ++g) {
        if (match[g].data() != nullptr) {
          views[g] = absl::string_view(match[g].data(), match[g].size());
        }
      }
      std::string expanded;
      if (target_is_template_) Expand(target_, views, &expanded);
      const absl::string_view target =
          target_is_template_ ? absl::string_view(expanded)
                              : absl::string_view(config_.target_label);
      if (!IsValidLabelName(target)) {
        // 2.42 deletes the label named by the template (not the expansion).
        labels->Remove(config_.target_label);
        return true;
      }
      std::string res;
      Expand(replacement_, views, &res);
      if (res.empty()) {
        // 2.42 deletes the template's name too (3.x: the expansion's); they
        // differ only for a `target_label` with `$`, which no label has.
        labels->Remove(config_.target_label);
        return true;
      }
      labels->Set(target, res);
      return true;
    }
    case RelabelAction::kLowercase:
      labels->Set(config_.target_label, ChangeCase(val, /*upper=*/false));
      return true;
    case RelabelAction::kUppercase:
      labels->Set(config_.target_label, ChangeCase(val, /*upper=*/true));
      return true;
    case RelabelAction::kHashMod:
      // A zero modulus is rejected at load; never divide by it.
      if (config_.modulus == 0) return true;
      labels->Set(config_.target_label,
                  absl::StrCat(HashMod(val, config_.modulus)));
      return true;
    case RelabelAction::kLabelMap: {
      // Reads the rule's input (sorted by name), then writes in that order
      // (later writes win), as 2.42 does through its labels.Builder.
      std::vector<Label> writes;
      for (const Label& l : *labels) {
        if (RE2::PartialMatch(Sp(l.name), *regex_)) {
          writes.push_back(Label{ReplaceAll(l.name), l.value});
        }
      }
      for (const Label& l : writes) labels->Set(l.name, l.value);
      return true;
    }
    case RelabelAction::kLabelDrop:
    case RelabelAction::kLabelKeep: {
      const bool keep = config_.action == RelabelAction::kLabelKeep;
      std::vector<std::string> removed;
      for (const Label& l : *labels) {
        if (RE2::PartialMatch(Sp(l.name), *regex_) != keep) {
          removed.push_back(l.name);
        }
      }
      for (const std::string& name : removed) labels->Remove(name);
      return true;
    }
  }
  return true;
}

absl::StatusOr<RelabelChain> RelabelChain::Compile(
    absl::Span<const RelabelConfig> configs) {
  RelabelChain chain;
  chain.rules_.reserve(configs.size());
  for (const RelabelConfig& config : configs) {
    absl::StatusOr<RelabelRule> rule = RelabelRule::Compile(config);
    if (!rule.ok()) return rule.status();
    chain.rules_.push_back(*std::move(rule));
  }
  return chain;
}

bool RelabelChain::Apply(Labels* labels) const {
  for (const RelabelRule& rule : rules_) {
    if (!rule.Apply(labels)) return false;
  }
  return true;
}

}  // namespace fedgate
