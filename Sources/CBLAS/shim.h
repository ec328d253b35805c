// The one doorway to OpenBLAS (cblas) and LAPACKE. Only S2STensor/BLAS.swift imports it.
#ifndef S2S_CBLAS_SHIM_H
#define S2S_CBLAS_SHIM_H
#include <cblas.h>
#include <lapacke.h>
// lapack_int is a macro, which Swift does not import; name it as a type.
typedef lapack_int s2s_lapack_int;
// Declared by OpenBLAS; repeated here so the prototype is visible whatever cblas.h ships.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
#endif
