#include "scraper/discovery/kubernetes_test_server_selectors.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace fedgate {
namespace {

// Label selector tokens, as apimachinery's lexer makes them.
enum class Tok {
  kEnd,
  kIdentifier,
  kIn,
  kNotIn,
  kNot,           // !
  kEquals,        // =
  kDoubleEquals,  // ==
  kNotEquals,     // !=
  kGreaterThan,   // >
  kLessThan,      // <
  kOpenPar,
  kClosedPar,
  kComma,
  kError,
};

struct Token {
  Tok tok;
  std::string literal;
};

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool IsSpecial(char c) {
  return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' ||
         c == '<';
}

Tok SymbolToken(absl::string_view s) {
  if (s == ")") return Tok::kClosedPar;
  if (s == ",") return Tok::kComma;
  if (s == "!") return Tok::kNot;
  if (s == "==") return Tok::kDoubleEquals;
  if (s == "=") return Tok::kEquals;
  if (s == ">") return Tok::kGreaterThan;
  if (s == "<") return Tok::kLessThan;
  if (s == "!=") return Tok::kNotEquals;
  if (s == "(") return Tok::kOpenPar;
  return Tok::kError;
}

std::vector<Token> Lex(absl::string_view s) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (true) {
    while (i < s.size() && IsSpace(s[i])) ++i;
    if (i == s.size()) {
      tokens.push_back({Tok::kEnd, ""});
      return tokens;
    }
    if (IsSpecial(s[i])) {
      // The longest run of symbols that still forms an operator.
      std::string buffer;
      Token last{Tok::kError, ""};
      while (i < s.size() && IsSpecial(s[i])) {
        buffer.push_back(s[i]);
        const Tok tok = SymbolToken(buffer);
        if (tok != Tok::kError) {
          last = {tok, buffer};
        } else if (last.tok != Tok::kError) {
          break;
        }
        ++i;
      }
      if (last.tok == Tok::kError) {
        last.literal =
            absl::StrCat("error expected: keyword found '", buffer, "'");
      }
      tokens.push_back(last);
      continue;
    }
    const size_t start = i;
    while (i < s.size() && !IsSpecial(s[i]) && !IsSpace(s[i])) ++i;
    const std::string word(s.substr(start, i - start));
    if (word == "in") {
      tokens.push_back({Tok::kIn, word});
    } else if (word == "notin") {
      tokens.push_back({Tok::kNotIn, word});
    } else {
      tokens.push_back({Tok::kIdentifier, word});
    }
  }
}

class LabelParser {
 public:
  explicit LabelParser(absl::string_view s) : tokens_(Lex(s)) {}

  absl::StatusOr<std::vector<LabelRequirement>> Parse() {
    std::vector<LabelRequirement> requirements;
    while (true) {
      const Token& t = Peek(true);
      if (t.tok == Tok::kEnd) return requirements;
      if (t.tok != Tok::kIdentifier && t.tok != Tok::kNot) {
        return Error(absl::StrCat("found '", t.literal,
                                  "', expected: !, identifier, or 'end of "
                                  "string'"));
      }
      absl::StatusOr<LabelRequirement> r = ParseRequirement();
      if (!r.ok()) {
        return Error(absl::StrCat("unable to parse requirement: ",
                                  r.status().message()));
      }
      requirements.push_back(*std::move(r));
      const Token next = Next(true);
      if (next.tok == Tok::kEnd) return requirements;
      if (next.tok != Tok::kComma) {
        return Error(absl::StrCat("found '", next.literal,
                                  "', expected: ',' or 'end of string'"));
      }
      const Token& after = Peek(true);
      if (after.tok != Tok::kIdentifier && after.tok != Tok::kNot) {
        return Error(absl::StrCat("found '", after.literal,
                                  "', expected: identifier after ','"));
      }
    }
  }

 private:
  static absl::Status Error(std::string message) {
    return absl::InvalidArgumentError(std::move(message));
  }

  // In a value position, `in` and `notin` are identifiers.
  Token Peek(bool value) const {
    Token t = tokens_[pos_];
    if (value && (t.tok == Tok::kIn || t.tok == Tok::kNotIn)) {
      t.tok = Tok::kIdentifier;
    }
    return t;
  }
  Token Next(bool value) {
    Token t = Peek(value);
    if (pos_ + 1 < tokens_.size()) ++pos_;
    return t;
  }

  absl::StatusOr<LabelRequirement> ParseRequirement() {
    LabelRequirement r;
    Token t = Next(true);
    bool negated = false;
    if (t.tok == Tok::kNot) {
      negated = true;
      t = Next(true);
    }
    if (t.tok != Tok::kIdentifier) {
      return Error(
          absl::StrCat("found '", t.literal, "', expected: identifier"));
    }
    r.key = t.literal;
    if (negated) {
      r.op = LabelRequirement::Op::kDoesNotExist;
      return r;
    }
    const Tok after_key = Peek(true).tok;
    if (after_key == Tok::kEnd || after_key == Tok::kComma) {
      r.op = LabelRequirement::Op::kExists;
      return r;
    }
    const Token op = Next(false);
    switch (op.tok) {
      case Tok::kIn:
      case Tok::kNotIn: {
        r.op = op.tok == Tok::kIn ? LabelRequirement::Op::kIn
                                  : LabelRequirement::Op::kNotIn;
        absl::StatusOr<std::vector<std::string>> values = ParseValues();
        if (!values.ok()) return values.status();
        r.values = *std::move(values);
        return r;
      }
      case Tok::kEquals:
      case Tok::kDoubleEquals:
      case Tok::kNotEquals:
      case Tok::kGreaterThan:
      case Tok::kLessThan:
        break;
      default:
        return Error(absl::StrCat("found '", op.literal,
                                  "', expected: in, notin, =, ==, !=, gt, lt"));
    }
    std::string value;
    const Tok next = Peek(true).tok;
    if (next != Tok::kEnd && next != Tok::kComma) {
      const Token v = Next(true);
      if (v.tok != Tok::kIdentifier) {
        return Error(
            absl::StrCat("found '", v.literal, "', expected: identifier"));
      }
      value = v.literal;
    }
    r.values = {value};
    if (op.tok == Tok::kGreaterThan || op.tok == Tok::kLessThan) {
      int64_t unused;
      if (!absl::SimpleAtoi(value, &unused)) {
        return Error(absl::StrCat(
            "values[0]: Invalid value: \"", value,
            "\": for 'Gt', 'Lt' operators, the value must be an integer"));
      }
      r.op = op.tok == Tok::kGreaterThan ? LabelRequirement::Op::kGreaterThan
                                         : LabelRequirement::Op::kLessThan;
    } else {
      r.op = op.tok == Tok::kNotEquals ? LabelRequirement::Op::kNotIn
                                       : LabelRequirement::Op::kIn;
    }
    return r;
  }

  // `(a,b)`; empty members (`(,a)`, `()`) are the empty value.
  absl::StatusOr<std::vector<std::string>> ParseValues() {
    const Token open = Next(true);
    if (open.tok != Tok::kOpenPar) {
      return Error(absl::StrCat("found '", open.literal, "' expected: '('"));
    }
    std::vector<std::string> values;
    bool expect_value = true;
    while (true) {
      const Token t = Next(true);
      if (t.tok == Tok::kClosedPar) {
        if (expect_value) values.push_back("");
        break;
      }
      if (t.tok == Tok::kComma) {
        if (expect_value) values.push_back("");
        expect_value = true;
        continue;
      }
      if (t.tok == Tok::kIdentifier && expect_value) {
        values.push_back(t.literal);
        expect_value = false;
        continue;
      }
      return Error(absl::StrCat("found '", t.literal,
                                "', expected: ',', ')' or identifier"));
    }
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    return values;
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

}  // namespace

absl::StatusOr<std::vector<LabelRequirement>> ParseLabelSelector(
    absl::string_view selector) {
  return LabelParser(selector).Parse();
}

bool LabelsMatch(const std::vector<LabelRequirement>& requirements,
                 const std::map<std::string, std::string>& labels) {
  for (const LabelRequirement& r : requirements) {
    const auto it = labels.find(r.key);
    const bool has = it != labels.end();
    const bool in_values = has && std::find(r.values.begin(), r.values.end(),
                                            it->second) != r.values.end();
    bool ok = false;
    switch (r.op) {
      case LabelRequirement::Op::kIn:
        ok = in_values;
        break;
      case LabelRequirement::Op::kNotIn:
        ok = !in_values;
        break;
      case LabelRequirement::Op::kExists:
        ok = has;
        break;
      case LabelRequirement::Op::kDoesNotExist:
        ok = !has;
        break;
      case LabelRequirement::Op::kGreaterThan:
      case LabelRequirement::Op::kLessThan: {
        int64_t have, want;
        if (!has || !absl::SimpleAtoi(it->second, &have) ||
            !absl::SimpleAtoi(r.values[0], &want)) {
          ok = false;
        } else {
          ok = r.op == LabelRequirement::Op::kGreaterThan ? have > want
                                                          : have < want;
        }
        break;
      }
    }
    if (!ok) return false;
  }
  return true;
}

absl::StatusOr<std::vector<FieldRequirement>> ParseFieldSelector(
    absl::string_view selector, absl::string_view kind) {
  // Terms split at commas that are not escaped.
  std::vector<std::string> terms;
  std::string term;
  bool escaped = false;
  for (char c : selector) {
    if (escaped) {
      escaped = false;
    } else if (c == '\\') {
      escaped = true;
    } else if (c == ',') {
      terms.push_back(std::move(term));
      term.clear();
      continue;
    }
    term.push_back(c);
  }
  terms.push_back(std::move(term));
  std::sort(terms.begin(), terms.end());

  std::vector<FieldRequirement> requirements;
  for (const std::string& t : terms) {
    if (t.empty()) continue;
    // The first operator from the left; `!=` and `==` before `=`.
    size_t at = std::string::npos;
    size_t op_size = 0;
    for (size_t i = 0; i < t.size() && at == std::string::npos; ++i) {
      if (t.compare(i, 2, "!=") == 0 || t.compare(i, 2, "==") == 0) {
        at = i;
        op_size = 2;
      } else if (t[i] == '=') {
        at = i;
        op_size = 1;
      }
    }
    if (at == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid selector: '", selector, "'; can't understand '", t, "'"));
    }
    FieldRequirement r;
    r.field = t.substr(0, at);
    r.equals = t[at] != '!';
    const absl::string_view raw = absl::string_view(t).substr(at + op_size);
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '\\') {
        r.value.push_back(raw[i]);
        continue;
      }
      if (i + 1 < raw.size() &&
          (raw[i + 1] == '\\' || raw[i + 1] == ',' || raw[i + 1] == '=')) {
        r.value.push_back(raw[++i]);
        continue;
      }
      return absl::InvalidArgumentError(
          "invalid field selector: invalid escape sequence");
    }
    requirements.push_back(std::move(r));
  }

  // The field label conversions of v1.26 (pkg/apis/core/v1/conversion.go);
  // kinds without one accept metadata.name and metadata.namespace.
  std::vector<std::string> supported;
  if (kind == "Pod") {
    supported = {
        "metadata.name",      "metadata.namespace", "spec.nodeName",
        "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
        "status.phase",       "status.podIP",       "status.nominatedNodeName"};
  } else if (kind == "Node") {
    supported = {"metadata.name", "spec.unschedulable"};
  }
  for (const FieldRequirement& r : requirements) {
    if (supported.empty()) {
      if (r.field != "metadata.name" && r.field != "metadata.namespace") {
        return absl::InvalidArgumentError(absl::StrCat(
            "\"", r.field,
            "\" is not a known field selector: only \"metadata.name\", "
            "\"metadata.namespace\""));
      }
    } else if (std::find(supported.begin(), supported.end(), r.field) ==
               supported.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("field label not supported: ", r.field));
    }
  }
  return requirements;
}

bool FieldsMatch(const std::vector<FieldRequirement>& requirements,
                 const std::map<std::string, std::string>& fields) {
  for (const FieldRequirement& r : requirements) {
    const auto it = fields.find(r.field);
    const std::string value = it == fields.end() ? "" : it->second;
    if ((value == r.value) != r.equals) return false;
  }
  return true;
}

}  // namespace fedgate
