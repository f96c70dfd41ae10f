/*
 * Per-layer hooks of the tinyforge measurement harness (harness.c). The build compiles model.c with
 * -DTF_HOOKS_HEADER='"tf_harness_hooks.h"' when per-layer profiling is on; model.h reads this file
 * before it defines anything, so the arrays are declared without a size here and defined (with
 * TF_NUM_LAYERS entries) in harness.c.
 *
 * Cost inside tf_model_run: two counter reads and one 32-bit add per layer, plus a flag test for
 * the trace. Each layer's count is the instructions between its BEGIN and END reads: the call of
 * the layer's kernel, its status return included.
 */
#ifndef TF_HARNESS_HOOKS_H
#define TF_HARNESS_HOOKS_H

#include <stdint.h>

#include "tf_target.h"

#define TF_HARNESS_PROFILE 1

extern uint32_t tf_h_start;
/* Instructions of each layer in the current inference (the harness sums them over windows). */
extern uint32_t tf_h_layer_instr[];
/* Index of the last layer that began: names the layer whose weights are corrupt. */
extern volatile int tf_h_layer;
/* Non-zero while the trace window runs: every layer's output is printed. */
extern volatile int tf_h_trace;
void tf_h_output(int index, const int8_t *data, uint32_t bytes);

#define TF_LAYER_BEGIN(i, name) (tf_h_layer = (i), tf_h_start = tf_counter_read())
#define TF_LAYER_END(i, name) \
    (tf_h_layer_instr[(i)] = tf_counter_elapsed(tf_h_start, tf_counter_read()))
#define TF_LAYER_OUTPUT(i, name, ptr, bytes) \
    (tf_h_trace ? tf_h_output((i), (ptr), (uint32_t)(bytes)) : (void)0)

#endif /* TF_HARNESS_HOOKS_H */
