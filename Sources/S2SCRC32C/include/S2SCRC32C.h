// CRC-32C (Castagnoli) with the CPU's own instruction, where it has one: SSE 4.2's crc32 on
// x86-64. S2SContainer's CRC32C uses it when available and its tables otherwise.
#ifndef S2S_CRC32C_H
#define S2S_CRC32C_H
#include <stdint.h>

// 1 when s2s_crc32c_hardware computes the CRC on this CPU, else 0.
int s2s_crc32c_hardware_available(void);
// The CRC register after `count` more bytes, from register `crc` (no pre- or post-inversion:
// the caller does both, as the table code does).
uint32_t s2s_crc32c_hardware(uint32_t crc, const uint8_t *bytes, long count);
#endif
