/* Per-layer hooks for the API test: record each TF_LAYER_BEGIN / TF_LAYER_END with its index and name. */
#ifndef TF_TEST_HOOKS_H
#define TF_TEST_HOOKS_H

void tf_test_hook(char what, int index, const char *name);

#define TF_LAYER_BEGIN(i, name) tf_test_hook('B', (i), (name))
#define TF_LAYER_END(i, name) tf_test_hook('E', (i), (name))

#endif
