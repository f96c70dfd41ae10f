/*
 * tinyforge measurement harness: runs a generated model (model.h) on many input windows and prints
 * per-window results, per-layer instruction counts and stack use in the results protocol
 * (firmware/README.md). Built by src/measure/firmware.ts, read by src/measure/onTarget.ts.
 *
 * Two modes:
 *   file (default)        argv: <windows file> [trace=K]. The file lives on the host (semihosting):
 *                         16-byte header "TFW1", uint32 n, uint32 T, uint32 C (little-endian), then
 *                         n * T * C int8 values, window after window, channels last.
 *   embed (TF_HARNESS_EMBED, tf_windows.h/.c generated): the windows and their labels are in flash;
 *                         the firmware prints the accuracy itself and leaves it in tf_harness_result
 *                         (for a board without a host file system; argv may be empty or trace=K).
 *   self-test (embed + TF_HARNESS_SELFTEST, `tinyforge build --selftest N`): tf_windows.c also holds
 *                         the host reference's logits; every window's logits are compared with them
 *                         and the exit status says whether all were equal (0) or not (TF_EXIT_CHECK).
 * trace=K runs window K only and prints every layer's output (needs the profiling hooks).
 * layers runs every window and prints the CRC-32 of every layer's output (a build with
 *   TF_HARNESS_LAYERS, `tinyforge build --layers`).
 *
 * Lines (fields in decimal unless noted):
 *   TF model <crc32 hex> <layers> <classes> <T> <C> <profile 0|1> <file|embed>
 *   TF windows <n>
 *   TF w <index> <class> <instructions> <logits: 2 hex digits per class, two's complement>
 *   TF trace <layer> <byte offset> <up to 64 bytes as hex>       (trace=K only)
 *   TF lcrc <layer> <CRC-32 of its int8 output, 8 hex digits>    (layers only; before the window's
 *                                                                 TF w line)
 *   TF layer <index> <sum over windows> <min> <max>              (profiling build only)
 *   TF stack inference <bytes>   max over windows of the stack tf_model_run used
 *   TF stack peak <bytes>        the whole firmware's deepest stack since reset
 *   TF accuracy <correct> <n>  and  TF class <c> <correct> <total>   (embed mode only)
 *   TF check <index> <pass|FAIL> <class> <host class>   (self-test: after each window's TF w line)
 *   TF done <n>
 *   TF selftest <PASS|FAIL> <windows equal> <n>   (self-test: the summary, the last line)
 * Exit codes: tf_target.h (corrupt weights -> TF_EXIT_CORRUPT naming window and layer).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tf_target.h"
#include "model.h"

#ifdef TF_HARNESS_EMBED
#include "tf_windows.h"
#if TF_EMBED_T != TF_INPUT_T || TF_EMBED_C != TF_INPUT_C
#error "tf_windows.h was generated for another input shape than model.h"
#endif
#endif

#ifdef TF_HARNESS_SELFTEST
#if !defined(TF_HARNESS_EMBED) || !defined(TF_EMBED_EXPECTED_K)
#error "the self-test needs embed mode and the host's logits in tf_windows.h (tinyforge build --selftest)"
#endif
#if TF_EMBED_EXPECTED_K != TF_NUM_CLASSES
#error "tf_windows.h holds logits of another number of classes than model.h"
#endif
#endif

#ifndef TF_MODEL_CRC
#define TF_MODEL_CRC 0u
#endif

/* GCC 12.2 deletes calls to out-of-line functions whose only effect is writing file-scope statics
 * (see templates/model.c.hbs): such helpers are noipa. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 8
#define TF_H_NOIPA __attribute__((noipa))
#else
#define TF_H_NOIPA
#endif

#define HEADER_BYTES 16u
#define TRACE_CHUNK 64u
/* tf_h_trace: 1 prints every layer's output (trace=K), TRACE_CRC its CRC-32 (layers). A build
 * without TF_HARNESS_LAYERS has only trace=K, so there any tracing is that one. */
#define TRACE_CRC 2
#ifdef TF_HARNESS_LAYERS
#define TRACING_ONE(t) ((t) == 1)
#else
#define TRACING_ONE(t) (t)
#endif

#ifdef TF_HARNESS_PROFILE
uint32_t tf_h_start;
uint32_t tf_h_layer_instr[TF_NUM_LAYERS];
volatile int tf_h_layer = -1;
volatile int tf_h_trace;
static uint64_t layer_sum[TF_NUM_LAYERS];
static uint32_t layer_min[TF_NUM_LAYERS];
static uint32_t layer_max[TF_NUM_LAYERS];
#endif

/* What a debugger can read on a board without a console (embed mode). */
volatile struct {
    uint32_t done;
    uint32_t windows;
    uint32_t correct;
    int32_t status;
} tf_harness_result;

static const char HEX[] = "0123456789abcdef";

/* Decimal digits of v at p; returns the end. (newlib-nano's printf has no 64-bit formats.) */
static char *put_u64(char *p, uint64_t v)
{
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v != 0u);
    while (n > 0) {
        *p++ = tmp[--n];
    }
    return p;
}

static char *put_str(char *p, const char *s)
{
    while (*s != '\0') {
        *p++ = *s++;
    }
    return p;
}

static char *put_hex8(char *p, const int8_t *data, uint32_t bytes)
{
    uint32_t i;
    for (i = 0; i < bytes; i++) {
        const uint8_t b = (uint8_t)data[i];
        *p++ = HEX[b >> 4];
        *p++ = HEX[b & 0xFu];
    }
    return p;
}

/* One line out: the buffer, a newline, a single write (stdout is line buffered). */
static void emit(char *line, char *end)
{
    *end++ = '\n';
    *end = '\0';
    fputs(line, stdout);
}

#ifdef TF_HARNESS_PROFILE
#ifdef TF_HARNESS_LAYERS
/* CRC-32 (IEEE, zlib's) of a layer output, bit by bit: no table in RAM (the `layers` mode's
 * instruction counts include it anyway). Built only with TF_HARNESS_LAYERS (build --layers). */
static uint32_t crc32_of(const int8_t *data, uint32_t bytes)
{
    uint32_t crc = 0xFFFFFFFFu, i;
    int k;
    for (i = 0; i < bytes; i++) {
        crc ^= (uint8_t)data[i];
        for (k = 0; k < 8; k++) {
            crc = (crc & 1u) ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
        }
    }
    return crc ^ 0xFFFFFFFFu;
}

static void layer_crc(int index, const int8_t *data, uint32_t bytes)
{
    char line[48];
    const uint32_t crc = crc32_of(data, bytes);
    int shift;
    char *p = put_str(line, "TF lcrc ");
    p = put_u64(p, (uint64_t)index);
    *p++ = ' ';
    for (shift = 28; shift >= 0; shift -= 4) {
        *p++ = HEX[(crc >> shift) & 0xFu];
    }
    emit(line, p);
}

#endif

void tf_h_output(int index, const int8_t *data, uint32_t bytes)
{
    char line[48 + 2 * TRACE_CHUNK];
    uint32_t off;
#ifdef TF_HARNESS_LAYERS
    if (tf_h_trace == TRACE_CRC) {
        layer_crc(index, data, bytes);
        return;
    }
#endif
    for (off = 0; off < bytes; off += TRACE_CHUNK) {
        const uint32_t n = bytes - off < TRACE_CHUNK ? bytes - off : TRACE_CHUNK;
        char *p = put_str(line, "TF trace ");
        p = put_u64(p, (uint64_t)index);
        *p++ = ' ';
        p = put_u64(p, off);
        *p++ = ' ';
        p = put_hex8(p, data + off, n);
        emit(line, p);
    }
}

TF_H_NOIPA static void layers_reset(void)
{
    int i;
    for (i = 0; i < TF_NUM_LAYERS; i++) {
        layer_sum[i] = 0u;
        layer_min[i] = UINT32_MAX;
        layer_max[i] = 0u;
        tf_h_layer_instr[i] = 0u;
    }
}

TF_H_NOIPA static void layers_add(void)
{
    int i;
    for (i = 0; i < TF_NUM_LAYERS; i++) {
        const uint32_t v = tf_h_layer_instr[i];
        layer_sum[i] += v;
        if (v < layer_min[i]) {
            layer_min[i] = v;
        }
        if (v > layer_max[i]) {
            layer_max[i] = v;
        }
    }
}

static void layers_print(void)
{
    char line[96];
    int i;
    for (i = 0; i < TF_NUM_LAYERS; i++) {
        char *p = put_str(line, "TF layer ");
        p = put_u64(p, (uint64_t)i);
        *p++ = ' ';
        p = put_u64(p, layer_sum[i]);
        *p++ = ' ';
        p = put_u64(p, layer_min[i]);
        *p++ = ' ';
        p = put_u64(p, layer_max[i]);
        emit(line, p);
    }
}
#endif

/* Parses "trace=K"; returns 1 and sets *k, 0 when arg is not a trace option. */
static int parse_trace(const char *arg, uint32_t *k)
{
    uint64_t v = 0;
    const char *p;
    if (strncmp(arg, "trace=", 6) != 0) {
        return 0;
    }
    p = arg + 6;
    if (*p == '\0') {
        tf_fail(TF_EXIT_USAGE, "trace=K needs a window index");
    }
    for (; *p != '\0'; p++) {
        if (*p < '0' || *p > '9' || v > 100000000u) {
            tf_fail(TF_EXIT_USAGE, "trace=K needs a window index");
        }
        v = v * 10u + (uint64_t)(*p - '0');
    }
    *k = (uint32_t)v;
    return 1;
}

static int8_t logits[TF_NUM_CLASSES];
static uint32_t stack_max;

/* Runs one window: instructions between two counter reads, the stack it used, one result line.
 * Returns the predicted class. */
static int run_window(uint32_t index, const int8_t *input)
{
    char line[64 + 2 * TF_NUM_CLASSES];
    char msg[64];
    uint32_t t0, instructions, stack;
    int rc, cls;
    memset(logits, 0x55, sizeof logits); /* a kernel that forgets an output shows up */
    tf_stack_mark();
    t0 = tf_counter_read();
    rc = tf_model_run(input, logits);
    instructions = tf_counter_elapsed(t0, tf_counter_read());
    stack = tf_stack_used_since_mark();
    if (rc != TF_OK) {
        char *p = put_str(msg, rc == TF_ERR_CORRUPT ? "corrupt-weights window=" : "model-error window=");
        p = put_u64(p, index);
        p = put_str(p, " layer=");
#ifdef TF_HARNESS_PROFILE
        if (tf_h_layer >= 0) {
            p = put_u64(p, (uint64_t)tf_h_layer);
        } else {
            p = put_str(p, "-1");
        }
#else
        p = put_str(p, "-1");
#endif
        *p = '\0';
        tf_harness_result.status = rc;
        tf_fail(rc == TF_ERR_CORRUPT ? TF_EXIT_CORRUPT : TF_EXIT_CHECK, msg);
    }
    if (stack > stack_max) {
        stack_max = stack;
    }
#ifdef TF_HARNESS_PROFILE
    layers_add();
#endif
    cls = tf_model_argmax(logits);
    {
        char *p = put_str(line, "TF w ");
        p = put_u64(p, index);
        *p++ = ' ';
        p = put_u64(p, (uint64_t)cls);
        *p++ = ' ';
        p = put_u64(p, instructions);
        *p++ = ' ';
        p = put_hex8(p, logits, TF_NUM_CLASSES);
        emit(line, p);
    }
    return cls;
}

static void print_header(const char *mode)
{
    printf("TF model %08lx %d %d %d %d %d %s\n", (unsigned long)(TF_MODEL_CRC), TF_NUM_LAYERS, TF_NUM_CLASSES,
           TF_INPUT_T, TF_INPUT_C,
#ifdef TF_HARNESS_PROFILE
           1,
#else
           0,
#endif
           mode);
}

static void print_footer(uint32_t done)
{
#ifdef TF_HARNESS_PROFILE
    layers_print();
#endif
    tf_report_stack("inference", stack_max);
    tf_report_stack("peak", tf_stack_peak());
    printf("TF done %lu\n", (unsigned long)done);
}

/* Options after the mode's own arguments: trace=K (returns 1) or layers (returns TRACE_CRC). */
static int parse_options(int argc, char **argv, int first, uint32_t *trace)
{
    int i, tracing = 0;
    for (i = first; i < argc; i++) {
#ifdef TF_HARNESS_LAYERS
        if (strcmp(argv[i], "layers") == 0) {
            tracing = TRACE_CRC;
            continue;
        }
#endif
        if (!parse_trace(argv[i], trace)) {
            tf_fail(TF_EXIT_USAGE, "unknown argument (expected trace=K)");
        }
        tracing = 1;
    }
#ifndef TF_HARNESS_PROFILE
    if (tracing) {
        tf_fail(TF_EXIT_USAGE, "trace=K needs a firmware built with per-layer profiling");
    }
#endif
    return tracing;
}

static void set_trace(int on)
{
#ifdef TF_HARNESS_PROFILE
    tf_h_trace = on;
#else
    (void)on;
#endif
}

#ifdef TF_HARNESS_EMBED

#ifdef TF_HARNESS_SELFTEST
/* The chip's logits of window `index` (in `logits`, from run_window) against the host reference's,
 * byte for byte: one line. Returns 1 when equal. */
static uint32_t check_window(uint32_t index, int cls)
{
    const int8_t *host = &tf_embed_expected[index * (uint32_t)TF_NUM_CLASSES];
    const int equal = memcmp(logits, host, sizeof logits) == 0;
    printf("TF check %lu %s %d %d\n", (unsigned long)index, equal ? "pass" : "FAIL", cls, tf_model_argmax(host));
    return equal ? 1u : 0u;
}
#endif

int main(int argc, char **argv)
{
    uint32_t trace = 0, i, correct = 0;
#ifdef TF_HARNESS_SELFTEST
    uint32_t equal = 0;
#endif
    uint32_t class_total[TF_NUM_CLASSES];
    uint32_t class_correct[TF_NUM_CLASSES];
    const int tracing = parse_options(argc, argv, 1, &trace);
    int c;
#ifdef TF_HARNESS_PROFILE
    layers_reset();
#endif
    print_header("embed");
#ifdef TF_HARNESS_LAYERS
    if (tracing == TRACE_CRC) {
        tf_fail(TF_EXIT_USAGE, "layers needs the windows file mode");
    }
#endif
    if (tracing) {
        if (trace >= (uint32_t)TF_EMBED_N) {
            tf_fail(TF_EXIT_USAGE, "trace=K: no such window");
        }
        printf("TF windows 1\n");
        set_trace(1);
        (void)run_window(trace, &tf_embed_windows[trace * (uint32_t)TF_INPUT_SIZE]);
        set_trace(0);
        print_footer(1u);
        return TF_EXIT_OK;
    }
    for (c = 0; c < TF_NUM_CLASSES; c++) {
        class_total[c] = 0u;
        class_correct[c] = 0u;
    }
    tf_harness_result.windows = TF_EMBED_N;
    printf("TF windows %lu\n", (unsigned long)TF_EMBED_N);
    for (i = 0; i < (uint32_t)TF_EMBED_N; i++) {
        const int label = tf_embed_labels[i];
        const int cls = run_window(i, &tf_embed_windows[i * (uint32_t)TF_INPUT_SIZE]);
#ifdef TF_HARNESS_SELFTEST
        equal += check_window(i, cls);
#endif
        if (label < TF_NUM_CLASSES) {
            class_total[label]++;
            if (cls == label) {
                class_correct[label]++;
                correct++;
            }
        }
        tf_harness_result.correct = correct;
        tf_harness_result.done = i + 1u;
    }
    printf("TF accuracy %lu %lu\n", (unsigned long)correct, (unsigned long)TF_EMBED_N);
    for (c = 0; c < TF_NUM_CLASSES; c++) {
        printf("TF class %d %lu %lu\n", c, (unsigned long)class_correct[c], (unsigned long)class_total[c]);
    }
    print_footer(TF_EMBED_N);
#ifdef TF_HARNESS_SELFTEST
    printf("TF selftest %s %lu %lu\n", equal == (uint32_t)TF_EMBED_N ? "PASS" : "FAIL", (unsigned long)equal,
           (unsigned long)TF_EMBED_N);
    if (equal != (uint32_t)TF_EMBED_N) {
        tf_harness_result.status = TF_EXIT_CHECK;
        return TF_EXIT_CHECK;
    }
#endif
    return TF_EXIT_OK;
}

#else

static uint32_t read_u32le(const uint8_t *b)
{
    return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
}

static int8_t window_buf[TF_INPUT_SIZE];

int main(int argc, char **argv)
{
    uint8_t header[HEADER_BYTES];
    uint32_t n, t, ch, trace = 0, i;
    long size;
    int tracing;
    FILE *f;
    if (argc < 2) {
        tf_fail(TF_EXIT_USAGE, "usage: firmware.elf <windows-file> [trace=K]");
    }
    tracing = parse_options(argc, argv, 2, &trace);
#ifdef TF_HARNESS_PROFILE
    layers_reset();
#endif
    f = fopen(argv[1], "rb");
    if (f == NULL) {
        tf_fail(TF_EXIT_INPUT_OPEN, "cannot open the windows file");
    }
    if (fread(header, 1, HEADER_BYTES, f) != HEADER_BYTES || memcmp(header, "TFW1", 4) != 0) {
        tf_fail(TF_EXIT_INPUT_FORMAT, "windows file: no TFW1 header");
    }
    n = read_u32le(header + 4);
    t = read_u32le(header + 8);
    ch = read_u32le(header + 12);
    if (t != (uint32_t)TF_INPUT_T || ch != (uint32_t)TF_INPUT_C) {
        tf_fail(TF_EXIT_INPUT_FORMAT, "windows file: shape differs from the model's input");
    }
    if (n > (UINT32_MAX - HEADER_BYTES) / (uint32_t)TF_INPUT_SIZE || fseek(f, 0, SEEK_END) != 0 ||
        (size = ftell(f)) < 0 || (uint32_t)size != HEADER_BYTES + n * (uint32_t)TF_INPUT_SIZE) {
        tf_fail(TF_EXIT_INPUT_FORMAT, "windows file: size differs from its header");
    }
    print_header("file");
    if (TRACING_ONE(tracing)) {
        if (trace >= n) {
            tf_fail(TF_EXIT_USAGE, "trace=K: no such window");
        }
        n = 1;
    }
    if (fseek(f, (long)(HEADER_BYTES + trace * (uint32_t)TF_INPUT_SIZE), SEEK_SET) != 0) {
        tf_fail(TF_EXIT_INPUT_FORMAT, "windows file: seek failed");
    }
    printf("TF windows %lu\n", (unsigned long)n);
    tf_harness_result.windows = n;
    set_trace(tracing);
    for (i = 0; i < n; i++) {
        if (fread(window_buf, 1, TF_INPUT_SIZE, f) != (size_t)TF_INPUT_SIZE) {
            tf_fail(TF_EXIT_INPUT_FORMAT, "windows file: read failed");
        }
        (void)run_window(TRACING_ONE(tracing) ? trace : i, window_buf);
        tf_harness_result.done = i + 1u;
    }
    set_trace(0);
    fclose(f);
    print_footer(n);
    return TF_EXIT_OK;
}

#endif
