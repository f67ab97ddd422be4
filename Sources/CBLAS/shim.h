// OpenBLAS's CBLAS interface as Debian installs it (libopenblas-dev).
#include <cblas.h>
