// libFuzzer's entry point for programs that have their own main (compiler-rt's FuzzerInterface.h); the fuzz build
// links it with -sanitize=fuzzer.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));
