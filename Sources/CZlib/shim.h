// zlib, for reading gzipped corpora. Only S2SIO imports it.
#ifndef S2S_CZLIB_SHIM_H
#define S2S_CZLIB_SHIM_H
#include <zlib.h>
#endif
