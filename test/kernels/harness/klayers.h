/* TF_LAYER_OUTPUT for the per-layer checks: the CRC-32 of every layer's output, kept for kmain.c to
 * print after the window (built with -DTFK_LAYER_CRC). */
#ifndef TF_KLAYERS_H
#define TF_KLAYERS_H

#include "kharness.h"

#define TF_LAYER_OUTPUT(i, name, ptr, bytes) tfk_layer_crc((i), (ptr), (uint32_t)(bytes))

#endif
