#include "S2SInt8Kernels.h"
#include <immintrin.h>
#include <math.h>
#include <string.h>

static inline int groups_of_four(int k) { return (k + 3) / 4; }
static inline int panels_of(int n) { return (n + 15) / 16; }

long s2s_int8_packed_size(int k, int n) { return (long)panels_of(n) * groups_of_four(k) * 64; }

void s2s_int8_pack(const int8_t *b, int k, int n, int ldb, int8_t *packed, int32_t *column_sums) {
    const int k4 = groups_of_four(k), panels = panels_of(n);
    memset(packed, 0, (size_t)s2s_int8_packed_size(k, n));
    for (int j = 0; j < n; j++) column_sums[j] = 0;
    for (int p = 0; p < panels; p++) {
        for (int g = 0; g < k4; g++) {
            int8_t *out = packed + ((long)p * k4 + g) * 64;
            for (int j = 0; j < 16 && 16 * p + j < n; j++) {
                for (int r = 0; r < 4 && 4 * g + r < k; r++) {
                    const int8_t value = b[(long)(4 * g + r) * ldb + 16 * p + j];
                    out[4 * j + r] = value;
                    column_sums[16 * p + j] += value;
                }
            }
        }
    }
}

static inline int8_t quantized_weight(float x) {
    // fmaxf/fminf return the number when x is NaN, so the conversion is always defined.
    return (int8_t)fmaxf(-127.0f, fminf(127.0f, __builtin_rintf(x)));
}

// Row by row over B when it is [k][n], column by column when it is [n][k]: each pass reads B
// contiguously (the column-by-column walk over a [k][n] B missed the cache on every element
// and was a quarter of `translate --int8`'s start-up).
__attribute__((target("avx2")))
void s2s_int8_quantize_columns(const float *b, int k, int n, int ldb, int transposed, float *scales, int8_t *out) {
    if (transposed) {
        for (int j = 0; j < n; j++) {
            const float *column = b + (long)j * ldb;
            float largest = 0;
            for (int r = 0; r < k; r++) largest = fmaxf(largest, fabsf(column[r]));
            const float scale = largest > 0 ? largest / 127 : 1;
            scales[j] = scale;
            for (int r = 0; r < k; r++) out[(long)r * n + j] = quantized_weight(column[r] / scale);
        }
        return;
    }
    for (int j = 0; j < n; j++) scales[j] = 0;
    for (int r = 0; r < k; r++) {
        const float *row = b + (long)r * ldb;
        for (int j = 0; j < n; j++) scales[j] = fmaxf(scales[j], fabsf(row[j]));
    }
    for (int j = 0; j < n; j++) scales[j] = scales[j] > 0 ? scales[j] / 127 : 1;
    for (int r = 0; r < k; r++) {
        const float *row = b + (long)r * ldb;
        int8_t *quantized = out + (long)r * n;
        for (int j = 0; j < n; j++) quantized[j] = quantized_weight(row[j] / scales[j]);
    }
}

void s2s_int8_gemm_reference(int m, int n, int k, const int8_t *a, int lda, const int8_t *packed,
                             int32_t *c, int ldc) {
    const int k4 = groups_of_four(k);
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
            const int8_t *panel = packed + (long)(j / 16) * k4 * 64;
            int32_t sum = 0;
            for (int g = 0; g < k4; g++) {
                for (int r = 0; r < 4; r++) sum += (int32_t)a[(long)i * lda + 4 * g + r] * panel[g * 64 + 4 * (j % 16) + r];
            }
            c[(long)i * ldc + j] = sum;
        }
    }
}

// Four rows × one panel (16 columns) per block: each row's broadcast and absolute value serve
// both halves of the panel, each 32-byte load of B four rows. (Four rows × 8 columns, which
// computed each row's absolute value once per half, measured slower: BENCHMARKS.md, "On an AVX2-only CPU".)
// The sign trick keeps vpmaddubsw exact: |a| · (b · sign a) with |a|, |b| ≤ 127, so a pair
// of products is at most 2 · 127² < 2¹⁵ and never saturates.
__attribute__((target("avx2"), always_inline))
static inline void panel_avx2(const int rows, int k4, const int8_t *a, int lda, const int8_t *panel, int32_t *c, int ldc,
                              int columns) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i low[4], high[4];
    for (int r = 0; r < 4; r++) { low[r] = _mm256_setzero_si256(); high[r] = _mm256_setzero_si256(); }
    for (int g = 0; g < k4; g++) {
        const __m256i b0 = _mm256_loadu_si256((const __m256i *)(panel + (long)g * 64));
        const __m256i b1 = _mm256_loadu_si256((const __m256i *)(panel + (long)g * 64 + 32));
        for (int r = 0; r < rows; r++) {
            int32_t four;
            memcpy(&four, a + (long)r * lda + 4 * g, 4);
            const __m256i x = _mm256_set1_epi32(four), magnitude = _mm256_sign_epi8(x, x);
            low[r] = _mm256_add_epi32(low[r], _mm256_madd_epi16(_mm256_maddubs_epi16(magnitude, _mm256_sign_epi8(b0, x)), ones));
            high[r] = _mm256_add_epi32(high[r], _mm256_madd_epi16(_mm256_maddubs_epi16(magnitude, _mm256_sign_epi8(b1, x)), ones));
        }
    }
    for (int r = 0; r < rows; r++) {
        int32_t lanes[16];
        _mm256_storeu_si256((__m256i *)lanes, low[r]);
        _mm256_storeu_si256((__m256i *)(lanes + 8), high[r]);
        memcpy(c + (long)r * ldc, lanes, (size_t)columns * 4);
    }
}

__attribute__((target("avx2")))
void s2s_int8_gemm_avx2(int m, int n, int k, const int8_t *a, int lda, const int8_t *packed,
                        int32_t *c, int ldc) {
    const int k4 = groups_of_four(k), panels = panels_of(n);
    for (int p = 0; p < panels; p++) {
        const int first = 16 * p, columns = n - first < 16 ? n - first : 16;
        const int8_t *panel = packed + (long)p * k4 * 64;
        for (int i = 0; i < m; i += 4) {
            const int8_t *rows_a = a + (long)i * lda;
            int32_t *rows_c = c + (long)i * ldc + first;
            // Constant row counts, so each block's accumulators live in registers.
            switch (m - i < 4 ? m - i : 4) {
            case 4: panel_avx2(4, k4, rows_a, lda, panel, rows_c, ldc, columns); break;
            case 3: panel_avx2(3, k4, rows_a, lda, panel, rows_c, ldc, columns); break;
            case 2: panel_avx2(2, k4, rows_a, lda, panel, rows_c, ldc, columns); break;
            default: panel_avx2(1, k4, rows_a, lda, panel, rows_c, ldc, columns); break;
            }
        }
    }
}

// Six rows × two panels (32 columns) per block: each broadcast row group serves two vpdpbusd,
// each panel load six.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"), always_inline))
static inline void block_avx512vnni(const int rows, int k4, const int8_t *a, int lda, const int8_t *panel0, const int8_t *panel1,
                             __m512i correction0, __m512i correction1, int32_t *c, int ldc,
                             __mmask16 mask0, __mmask16 mask1) {
    const __m512i flip = _mm512_set1_epi32((int)0x80808080u);
    __m512i sum0[6], sum1[6];
    for (int r = 0; r < 6; r++) { sum0[r] = _mm512_setzero_si512(); sum1[r] = _mm512_setzero_si512(); }
    for (int g = 0; g < k4; g++) {
        const __m512i b0 = _mm512_loadu_si512((const void *)(panel0 + (long)g * 64));
        const __m512i b1 = panel1 ? _mm512_loadu_si512((const void *)(panel1 + (long)g * 64)) : _mm512_setzero_si512();
        for (int r = 0; r < rows; r++) {
            int32_t four;
            memcpy(&four, a + (long)r * lda + 4 * g, 4);
            const __m512i x = _mm512_xor_si512(_mm512_set1_epi32(four), flip);
            sum0[r] = _mm512_dpbusd_epi32(sum0[r], x, b0);
            sum1[r] = _mm512_dpbusd_epi32(sum1[r], x, b1);
        }
    }
    for (int r = 0; r < rows; r++) {
        _mm512_mask_storeu_epi32(c + (long)r * ldc, mask0, _mm512_sub_epi32(sum0[r], correction0));
        if (panel1) _mm512_mask_storeu_epi32(c + (long)r * ldc + 16, mask1, _mm512_sub_epi32(sum1[r], correction1));
    }
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
void s2s_int8_gemm_avx512vnni(int m, int n, int k, const int8_t *a, int lda, const int8_t *packed,
                              const int32_t *column_sums, int32_t *c, int ldc) {
    const int k4 = groups_of_four(k), panels = panels_of(n);
    for (int p = 0; p < panels; p += 2) {
        const int first = 16 * p, columns0 = n - first < 16 ? n - first : 16;
        const int columns1 = p + 1 < panels ? (n - first - 16 < 16 ? n - first - 16 : 16) : 0;
        const __mmask16 mask0 = (__mmask16)((1u << columns0) - 1), mask1 = (__mmask16)((1u << columns1) - 1);
        const __m512i correction0 = _mm512_slli_epi32(_mm512_maskz_loadu_epi32(mask0, column_sums + first), 7);
        const __m512i correction1 = columns1 ? _mm512_slli_epi32(_mm512_maskz_loadu_epi32(mask1, column_sums + first + 16), 7)
                                             : _mm512_setzero_si512();
        const int8_t *panel0 = packed + (long)p * k4 * 64;
        const int8_t *panel1 = columns1 ? packed + (long)(p + 1) * k4 * 64 : 0;
        for (int i = 0; i < m; i += 6) {
            const int8_t *rows_a = a + (long)i * lda;
            int32_t *rows_c = c + (long)i * ldc + first;
            // Constant row counts, so each block's accumulators live in registers.
            switch (m - i < 6 ? m - i : 6) {
            case 6: block_avx512vnni(6, k4, rows_a, lda, panel0, panel1, correction0, correction1, rows_c, ldc, mask0, mask1); break;
            case 5: block_avx512vnni(5, k4, rows_a, lda, panel0, panel1, correction0, correction1, rows_c, ldc, mask0, mask1); break;
            case 4: block_avx512vnni(4, k4, rows_a, lda, panel0, panel1, correction0, correction1, rows_c, ldc, mask0, mask1); break;
            case 3: block_avx512vnni(3, k4, rows_a, lda, panel0, panel1, correction0, correction1, rows_c, ldc, mask0, mask1); break;
            case 2: block_avx512vnni(2, k4, rows_a, lda, panel0, panel1, correction0, correction1, rows_c, ldc, mask0, mask1); break;
            default: block_avx512vnni(1, k4, rows_a, lda, panel0, panel1, correction0, correction1, rows_c, ldc, mask0, mask1); break;
            }
        }
    }
}

__attribute__((target("avx2,fma")))
float s2s_int8_quantize_row(const float *x, int k, int8_t *out, int bytes) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 largest8 = _mm256_setzero_ps();
    int i = 0;
    for (; i + 8 <= k; i += 8) largest8 = _mm256_max_ps(largest8, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)));
    float lanes[8];
    _mm256_storeu_ps(lanes, largest8);
    float largest = 0;
    for (int l = 0; l < 8; l++) largest = lanes[l] > largest ? lanes[l] : largest;
    for (; i < k; i++) { const float a = x[i] < 0 ? -x[i] : x[i]; largest = a > largest ? a : largest; }
    const float scale = largest > 0 ? largest / 127 : 1, inverse = 1 / scale;
    const __m256 inverse8 = _mm256_set1_ps(inverse);
    i = 0;
    for (; i + 32 <= k; i += 32) {
        // Round to nearest (even), then narrow 32 → 16 → 8 bits with saturation (|q| ≤ 127 anyway).
        const __m256i a = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + i), inverse8));
        const __m256i b = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + i + 8), inverse8));
        const __m256i c = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + i + 16), inverse8));
        const __m256i d = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + i + 24), inverse8));
        const __m256i packed = _mm256_packs_epi16(_mm256_packs_epi32(a, b), _mm256_packs_epi32(c, d));
        // The in-lane packs interleave the quarters: restore a, b, c, d order.
        const __m256i ordered = _mm256_permutevar8x32_epi32(packed, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)(out + i), ordered);
    }
    for (; i < k; i++) {
        const float q = __builtin_rintf(x[i] * inverse);
        out[i] = (int8_t)(q > 127 ? 127 : q < -127 ? -127 : q);
    }
    for (; i < bytes; i++) out[i] = 0;
    return scale;
}

__attribute__((target("avx2,fma")))
void s2s_int8_dequantize_row(const int32_t *sums, int n, float row_scale, const float *column_scales, int accumulate,
                             float *out) {
    const __m256 scale8 = _mm256_set1_ps(row_scale);
    int j = 0;
    for (; j + 8 <= n; j += 8) {
        __m256 value = _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_loadu_si256((const __m256i *)(sums + j))), scale8),
                                     _mm256_loadu_ps(column_scales + j));
        if (accumulate) value = _mm256_add_ps(value, _mm256_loadu_ps(out + j));
        _mm256_storeu_ps(out + j, value);
    }
    for (; j < n; j++) {
        const float value = (float)sums[j] * row_scale * column_scales[j];
        out[j] = accumulate ? out[j] + value : value;
    }
}
