// oneDNN's sgemm as Debian installs it (libdnnl-dev 2.6, a JIT AVX-512 GEMM built on OpenMP), and the one OpenMP
// call Seesaw makes: each sgemm runs on its calling thread alone, since Seesaw's own pool splits the work.
#include <oneapi/dnnl/dnnl.h>

void omp_set_num_threads(int num_threads);
