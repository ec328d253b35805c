#include "S2SCRC32C.h"
#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>

int s2s_crc32c_hardware_available(void) { return __builtin_cpu_supports("sse4.2"); }

// One 8-byte step per instruction: a model file's checksum is a pass at memory speed instead
// of eight table lookups per word.
__attribute__((target("sse4.2")))
uint32_t s2s_crc32c_hardware(uint32_t crc, const uint8_t *bytes, long count) {
    uint64_t wide = crc;
    for (; count >= 8; bytes += 8, count -= 8) {
        uint64_t word;
        memcpy(&word, bytes, 8);
        wide = _mm_crc32_u64(wide, word);
    }
    uint32_t narrow = (uint32_t)wide;
    for (; count > 0; bytes++, count--) narrow = _mm_crc32_u8(narrow, *bytes);
    return narrow;
}
#else
int s2s_crc32c_hardware_available(void) { return 0; }

uint32_t s2s_crc32c_hardware(uint32_t crc, const uint8_t *bytes, long count) {
    (void)bytes;
    (void)count;
    return crc;
}
#endif
