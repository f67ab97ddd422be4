#include "CLibFuzzer.h"

// libFuzzer's own main, which -sanitize=fuzzer links, names this callback; SwiftPM replaces that main with the
// harness's top-level code, which passes its callback to LLVMFuzzerRunDriver instead, so this one never runs.
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  (void)data;
  (void)size;
  return 0;
}
