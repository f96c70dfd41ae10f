/* libFuzzer harness: a whole generated model (packed, huffman and rle-huffman layers) whose weight
 * bitstreams the fuzzer overwrites, as corrupt flash would. Input: the int8 input window
 * (TF_INPUT_SIZE bytes), then bytes that replace the coded bitstreams in layer order (fuzz_weights.h;
 * a short input leaves the rest as compiled). tf_model_run must return TF_OK or TF_ERR_CORRUPT,
 * with neither sanitizer reporting anything.
 *
 * Built with TF_FUZZ_SMALL (the `small` harness), the same model is also compiled with every
 * small-RAM kernel (--ram small, names tfs_: tfs_model.c), which decodes weights one token at a time
 * from flash. Both get the same bytes and must agree: the same return code, and on TF_OK the same
 * logits, bit for bit. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The weight arrays are const in flash; here they must be writable. */
#define const
#include "model.c"
#ifdef TF_FUZZ_SMALL
#include "tfs_model.c"
#endif
#undef const
#include "fuzz_weights.h"

static uint8_t original[TF_FUZZ_W_TOTAL];

/* Weight array a, as compiled, then overwritten by what the input holds from `from` on. */
static size_t tf_fuzz_fill(uint8_t *w, uint32_t a, uint32_t at, const uint8_t *data, size_t size, size_t from)
{
    const uint32_t n = tf_fuzz_w_bytes[a];
    memcpy(w, original + at, n);
    if (from < size) {
        const size_t k = size - from < n ? size - from : n;
        memcpy(w, data + from, k);
        from += k;
    }
    return from;
}

static void tf_fuzz_rc(int rc, const char *what)
{
    if (rc != TF_OK && rc != TF_ERR_CORRUPT) {
        fprintf(stderr, "tinyforge fuzz: %s returned %d\n", what, rc);
        abort();
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    uint32_t a, at = 0u;
    (void)argc;
    (void)argv;
    for (a = 0u; a < TF_FUZZ_W_ARRAYS; a++) {
        memcpy(original + at, tf_fuzz_w[a], tf_fuzz_w_bytes[a]);
        at += tf_fuzz_w_bytes[a];
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int8_t input[TF_INPUT_SIZE];
    int8_t logits[TF_NUM_CLASSES];
    uint32_t a, at = 0u;
    size_t from = TF_INPUT_SIZE;
    int rc;
    memset(input, 0, sizeof input);
    memcpy(input, data, size < sizeof input ? size : sizeof input);
    for (a = 0u; a < TF_FUZZ_W_ARRAYS; a++) {
#ifdef TF_FUZZ_SMALL
        (void)tf_fuzz_fill(tf_fuzz_w_small[a], a, at, data, size, from);
#endif
        from = tf_fuzz_fill(tf_fuzz_w[a], a, at, data, size, from);
        at += tf_fuzz_w_bytes[a];
    }
    rc = tf_model_run(input, logits);
    tf_fuzz_rc(rc, "tf_model_run");
#ifdef TF_FUZZ_SMALL
    {
        int8_t small[TFS_NUM_CLASSES];
        const int rcs = tfs_model_run(input, small);
        tf_fuzz_rc(rcs, "tfs_model_run (--ram small)");
        if (rcs != rc) {
            fprintf(stderr, "tinyforge fuzz: fast returned %d, small-RAM %d\n", rc, rcs);
            abort();
        }
        if (rc == TF_OK && memcmp(logits, small, sizeof logits) != 0) {
            fprintf(stderr, "tinyforge fuzz: fast and small-RAM logits differ\n");
            abort();
        }
    }
#endif
    return 0;
}
