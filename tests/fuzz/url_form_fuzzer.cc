// tests/fuzz/url_form_fuzzer.cc
//
// libFuzzer target: the URL query and form-body decoder over arbitrary
// bytes. Decoding never grows the text: the names and values together are
// at most as long as the input.

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "absl/strings/string_view.h"
#include "gateway/url_form.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  size_t decoded = 0;
  for (const auto& [name, value] : fedgate::ParseUrlEncoded(input)) {
    decoded += name.size() + value.size();
  }
  if (decoded > size) abort();
  return 0;
}
