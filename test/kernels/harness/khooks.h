/* TF_LAYER_BEGIN / TF_LAYER_END for the on-target harness: store the instruction counter
 * (a few instructions each; per-layer figures are the differences, see kmain.c). */
#ifndef TF_KHOOKS_H
#define TF_KHOOKS_H

#include "kharness.h"
#include "tf_target.h"

#define TF_LAYER_BEGIN(i, name) (tfk_marks[2 * (i)] = tf_counter_read())
#define TF_LAYER_END(i, name) (tfk_marks[2 * (i) + 1] = tf_counter_read())

#endif
