// Integer matrix products for 8-bit decoding: C[m][n] (int32) = Σ_k A[m][k] · B[k][n], with A
// int8 rows (k padded to a multiple of 4 with zeros) and B int8 packed by `s2s_int8_pack`.
// Every kernel computes the exact integer sum, so they agree bit for bit.
#ifndef S2S_INT8_KERNELS_H
#define S2S_INT8_KERNELS_H
#include <stdint.h>

// Packed layout of B [k][n]: panels of 16 columns (the last one zero-padded); panel p holds,
// for each group g of 4 rows (k padded to a multiple of 4), 16 columns × 4 bytes:
// packed[(p * k4 + g) * 64 + 4 * j + r] = B[4g + r][16p + j].
long s2s_int8_packed_size(int k, int n);
// Packs B (row-major, leading dimension ldb) and writes each column's sum Σ_k B[k][j] into
// column_sums[0 ..< n] (the unsigned-A kernels subtract 128 × it).
void s2s_int8_pack(const int8_t *b, int k, int n, int ldb, int8_t *packed, int32_t *column_sums);

// Quantizes op(B) [k][n] per column: scales[j] = max_r |op(B)[r][j]| / 127 (1 for a zero
// column) and out[r * n + j] = op(B)[r][j] / scales[j] rounded to nearest (even), in [−127, 127];
// out is row-major [k][n], as s2s_int8_pack reads it. B is row-major with leading dimension ldb,
// holding [k][n], or [n][k] when `transposed` (AVX2).
void s2s_int8_quantize_columns(const float *b, int k, int n, int ldb, int transposed, float *scales, int8_t *out);

// The kernels. a: m rows of k4 * 4 bytes (leading dimension lda bytes); c: int32, leading
// dimension ldc; every column of C written.
void s2s_int8_gemm_reference(int m, int n, int k, const int8_t *a, int lda, const int8_t *packed,
                             int32_t *c, int ldc);
// AVX2: vpmaddubsw on |a| and b signed by a (intgemm's trick: no 16-bit saturation, as
// |a|, |b| ≤ 127), then vpmaddwd into 32 bits.
void s2s_int8_gemm_avx2(int m, int n, int k, const int8_t *a, int lda, const int8_t *packed,
                        int32_t *c, int ldc);
// AVX-512 VNNI: vpdpbusd on a + 128 (unsigned) and b, then − 128 × the column sums.
void s2s_int8_gemm_avx512vnni(int m, int n, int k, const int8_t *a, int lda, const int8_t *packed,
                              const int32_t *column_sums, int32_t *c, int ldc);

// A row of k floats quantized to int8 with scale max |x| / 127 (returned), rounding to nearest;
// out is zero-padded to `bytes` (AVX2).
float s2s_int8_quantize_row(const float *x, int k, int8_t *out, int bytes);
// out[j] (+)= sums[j] · row_scale · column_scales[j] for j < n (AVX2).
void s2s_int8_dequantize_row(const int32_t *sums, int n, float row_scale, const float *column_scales, int accumulate,
                             float *out);
#endif
