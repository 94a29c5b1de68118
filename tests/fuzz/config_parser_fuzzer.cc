// tests/fuzz/config_parser_fuzzer.cc
//
// libFuzzer target: the YAML configuration loader over arbitrary bytes. It
// must return a configuration or an error, never crash or throw (yaml-cpp
// throws; ParseConfig must catch).

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "config/config_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view yaml(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<fedgate::Config> config =
      fedgate::ParseConfig(yaml, "fuzz.yml");
  (void)config.ok();
  return 0;
}
