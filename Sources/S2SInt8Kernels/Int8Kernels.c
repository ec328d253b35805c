#include "S2SInt8Kernels.h"
#include <immintrin.h>
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

// Four rows × 8 columns (half a panel) per block: each 32-byte load of B serves four rows.
__attribute__((target("avx2")))
static void half_panel_avx2(int rows, int k4, const int8_t *a, int lda, const int8_t *half, int32_t *c, int ldc,
                            int columns) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i sum[4];
    for (int r = 0; r < 4; r++) sum[r] = _mm256_setzero_si256();
    for (int g = 0; g < k4; g++) {
        const __m256i b = _mm256_loadu_si256((const __m256i *)(half + (long)g * 64));
        for (int r = 0; r < rows; r++) {
            int32_t four;
            memcpy(&four, a + (long)r * lda + 4 * g, 4);
            const __m256i x = _mm256_set1_epi32(four);
            const __m256i products = _mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(b, x));
            sum[r] = _mm256_add_epi32(sum[r], _mm256_madd_epi16(products, ones));
        }
    }
    for (int r = 0; r < rows; r++) {
        int32_t lanes[8];
        _mm256_storeu_si256((__m256i *)lanes, sum[r]);
        memcpy(c + (long)r * ldc, lanes, (size_t)columns * 4);
    }
}

__attribute__((target("avx2")))
void s2s_int8_gemm_avx2(int m, int n, int k, const int8_t *a, int lda, const int8_t *packed,
                        int32_t *c, int ldc) {
    const int k4 = groups_of_four(k), panels = panels_of(n);
    for (int p = 0; p < panels; p++) {
        for (int half = 0; half < 2; half++) {
            const int first = 16 * p + 8 * half;
            if (first >= n) break;
            const int columns = n - first < 8 ? n - first : 8;
            for (int i = 0; i < m; i += 4) {
                const int rows = m - i < 4 ? m - i : 4;
                half_panel_avx2(rows, k4, a + (long)i * lda, lda, packed + (long)p * k4 * 64 + 32 * half,
                                c + (long)i * ldc + first, ldc, columns);
            }
        }
    }
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
void s2s_int8_gemm_avx512vnni(int m, int n, int k, const int8_t *a, int lda, const int8_t *packed,
                              const int32_t *column_sums, int32_t *c, int ldc) {
    const int k4 = groups_of_four(k), panels = panels_of(n);
    const __m512i flip = _mm512_set1_epi32((int)0x80808080u);
    for (int p = 0; p < panels; p++) {
        const int first = 16 * p, columns = n - first < 16 ? n - first : 16;
        const __mmask16 mask = (__mmask16)((1u << columns) - 1);
        const __m512i correction = _mm512_slli_epi32(_mm512_maskz_loadu_epi32(mask, column_sums + first), 7);
        const int8_t *panel = packed + (long)p * k4 * 64;
        for (int i = 0; i < m; i += 4) {
            const int rows = m - i < 4 ? m - i : 4;
            __m512i sum[4];
            for (int r = 0; r < 4; r++) sum[r] = _mm512_setzero_si512();
            for (int g = 0; g < k4; g++) {
                const __m512i b = _mm512_loadu_si512((const void *)(panel + (long)g * 64));
                for (int r = 0; r < rows; r++) {
                    int32_t four;
                    memcpy(&four, a + (long)(i + r) * lda + 4 * g, 4);
                    sum[r] = _mm512_dpbusd_epi32(sum[r], _mm512_xor_si512(_mm512_set1_epi32(four), flip), b);
                }
            }
            for (int r = 0; r < rows; r++) {
                _mm512_mask_storeu_epi32(c + (long)(i + r) * ldc + first, mask, _mm512_sub_epi32(sum[r], correction));
            }
        }
    }
}
