// tests/fuzz/web_config_fuzzer.cc
//
// libFuzzer target: the --web.config.file loader over arbitrary bytes. It
// must return a web config or an error, never crash or throw (yaml-cpp
// throws; ParseWebConfig must catch); a loaded config must give GnuTLS
// priorities.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gateway/security/web_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view yaml(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<fedgate::WebConfig> config =
      fedgate::ParseWebConfig(yaml, "/etc/fedgate/web.yml");
  if (config.ok()) {
    const std::string priorities = fedgate::GnutlsPriorities(config->tls);
    (void)priorities.size();
  }
  return 0;
}
