/* Two models with different prefixes (har_: pow2, kws_: TFLite int8) in one program, on the host
 * and on QEMU. Checks, each against the host's values in api_data.c (written by apiTwo.test.ts):
 *   static    har_model_run / kws_model_run (the static arenas) give the reference logits;
 *   arena     *_model_run_in on a caller's arena (in its own section when API_ARENA_SECTION is set);
 *   nested    after every layer of an arena run, the layer hook runs the same model on a second
 *             arena and the other model on its static arena, to completion: the outer run, resumed,
 *             and every nested run must still give the reference logits (no shared state);
 *   quant     *_quantize_input equals the host's quantizeWindow (return code and every value);
 *   args      NULL arguments give TF_ERR_ARG.
 * Prints one line per check: TF check <name> <runs> <mismatches> [first mismatch], then exits 0. */
#include <stdio.h>
#include <string.h>

#include "har_model.h"
#include "kws_model.h"
#include "api_data.h"

#ifdef API_ARENA_SECTION
#define API_PLACED __attribute__((section(API_ARENA_SECTION)))
#else
#define API_PLACED
#endif

static har_arena_t har_outer API_PLACED;
static har_arena_t har_inner;
static kws_arena_t kws_outer API_PLACED;
static kws_arena_t kws_inner;

typedef struct {
    const char *name;
    long runs;
    long bad;
    char first[160];
} check;

enum { C_HAR_STATIC, C_HAR_ARENA, C_HAR_NESTED, C_KWS_STATIC, C_KWS_ARENA, C_KWS_NESTED,
       C_HAR_QUANT, C_KWS_QUANT, C_ARGS, C_COUNT };
static check checks[C_COUNT] = {
    { "har_static", 0, 0, "" }, { "har_arena", 0, 0, "" }, { "har_nested", 0, 0, "" },
    { "kws_static", 0, 0, "" }, { "kws_arena", 0, 0, "" }, { "kws_nested", 0, 0, "" },
    { "har_quant", 0, 0, "" },  { "kws_quant", 0, 0, "" },  { "args", 0, 0, "" },
};

static void record(int c, int ok, int window, int index, int got, int want)
{
    checks[c].runs++;
    if (!ok && checks[c].bad++ == 0) {
        sprintf(checks[c].first, " window=%d index=%d got=%d want=%d", window, index, got, want);
    }
}

/* rc and logits of one run against the reference of window w. */
static void compare_logits(int c, int rc, const int8_t *got, const int8_t *want, int k, int w)
{
    int i;
    for (i = 0; i < k && rc == 0; i++) {
        if (got[i] != want[i]) {
            record(c, 0, w, i, got[i], want[i]);
            return;
        }
    }
    record(c, rc == 0, w, -1, rc, 0);
}

static int depth;
static int outer_window;

void api_nested(int model, int layer)
{
    int8_t har_logits[HAR_NUM_CLASSES];
    int8_t kws_logits[KWS_NUM_CLASSES];
    int w;
    if (depth > 0) {
        return;
    }
    depth++;
    if (model == 0) {
        w = (outer_window + 1 + layer) % API_HAR_N;
        compare_logits(C_HAR_NESTED, har_model_run_in(&har_inner, api_har_in + w * HAR_INPUT_SIZE, har_logits),
                       har_logits, api_har_logits + w * HAR_NUM_CLASSES, HAR_NUM_CLASSES, w);
        w = (outer_window + layer) % API_KWS_N;
        compare_logits(C_KWS_NESTED, kws_model_run(api_kws_in + w * KWS_INPUT_SIZE, kws_logits), kws_logits,
                       api_kws_logits + w * KWS_NUM_CLASSES, KWS_NUM_CLASSES, w);
    } else {
        w = (outer_window + 1 + layer) % API_KWS_N;
        compare_logits(C_KWS_NESTED, kws_model_run_in(&kws_inner, api_kws_in + w * KWS_INPUT_SIZE, kws_logits),
                       kws_logits, api_kws_logits + w * KWS_NUM_CLASSES, KWS_NUM_CLASSES, w);
        w = (outer_window + layer) % API_HAR_N;
        compare_logits(C_HAR_NESTED, har_model_run(api_har_in + w * HAR_INPUT_SIZE, har_logits), har_logits,
                       api_har_logits + w * HAR_NUM_CLASSES, HAR_NUM_CLASSES, w);
    }
    depth--;
}

static void run_models(void)
{
    int8_t logits[HAR_NUM_CLASSES > KWS_NUM_CLASSES ? HAR_NUM_CLASSES : KWS_NUM_CLASSES];
    int w;
    for (w = 0; w < API_HAR_N; w++) {
        const int8_t *in = api_har_in + w * HAR_INPUT_SIZE;
        const int8_t *want = api_har_logits + w * HAR_NUM_CLASSES;
        depth = 1; /* no nesting */
        compare_logits(C_HAR_STATIC, har_model_run(in, logits), logits, want, HAR_NUM_CLASSES, w);
        /* Whatever an arena holds before a run does not matter: fill it with a different pattern each time. */
        memset(&har_outer, 0x5a ^ (int)w, sizeof har_outer);
        compare_logits(C_HAR_ARENA, har_model_run_in(&har_outer, in, logits), logits, want, HAR_NUM_CLASSES, w);
        depth = 0;
        outer_window = w;
        compare_logits(C_HAR_NESTED, har_model_run_in(&har_outer, in, logits), logits, want, HAR_NUM_CLASSES, w);
    }
    for (w = 0; w < API_KWS_N; w++) {
        const int8_t *in = api_kws_in + w * KWS_INPUT_SIZE;
        const int8_t *want = api_kws_logits + w * KWS_NUM_CLASSES;
        depth = 1;
        compare_logits(C_KWS_STATIC, kws_model_run(in, logits), logits, want, KWS_NUM_CLASSES, w);
        /* Whatever an arena holds before a run does not matter: fill it with a different pattern each time. */
        memset(&kws_outer, 0x5a ^ (int)w, sizeof kws_outer);
        compare_logits(C_KWS_ARENA, kws_model_run_in(&kws_outer, in, logits), logits, want, KWS_NUM_CLASSES, w);
        depth = 0;
        outer_window = w;
        compare_logits(C_KWS_NESTED, kws_model_run_in(&kws_outer, in, logits), logits, want, KWS_NUM_CLASSES, w);
    }
}

/* One quantizer on n raw windows: return code and values against the host's. */
static void compare_quant(int c, int (*quantize)(const float *, int8_t *), const float *raw, const int8_t *want,
                          const int8_t *want_rc, int n, int size)
{
    static int8_t q[4096];
    int w, i;
    for (w = 0; w < n; w++) {
        const int rc = quantize(raw + w * size, q);
        int ok = rc == want_rc[w];
        if (!ok) {
            record(c, 0, w, -1, rc, want_rc[w]);
            continue;
        }
        for (i = 0; i < size && rc == 0; i++) {
            if (q[i] != want[w * size + i]) {
                record(c, 0, w, i, q[i], want[w * size + i]);
                ok = 0;
                break;
            }
        }
        if (ok) {
            record(c, 1, w, -1, 0, 0);
        }
    }
}

static void check_args(void)
{
    int8_t x[HAR_INPUT_SIZE > KWS_INPUT_SIZE ? HAR_INPUT_SIZE : KWS_INPUT_SIZE] = { 0 };
    int8_t logits[HAR_NUM_CLASSES > KWS_NUM_CLASSES ? HAR_NUM_CLASSES : KWS_NUM_CLASSES];
    const float raw[1] = { 0.0f };
    record(C_ARGS, har_model_run_in(NULL, x, logits) == HAR_ERR_ARG, 0, 0, 0, 0);
    record(C_ARGS, har_model_run_in(&har_inner, NULL, logits) == HAR_ERR_ARG, 0, 1, 0, 0);
    record(C_ARGS, har_model_run_in(&har_inner, x, NULL) == HAR_ERR_ARG, 0, 2, 0, 0);
    record(C_ARGS, kws_model_run_in(NULL, x, logits) == KWS_ERR_ARG, 0, 3, 0, 0);
    record(C_ARGS, har_quantize_input(NULL, x) == HAR_ERR_ARG, 0, 4, 0, 0);
    record(C_ARGS, kws_quantize_input(raw, NULL) == KWS_ERR_ARG, 0, 5, 0, 0);
}

int main(void)
{
    int c;
    run_models();
    compare_quant(C_HAR_QUANT, har_quantize_input, api_har_raw, api_har_q, api_har_qrc, API_HAR_QN, HAR_INPUT_SIZE);
    compare_quant(C_KWS_QUANT, kws_quantize_input, api_kws_raw, api_kws_q, api_kws_qrc, API_KWS_QN, KWS_INPUT_SIZE);
    check_args();
    for (c = 0; c < C_COUNT; c++) {
        printf("TF check %s %ld %ld%s\n", checks[c].name, checks[c].runs, checks[c].bad, checks[c].first);
    }
    printf("TF arena %p %p\n", (void *)&har_outer, (void *)&kws_outer);
    return 0;
}
