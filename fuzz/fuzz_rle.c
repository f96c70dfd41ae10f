/* libFuzzer harness: the rle-huffman decoders (templates/decoders/rle.c.hbs, huffman.c.hbs,
 * bits.c.hbs) of a generated model.c, over real decode tables (fuzz_tables.h). Input as
 * fuzz_huffman.c. Each stream is decoded twice, as dense rows (tf_rle_rows) and row by row as
 * sparse lists (tf_rle_list; and tf_rle_list_fast where the compiler would use it): the two forms
 * must hold the same weights, end at the same position and agree on corruption. */
#include "fuzz_decoder.h"

#include "model.c"
#include "fuzz_tables.h"

/* Weight i of row r (< 4) of a block of operand words. */
static int32_t dense_at(const uint32_t *blk, uint32_t r, uint32_t i)
{
    const uint32_t w = blk[(i / 2u) * 4u + r];
    return (int32_t)(int16_t)(i & 1u ? (w >> 16) : (w & 0xFFFFu));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const tf_fuzz_table *tt;
    tf_fuzz_shape sh;
    tf_stream s, l, f;
    uint32_t kmax, kb, *lut, *dense, *list, *list2, r, i, row;
    int fast;
    if (size < 2u || !tf_fuzz_shape_of(data, size, 2u, &sh)) {
        return 0;
    }
    tt = &tf_fuzz_tables[data[0] % TF_FUZZ_TABLES];
    kmax = tt->L < 10u ? tt->L : 10u;
    kb = 1u + data[1] % kmax;
    fast = tt->complete && kb == tt->L;
    lut = (uint32_t *)malloc(((size_t)1u << kb) * sizeof *lut);
    tf_lut_build(tt->t, tt->L, lut, kb);
    /* A row's list: at most n non-zeros plus one padding word. */
    list = (uint32_t *)malloc((sh.n + 1u) * sizeof *list);
    list2 = (uint32_t *)malloc((sh.n + 1u) * sizeof *list2);
    tf_stream_init(&s, sh.stream, sh.nbytes);
    tf_stream_init(&l, sh.stream, sh.nbytes);
    tf_stream_init(&f, sh.stream, sh.nbytes);
    for (r = 0u; r < sh.rows; r += 4u) {
        const uint32_t nv = sh.rows - r < 4u ? sh.rows - r : 4u;
        dense = (uint32_t *)malloc(tf_fuzz_block_words(nv, sh.n) * sizeof *dense);
        tf_rle_rows(&s, tt->t, tt->L, lut, kb, dense, nv, sh.n);
        for (row = 0u; row < nv; row++) {
            const uint32_t count = tf_rle_list(&l, tt->t, tt->L, lut, kb, list, sh.n);
            uint32_t at = 0u;
            TF_FUZZ_CHECK(count <= sh.n + 1u && (count & 1u) == 0u, "rle list count out of range");
            for (i = 0u; i < sh.n; i++) {
                int32_t v = 0;
                /* List words: value << 16 | 2 * position, positions rising; a trailing zero pad word. */
                if (at < count && (list[at] & 0xFFFFu) == 2u * i && (list[at] >> 16) != 0u) {
                    v = (int32_t)(int16_t)(list[at] >> 16);
                    at++;
                } else if (at < count && (list[at] & 0xFFFFu) == 2u * i) {
                    at++; /* a literal zero (or the pad word at position 0) */
                }
                TF_FUZZ_CHECK(dense_at(dense, row, i) == v, "rle rows and rle list disagree on a weight");
            }
            if (fast) {
                const uint32_t c2 = tf_rle_list_fast(&f, tt->t, tt->L, lut, kb, list2, sh.n);
                TF_FUZZ_CHECK(c2 == count && memcmp(list, list2, count * sizeof *list) == 0,
                              "fast and checked rle lists disagree");
            }
        }
        free(dense);
    }
    TF_FUZZ_CHECK(s.pos == l.pos, "rle rows and rle list end at different positions");
    TF_FUZZ_CHECK((s.bad != 0u) == (l.bad != 0u), "rle rows and rle list disagree on corruption");
    if (fast) {
        TF_FUZZ_CHECK(f.pos == l.pos && (f.bad != 0u) == (l.bad != 0u), "fast and checked rle lists end apart");
    }
    free(list2);
    free(list);
    free(lut);
    return 0;
}
