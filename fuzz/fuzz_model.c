/* libFuzzer harness: a whole generated model (packed, huffman and rle-huffman layers) whose weight
 * bitstreams the fuzzer overwrites, as corrupt flash would. Input: the int8 input window
 * (TF_INPUT_SIZE bytes), then bytes that replace the coded bitstreams in layer order (fuzz_weights.h;
 * a short input leaves the rest as compiled). tf_model_run must return TF_OK or TF_ERR_CORRUPT,
 * with neither sanitizer reporting anything. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The weight arrays are const in flash; here they must be writable. */
#define const
#include "model.c"
#undef const
#include "fuzz_weights.h"

static uint8_t original[TF_FUZZ_W_TOTAL];

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
        const uint32_t n = tf_fuzz_w_bytes[a];
        memcpy(tf_fuzz_w[a], original + at, n);
        if (from < size) {
            const size_t k = size - from < n ? size - from : n;
            memcpy(tf_fuzz_w[a], data + from, k);
            from += k;
        }
        at += n;
    }
    rc = tf_model_run(input, logits);
    if (rc != TF_OK && rc != TF_ERR_CORRUPT) {
        fprintf(stderr, "tinyforge fuzz: tf_model_run returned %d\n", rc);
        abort();
    }
    return 0;
}
