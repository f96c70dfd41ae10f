/* tinyforge target API (tf_target.h): instruction counter and results protocol. */
#include "tf_target.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

extern char __stack_bottom[];
extern char __stack_top[];

int tf_counter_available(void) {
#if defined(TF_COUNTER_BASE) || defined(TF_COUNTER_SYSTICK) || defined(TF_COUNTER_DWT)
  return 1;
#else
  return 0;
#endif
}

void tf_counter_init(void) {
#ifdef TF_COUNTER_BASE
  /* STM32 general-purpose timer, free running: stop, prescaler 0, auto-reload at the maximum,
     update event to load the prescaler, start. QEMU needs no RCC clock enable for it. */
  volatile uint32_t *tim = (volatile uint32_t *)(uintptr_t)(TF_COUNTER_BASE);
  tim[0x00 / 4] = 0u;          /* CR1 */
  tim[0x28 / 4] = 0u;          /* PSC */
  tim[0x2C / 4] = 0xFFFFFFFFu; /* ARR */
  tim[0x14 / 4] = 1u;          /* EGR: UG */
  tim[0x00 / 4] = 1u;          /* CR1: CEN */
#elif defined(TF_COUNTER_SYSTICK)
  /* SysTick free running over its whole 24 bits at the core clock, no interrupt. */
  *(volatile uint32_t *)0xE000E014u = 0x00FFFFFFu; /* RVR */
  *(volatile uint32_t *)0xE000E018u = 0u;          /* CVR: reload now */
  *(volatile uint32_t *)0xE000E010u = 5u;          /* CSR: ENABLE | CLKSOURCE (core clock) */
#elif defined(TF_COUNTER_DWT)
  /* DWT cycle counter: trace enable (DEMCR.TRCENA), counter to 0, DWT_CTRL.CYCCNTENA. */
  *(volatile uint32_t *)0xE000EDFCu |= 1u << 24;
  *(volatile uint32_t *)0xE0001004u = 0u;
  *(volatile uint32_t *)0xE0001000u |= 1u;
#endif
}

uint32_t tf_stack_size(void) { return (uint32_t)(__stack_top - __stack_bottom); }

void tf_report_instr(const char *label, uint32_t instructions) {
  printf("TF instr %s %" PRIu32 "\n", label, instructions);
}

void tf_report_stack(const char *label, uint32_t bytes) {
  printf("TF stack %s %" PRIu32 "\n", label, bytes);
}

void tf_fail(int code, const char *message) {
  printf("TF error %d %s\n", code, message);
  exit(code);
}
