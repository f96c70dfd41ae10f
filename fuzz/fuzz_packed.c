/* libFuzzer harness: the packed row decoder (templates/decoders/packed.c.hbs, bits.c.hbs) of a
 * generated model.c. Input: byte 0 = weight width - 2 (mod 7), then fuzz_decoder.h's shape and
 * stream. Also runs the 8-bit whole-byte expansion when the rendered model has it, on streams that
 * hold rows * n bytes (the compiler guarantees that before it picks it). */
#include "fuzz_decoder.h"

#include "model.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tf_fuzz_shape sh;
    tf_stream s;
    uint32_t bits, r, words, *dst;
    if (size < 1u || !tf_fuzz_shape_of(data, size, 1u, &sh)) {
        return 0;
    }
    bits = 2u + data[0] % 7u;
    tf_stream_init(&s, sh.stream, sh.nbytes);
    for (r = 0u; r < sh.rows; r += 4u) {
        const uint32_t nv = sh.rows - r < 4u ? sh.rows - r : 4u;
        words = tf_fuzz_block_words(nv, sh.n);
        dst = (uint32_t *)malloc(words * sizeof *dst);
        tf_packed_rows(&s, bits, dst, nv, sh.n);
        free(dst);
    }
    /* A packed stream has no bad codes: it is sound exactly when its length is. */
    TF_FUZZ_CHECK((tf_stream_status(&s, s.pos) == TF_OK), "packed stream reported a bad code");
    TF_FUZZ_CHECK(s.pos == sh.rows * sh.n * bits, "packed position is not rows * n * bits");
#ifdef TF_FUZZ_EXPAND8
    if ((uint64_t)sh.rows * sh.n <= sh.nbytes) {
        const int8_t *w = (const int8_t *)sh.stream;
        for (r = 0u; r < sh.rows; r += 4u) {
            const uint32_t nv = sh.rows - r < 4u ? sh.rows - r : 4u;
            dst = (uint32_t *)malloc(tf_fuzz_block_words(nv, sh.n) * sizeof *dst);
            tf_expand8_rows(w + r * sh.n, dst, nv, sh.n);
            free(dst);
        }
    }
#endif
    return 0;
}
