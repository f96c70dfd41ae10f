/* Prints the constants of model.h and the hook sequence of one tf_model_run, one item a line,
 * for api.test.ts to compare with the model and its memory plan. */
#include <stdio.h>

#include "model.h"

void tf_test_hook(char what, int index, const char *name)
{
    printf("hook %c %d %s\n", what, index, name);
}

int main(void)
{
    static const char *const names[TF_NUM_CLASSES] = TF_CLASS_NAMES;
    static const float mean[TF_INPUT_C] = TF_INPUT_MEAN;
    static const float std[TF_INPUT_C] = TF_INPUT_STD;
    int8_t input[TF_INPUT_SIZE] = { 0 };
    int8_t logits[TF_NUM_CLASSES];
    int i;
    printf("TF_INPUT_T %d\nTF_INPUT_C %d\nTF_INPUT_SIZE %d\nTF_INPUT_FRAC %d\n", TF_INPUT_T, TF_INPUT_C,
           TF_INPUT_SIZE, TF_INPUT_FRAC);
    printf("TF_NUM_CLASSES %d\nTF_NUM_LAYERS %d\n", TF_NUM_CLASSES, TF_NUM_LAYERS);
    printf("TF_ARENA_BYTES %d\nTF_SCRATCH_BYTES %d\nTF_WEIGHT_BYTES %d\nTF_TABLE_BYTES %d\n", TF_ARENA_BYTES,
           TF_SCRATCH_BYTES, TF_WEIGHT_BYTES, TF_TABLE_BYTES);
    printf("TF_OK %d\nTF_ERR_CORRUPT %d\nTF_ERR_ARG %d\n", TF_OK, TF_ERR_CORRUPT, TF_ERR_ARG);
    for (i = 0; i < TF_NUM_CLASSES; i++) {
        printf("class %s\n", names[i]);
    }
    for (i = 0; i < TF_INPUT_C; i++) {
        printf("norm %.9g %.9g\n", (double)mean[i], (double)std[i]);
    }
    printf("run %d\n", tf_model_run(input, logits));
    return 0;
}
