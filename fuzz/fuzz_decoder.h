/* Shared by the decoder harnesses (fuzz_packed.c, fuzz_huffman.c, fuzz_rle.c).
 * Input: head bytes (harness-specific), uint16 rows - 1, uint16 n - 1 (little-endian), then the
 * bitstream: `rows` rows of n weights are decoded in blocks of four rows, as a weighted layer does,
 * into operand buffers allocated to their exact size, so that AddressSanitizer sees any write past
 * them and any read past the stream (libFuzzer's input is itself an exact-size heap block). */
#ifndef TF_FUZZ_DECODER_H
#define TF_FUZZ_DECODER_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bounds per input (rows of real layers are shorter): larger matrices take no other path, only
 * longer. Sparse list words hold 2 * position in 16 bits, so a row must stay below 32768 anyway. */
#define TF_FUZZ_MAX_ROWS 64u
#define TF_FUZZ_MAX_ROW 1024u
#define TF_FUZZ_MAX_WEIGHTS 4096u

typedef struct {
    uint32_t rows;
    uint32_t n;
    const uint8_t *stream;
    uint32_t nbytes;
} tf_fuzz_shape;

/* Reads rows and n after `head` bytes; 0 when the input is too short or the matrix too large. */
static int tf_fuzz_shape_of(const uint8_t *data, size_t size, size_t head, tf_fuzz_shape *s)
{
    if (size < head + 4u) {
        return 0;
    }
    s->rows = 1u + ((uint32_t)data[head] | ((uint32_t)data[head + 1u] << 8)) % TF_FUZZ_MAX_ROWS;
    s->n = 1u + ((uint32_t)data[head + 2u] | ((uint32_t)data[head + 3u] << 8)) % TF_FUZZ_MAX_ROW;
    if ((uint64_t)s->rows * s->n > TF_FUZZ_MAX_WEIGHTS) {
        return 0;
    }
    s->stream = data + head + 4u;
    s->nbytes = (uint32_t)(size - head - 4u);
    return 1;
}

/* Operand words of a block of `rows` (<= 4) rows of n weights: dst[p * 4 + r], p < ceil(n / 2)
 * (callers calloc them: a block of fewer than four rows leaves gaps). */
static uint32_t tf_fuzz_block_words(uint32_t rows, uint32_t n)
{
#ifdef TF_FUZZ_SELFTEST
    /* The self-test build (test/fuzz/cHarnesses.test.ts): one word short, a finding to be found. */
    return ((n + 1u) / 2u - 1u) * 4u + rows - 1u;
#else
    return ((n + 1u) / 2u - 1u) * 4u + rows;
#endif
}

/* A finding the sanitizers cannot see (two decoders disagree): abort, libFuzzer keeps the input. */
#define TF_FUZZ_CHECK(cond, what)                                                                       \
    do {                                                                                                \
        if (!(cond)) {                                                                                  \
            fprintf(stderr, "tinyforge fuzz: %s\n", what);                                              \
            abort();                                                                                    \
        }                                                                                               \
    } while (0)

#endif
