/* Test harness for generated models: many models linked into one executable (each model.c is
 * compiled in its own translation unit with its public names renamed, see cbuild.ts). */
#ifndef TF_TEST_HARNESS_H
#define TF_TEST_HARNESS_H

#include <stdint.h>

typedef struct {
    int (*run)(const int8_t *input, int8_t *logits);
    int (*predict)(const int8_t *input, int8_t *logits);
    int (*argmax)(const int8_t *logits);
    int input_size;
    int num_classes;
    int err_arg;
} tf_test_model;

extern const tf_test_model *const tf_test_models[];
extern const int tf_test_model_count;

#endif
