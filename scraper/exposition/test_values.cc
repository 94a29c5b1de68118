#include "scraper/exposition/test_values.h"

#include <charconv>
#include <cmath>
#include <string>

namespace fedgate {

std::string FormatTestValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  const std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, r.ptr);
}

}  // namespace fedgate
