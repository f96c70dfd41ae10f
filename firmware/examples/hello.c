/* The smallest tinyforge firmware: prints through semihosting, measures a loop's instructions and
 * a function's stack, and exits 0. Built and run by `make demo` / `tinyforge doctor --smoke`. */
#include <stdint.h>
#include <stdio.h>

#include "tf_target.h"

/* Sum of 0..n-1 with a data dependency the compiler must keep. */
static uint32_t __attribute__((noinline)) sum_below(volatile uint32_t *n) {
  uint32_t s = 0;
  for (uint32_t i = 0; i < *n; i++) s += i;
  return s;
}

/* Writes a local buffer of 256 bytes: its stack use is at least that. */
static uint32_t __attribute__((noinline)) fill_local(uint32_t seed) {
  volatile uint8_t buf[256];
  for (uint32_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)(seed + i);
  uint32_t s = 0;
  for (uint32_t i = 0; i < sizeof buf; i++) s += buf[i];
  return s;
}

int main(void) {
  printf("hello from %s\n", TF_BOARD);

  volatile uint32_t n = 1000;
  const uint32_t t0 = tf_counter_read();
  const uint32_t sum = sum_below(&n);
  const uint32_t instructions = tf_counter_elapsed(t0, tf_counter_read());
  printf("sum of 0..%lu = %lu\n", (unsigned long)(n - 1u), (unsigned long)sum);
  if (sum != 499500u) tf_fail(TF_EXIT_CHECK, "wrong-sum");
  if (tf_counter_available()) tf_report_instr("sum_below_1000", instructions);

  tf_stack_mark();
  const uint32_t s = fill_local(7u);
  const uint32_t stack = tf_stack_used_since_mark();
  printf("checksum %lu\n", (unsigned long)s);
  tf_report_stack("fill_local", stack);
  tf_report_stack("peak", tf_stack_peak());
  return TF_EXIT_OK;
}
