/* libFuzzer harness: the Huffman row decoders (templates/decoders/huffman.c.hbs, bits.c.hbs) of a
 * generated model.c, over real decode tables (fuzz_tables.h, rendered from compressed matrices).
 * Input: byte 0 = table, byte 1 = lookup bits kb - 1 (mod min(L, 10), the compiler's range), then
 * fuzz_decoder.h's shape and stream. Every stream goes through the checked decoder; where the
 * compiler would use the unchecked one (complete code, kb = L) both run and must agree word for
 * word, position for position. */
#include "fuzz_decoder.h"

#include "model.c"
#include "fuzz_tables.h"

static uint32_t *decode(const tf_fuzz_table *tt, const uint32_t *lut, uint32_t kb, const tf_fuzz_shape *sh,
                        int fast, tf_stream *s)
{
    const uint32_t block = tf_fuzz_block_words(4u, sh->n);
    uint32_t *all = (uint32_t *)calloc(((sh->rows + 3u) / 4u) * block, sizeof *all);
    uint32_t r;
    tf_stream_init(s, sh->stream, sh->nbytes);
    for (r = 0u; r < sh->rows; r += 4u) {
        const uint32_t nv = sh->rows - r < 4u ? sh->rows - r : 4u;
        uint32_t *dst = (uint32_t *)calloc(tf_fuzz_block_words(nv, sh->n), sizeof *dst);
        if (fast) {
            tf_huff_rows_fast(s, tt->t, tt->L, lut, kb, dst, nv, sh->n);
        } else {
            tf_huff_rows(s, tt->t, tt->L, lut, kb, dst, nv, sh->n);
        }
        memcpy(all + (r / 4u) * block, dst, tf_fuzz_block_words(nv, sh->n) * sizeof *dst);
        free(dst);
    }
    return all;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const tf_fuzz_table *tt;
    tf_fuzz_shape sh;
    tf_stream s;
    uint32_t kmax, kb, *lut, *checked;
    if (size < 2u || !tf_fuzz_shape_of(data, size, 2u, &sh)) {
        return 0;
    }
    tt = &tf_fuzz_tables[data[0] % TF_FUZZ_TABLES];
    kmax = tt->L < 10u ? tt->L : 10u;
    kb = 1u + data[1] % kmax;
    lut = (uint32_t *)malloc(((size_t)1u << kb) * sizeof *lut);
    tf_lut_build(tt->t, tt->L, lut, kb);
    checked = decode(tt, lut, kb, &sh, 0, &s);
    if (tt->complete && kb == tt->L) {
        tf_stream f;
        uint32_t *fast = decode(tt, lut, kb, &sh, 1, &f);
        const uint32_t words = ((sh.rows + 3u) / 4u) * tf_fuzz_block_words(4u, sh.n);
        TF_FUZZ_CHECK(s.bad == 0u && f.bad == 0u, "a complete code reported a bad code");
        TF_FUZZ_CHECK(f.pos == s.pos, "fast and checked Huffman decoders end at different positions");
        TF_FUZZ_CHECK(memcmp(fast, checked, words * sizeof *fast) == 0, "fast and checked Huffman decoders disagree");
        free(fast);
    }
    (void)tf_stream_status(&s, 8u * sh.nbytes);
    free(checked);
    free(lut);
    return 0;
}
