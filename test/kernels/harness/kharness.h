/* On-target test harness for generated models (test/kernels): several models linked into one
 * firmware, each model.c compiled in its own translation unit with its public names renamed
 * (see ../target.ts), listed in a registry for kmain.c. */
#ifndef TF_KHARNESS_H
#define TF_KHARNESS_H

#include <stdint.h>

typedef struct {
    int (*run)(const int8_t *input, int8_t *logits);
    int input_size;
    int num_classes;
    int num_layers;
    /* TF_DSP of the model's translation unit: 1 when the Cortex-M4 kernels were compiled. */
    int dsp;
} tfk_model;

extern const tfk_model *const tfk_models[];
extern const int tfk_model_count;

/* Per-layer marks: the instruction counter at TF_LAYER_BEGIN / TF_LAYER_END of layer i. */
#define TFK_MAX_LAYERS 64
extern volatile uint32_t tfk_marks[2 * TFK_MAX_LAYERS];

/* Per-layer CRC-32 of the outputs of the window being run (klayers.h, -DTFK_LAYER_CRC). */
void tfk_layer_crc(int layer, const int8_t *data, uint32_t bytes);

#endif
