/* On-target harness: runs every linked model on the windows in in<m>.bin (host files, read through
 * semihosting; int8 windows back to back) and prints, per window,
 *     TF out <model> <window> <rc> <logits as two hex digits each>
 * and, for the first window of each model, whether its kernels are the DSP ones, and the
 * instructions of tf_model_run and of each layer:
 *     TF dsp <model> <0|1>
 *     TF instr m<model> <n>
 *     TF layer <model> <index> <n>
 * With -DTFK_HOOKS the model is built with the per-layer hooks (khooks.h); the total then includes
 * the hooks' own instructions, so measure totals without them. With -DTFK_LAYER_CRC (klayers.h)
 * every window also prints the CRC-32 (zlib's) of each layer's output:
 *     TF lcrc <model> <window> <layer> <crc, 8 hex digits>
 * The same file runs on the host with harness/host/tf_target.h. */
#include <stdio.h>
#include <stdlib.h>

#include "kharness.h"
#include "tf_target.h"

volatile uint32_t tfk_marks[2 * TFK_MAX_LAYERS];

static int8_t window[4096];

static uint32_t layer_crcs[TFK_MAX_LAYERS];

void tfk_layer_crc(int layer, const int8_t *data, uint32_t bytes)
{
    uint32_t crc = 0xFFFFFFFFu, i;
    int k;
    for (i = 0; i < bytes; i++) {
        crc ^= (uint8_t)data[i];
        for (k = 0; k < 8; k++) {
            crc = (crc & 1u) ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
        }
    }
    if (layer >= 0 && layer < TFK_MAX_LAYERS) {
        layer_crcs[layer] = crc ^ 0xFFFFFFFFu;
    }
}

int main(int argc, char **argv)
{
    int m;
    (void)argc;
    (void)argv;
    for (m = 0; m < tfk_model_count; m++) {
        const tfk_model *tm = tfk_models[m];
        char path[32];
        FILE *f;
        int w = 0;
        static int8_t logits[4096]; /* the int8 fixtures end with whole tensors (7x7x6) */
        if (tm->input_size > (int)sizeof window || tm->num_classes > (int)sizeof logits) {
            tf_fail(TF_EXIT_CHECK, "model-too-large-for-harness");
        }
        sprintf(path, "in%d.bin", m);
        f = fopen(path, "rb");
        if (f == NULL) {
            tf_fail(TF_EXIT_INPUT_OPEN, path);
        }
        while (fread(window, 1, (size_t)tm->input_size, f) == (size_t)tm->input_size) {
            uint32_t t0, n;
            int rc, j;
            for (j = 0; j < tm->num_classes; j++) {
                logits[j] = 0x55; /* a kernel that forgets an output shows up */
            }
            t0 = tf_counter_read();
            rc = tm->run(window, logits);
            n = tf_counter_elapsed(t0, tf_counter_read());
            printf("TF out %d %d %d ", m, w, rc);
            for (j = 0; j < tm->num_classes; j++) {
                printf("%02x", (unsigned)(uint8_t)logits[j]);
            }
            printf("\n");
#ifdef TFK_LAYER_CRC
            for (j = 0; j < tm->num_layers && j < TFK_MAX_LAYERS; j++) {
                printf("TF lcrc %d %d %d %08lx\n", m, w, j, (unsigned long)layer_crcs[j]);
            }
#endif
            if (w == 0) {
                printf("TF dsp %d %d\n", m, tm->dsp);
                printf("TF instr m%d %lu\n", m, (unsigned long)n);
                for (j = 0; j < tm->num_layers && j < TFK_MAX_LAYERS; j++) {
                    printf("TF layer %d %d %lu\n", m, j,
                           (unsigned long)tf_counter_elapsed(tfk_marks[2 * j], tfk_marks[2 * j + 1]));
                }
            }
            w++;
        }
        fclose(f);
    }
    return TF_EXIT_OK;
}
