/* The few target facilities kmain.c uses, for running the kernel harness on the host (no counter:
 * instruction figures read 0 there). */
#ifndef TF_TARGET_H
#define TF_TARGET_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define TF_EXIT_OK 0
#define TF_EXIT_INPUT_OPEN 3
#define TF_EXIT_CHECK 6

static inline uint32_t tf_counter_read(void) { return 0u; }
static inline uint32_t tf_counter_elapsed(uint32_t start, uint32_t end) { return end - start; }
static inline void tf_fail(int code, const char *why)
{
    fprintf(stderr, "TF fail %d %s\n", code, why);
    exit(code);
}

#endif
