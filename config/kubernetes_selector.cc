#include "config/kubernetes_selector.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "config/quote.h"

namespace fedgate {
namespace {

using Op = KubernetesLabelRequirement::Op;

// The label selector grammar's tokens (apimachinery labels/selector.go).
enum class Token {
  kEnd,
  kIdentifier,
  kIn,
  kNotIn,
  kOpen,       // (
  kClose,      // )
  kComma,      // ,
  kNot,        // !
  kEquals,     // =
  kDoubleEq,   // ==
  kNotEquals,  // !=
  kGreater,    // >
  kLess,       // <
};

bool IsSpecial(char c) {
  return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' ||
         c == '<';
}

class Lexer {
 public:
  explicit Lexer(absl::string_view text) : text_(text) {}

  // Reads the next token; identifiers' text goes to `*word`.
  Token Next(std::string* word) {
    while (pos_ < text_.size() && absl::ascii_isspace(text_[pos_])) ++pos_;
    word->clear();
    if (pos_ >= text_.size()) return Token::kEnd;
    const char c = text_[pos_];
    if (IsSpecial(c)) {
      ++pos_;
      const bool eq_next = pos_ < text_.size() && text_[pos_] == '=';
      switch (c) {
        case '(':
          return Token::kOpen;
        case ')':
          return Token::kClose;
        case ',':
          return Token::kComma;
        case '>':
          return Token::kGreater;
        case '<':
          return Token::kLess;
        case '!':
          if (eq_next) ++pos_;
          return eq_next ? Token::kNotEquals : Token::kNot;
        default:  // '='
          if (eq_next) ++pos_;
          return eq_next ? Token::kDoubleEq : Token::kEquals;
      }
    }
    const size_t start = pos_;
    while (pos_ < text_.size() && !absl::ascii_isspace(text_[pos_]) &&
           !IsSpecial(text_[pos_])) {
      ++pos_;
    }
    *word = std::string(text_.substr(start, pos_ - start));
    if (*word == "in") return Token::kIn;
    if (*word == "notin") return Token::kNotIn;
    return Token::kIdentifier;
  }

  // Returns the next token without consuming it.
  Token Peek() {
    const size_t saved = pos_;
    std::string ignored;
    const Token t = Next(&ignored);
    pos_ = saved;
    return t;
  }

 private:
  absl::string_view text_;
  size_t pos_ = 0;
};

bool IsAlnum(char c) { return absl::ascii_isalnum(c); }

// A label value, or the name part of a key: at most 63 characters of
// [A-Za-z0-9._-], starting and ending alphanumeric (or empty, for values).
bool IsValidName(absl::string_view s) {
  if (s.size() > 63) return false;
  if (s.empty()) return true;
  if (!IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  return absl::c_all_of(
      s, [](char c) { return IsAlnum(c) || c == '-' || c == '_' || c == '.'; });
}

// A DNS-1123 subdomain: dot-separated [a-z0-9]([-a-z0-9]*[a-z0-9])?,
// at most 253 characters.
bool IsDnsSubdomain(absl::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (true) {
    const size_t dot = s.find('.', start);
    const absl::string_view part =
        s.substr(start, dot == absl::string_view::npos ? dot : dot - start);
    if (part.empty()) return false;
    auto ok_end = [](char c) {
      return absl::ascii_islower(c) || absl::ascii_isdigit(c);
    };
    if (!ok_end(part.front()) || !ok_end(part.back())) return false;
    for (char c : part) {
      if (!ok_end(c) && c != '-') return false;
    }
    if (dot == absl::string_view::npos) return true;
    start = dot + 1;
  }
}

bool IsQualifiedName(absl::string_view key) {
  const size_t slash = key.find('/');
  absl::string_view name = key;
  if (slash != absl::string_view::npos) {
    if (!IsDnsSubdomain(key.substr(0, slash))) return false;
    name = key.substr(slash + 1);
  }
  return !name.empty() && IsValidName(name);
}

class LabelParser {
 public:
  explicit LabelParser(absl::string_view text) : text_(text), lexer_(text) {}

  absl::StatusOr<std::vector<KubernetesLabelRequirement>> Parse() {
    std::vector<KubernetesLabelRequirement> out;
    if (lexer_.Peek() == Token::kEnd) return out;
    while (true) {
      absl::StatusOr<KubernetesLabelRequirement> r = Requirement();
      if (!r.ok()) return r.status();
      out.push_back(*std::move(r));
      const Token t = lexer_.Next(&word_);
      if (t == Token::kEnd) return out;
      if (t != Token::kComma) return Error("expected ',' or the end");
      if (lexer_.Peek() == Token::kEnd) {
        return Error("expected a requirement after ','");
      }
    }
  }

 private:
  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid label selector ", GoQuote(text_), ": ", what));
  }

  absl::StatusOr<KubernetesLabelRequirement> Requirement() {
    KubernetesLabelRequirement r;
    Token t = lexer_.Next(&word_);
    const bool negated = t == Token::kNot;
    if (negated) t = lexer_.Next(&word_);
    if (t != Token::kIdentifier) return Error("expected a label key");
    if (!IsQualifiedName(word_)) {
      return Error(absl::StrCat("invalid label key ", GoQuote(word_)));
    }
    r.key = word_;
    const Token next = lexer_.Peek();
    if (negated || next == Token::kComma || next == Token::kEnd) {
      if (negated && next != Token::kComma && next != Token::kEnd) {
        return Error("'!' takes a key alone");
      }
      r.op = negated ? Op::kDoesNotExist : Op::kExists;
      return r;
    }
    t = lexer_.Next(&word_);
    if (t == Token::kIn || t == Token::kNotIn) {
      r.op = t == Token::kIn ? Op::kIn : Op::kNotIn;
      if (absl::Status s = ValueSet(&r.values); !s.ok()) return s;
      if (r.values.empty()) {
        return Error("the values of 'in' and 'notin' cannot be empty");
      }
      return r;
    }
    // The operators that take one value.
    static constexpr std::pair<Token, Op> kOperators[] = {
        {Token::kEquals, Op::kEquals},
        {Token::kDoubleEq, Op::kEquals},
        {Token::kNotEquals, Op::kNotEquals},
        {Token::kGreater, Op::kGreaterThan},
        {Token::kLess, Op::kLessThan},
    };
    const auto op = absl::c_find_if(
        kOperators,
        [t](const std::pair<Token, Op>& o) { return o.first == t; });
    if (op == std::end(kOperators)) {
      return Error(absl::StrCat("expected an operator after ", GoQuote(r.key)));
    }
    r.op = op->second;
    // One value, possibly empty (`k=` ends at `,` or the end).
    std::string value;
    const Token v = lexer_.Peek();
    if (v == Token::kIdentifier) {
      lexer_.Next(&value);
    } else if (v != Token::kComma && v != Token::kEnd) {
      return Error(absl::StrCat("expected a value for ", GoQuote(r.key)));
    }
    if (r.op == Op::kGreaterThan || r.op == Op::kLessThan) {
      int64_t ignored;
      if (!absl::SimpleAtoi(value, &ignored)) {
        return Error(absl::StrCat("the value of ", GoQuote(r.key),
                                  " must be an integer for '>' and '<'"));
      }
    } else if (!IsValidName(value)) {
      return Error(absl::StrCat("invalid label value ", GoQuote(value)));
    }
    r.values.push_back(std::move(value));
    return r;
  }

  absl::Status ValueSet(std::vector<std::string>* values) {
    if (lexer_.Next(&word_) != Token::kOpen) {
      return Error("the values of 'in' and 'notin' must be in parentheses");
    }
    bool expect_value = true;
    while (true) {
      const Token t = lexer_.Next(&word_);
      if (t == Token::kClose) break;
      if (t == Token::kComma) {
        // An empty value between commas (`(a,,b)`) or at an edge.
        if (expect_value) values->push_back("");
        expect_value = true;
        continue;
      }
      if (t != Token::kIdentifier || !expect_value) {
        return Error("expected a value, ',' or ')' in a value set");
      }
      if (!IsValidName(word_)) {
        return Error(absl::StrCat("invalid label value ", GoQuote(word_)));
      }
      values->push_back(word_);
      expect_value = false;
    }
    if (expect_value && !values->empty()) values->push_back("");
    absl::c_sort(*values);
    values->erase(std::unique(values->begin(), values->end()), values->end());
    return absl::OkStatus();
  }

  absl::string_view text_;
  Lexer lexer_;
  std::string word_;
};

// Splits `text` at unescaped commas (fields.ParseSelector's splitTerms).
std::vector<std::string> SplitTerms(absl::string_view text) {
  std::vector<std::string> terms;
  std::string current;
  bool escaped = false;
  for (char c : text) {
    if (escaped) {
      current += '\\';
      current += c;
      escaped = false;
    } else if (c == '\\') {
      escaped = true;
    } else if (c == ',') {
      terms.push_back(std::move(current));
      current.clear();
    } else {
      current += c;
    }
  }
  if (escaped) current += '\\';
  terms.push_back(std::move(current));
  return terms;
}

// Whether a label whose value is `*v` (null: absent) satisfies `r`.
bool Satisfies(const KubernetesLabelRequirement& r, const std::string* v) {
  switch (r.op) {
    case Op::kEquals:
    case Op::kIn:
      return v != nullptr && absl::c_linear_search(r.values, *v);
    case Op::kNotEquals:
    case Op::kNotIn:
      return v == nullptr || !absl::c_linear_search(r.values, *v);
    case Op::kExists:
      return v != nullptr;
    case Op::kDoesNotExist:
      return v == nullptr;
    case Op::kGreaterThan:
    case Op::kLessThan: {
      int64_t have, bound;
      return v != nullptr && absl::SimpleAtoi(*v, &have) &&
             absl::SimpleAtoi(r.values[0], &bound) &&
             (r.op == Op::kGreaterThan ? have > bound : have < bound);
    }
  }
  return false;
}

}  // namespace

absl::StatusOr<std::vector<KubernetesLabelRequirement>>
ParseKubernetesLabelSelector(absl::string_view text) {
  return LabelParser(text).Parse();
}

absl::StatusOr<std::vector<KubernetesFieldRequirement>>
ParseKubernetesFieldSelector(absl::string_view text) {
  std::vector<KubernetesFieldRequirement> out;
  if (text.empty()) return out;
  auto error = [&](absl::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid field selector ", GoQuote(text), ": ", what));
  };
  for (const std::string& term : SplitTerms(text)) {
    if (term.empty()) continue;
    // The first unescaped operator: `!=`, then `==`, then `=`.
    size_t op_at = std::string::npos;
    size_t op_len = 0;
    bool equals = true;
    for (size_t i = 0; i < term.size(); ++i) {
      if (term[i] == '\\') {
        ++i;
        continue;
      }
      if (term.compare(i, 2, "!=") == 0) {
        op_at = i, op_len = 2, equals = false;
      } else if (term.compare(i, 2, "==") == 0) {
        op_at = i, op_len = 2;
      } else if (term[i] == '=') {
        op_at = i, op_len = 1;
      } else {
        continue;
      }
      break;
    }
    if (op_at == std::string::npos) {
      return error(absl::StrCat("cannot understand ", GoQuote(term)));
    }
    KubernetesFieldRequirement r;
    r.field = term.substr(0, op_at);
    r.equals = equals;
    const std::string raw = term.substr(op_at + op_len);
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '\\') {
        r.value += raw[i];
        continue;
      }
      if (i + 1 >= raw.size() ||
          (raw[i + 1] != '\\' && raw[i + 1] != ',' && raw[i + 1] != '=')) {
        return error(absl::StrCat("invalid escape in ", GoQuote(raw)));
      }
      r.value += raw[++i];
    }
    out.push_back(std::move(r));
  }
  return out;
}

bool MatchesLabelSelector(
    const std::vector<KubernetesLabelRequirement>& requirements,
    const KubernetesValueLookup& lookup) {
  return absl::c_all_of(requirements, [&](const KubernetesLabelRequirement& r) {
    return Satisfies(r, lookup(r.key));
  });
}

bool MatchesFieldSelector(
    const std::vector<KubernetesFieldRequirement>& requirements,
    const KubernetesValueLookup& lookup) {
  return absl::c_all_of(requirements, [&](const KubernetesFieldRequirement& r) {
    const std::string* v = lookup(r.field);
    return (absl::string_view(v != nullptr ? *v : "") == r.value) == r.equals;
  });
}

}  // namespace fedgate
