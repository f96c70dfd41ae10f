/*
 * tinyforge target API: instruction counting, stack measurement, the results protocol and exit
 * codes. Firmware built by tinyforge (src/crossbuild/compile.ts) links firmware/src/ with the program;
 * the runtime calls main(argc, argv) with stdio already connected to the host: through semihosting
 * (the default), or with TF_IO_UART (--io uart) to the board's console USART.
 * See firmware/README.md for the protocol. This header is also included by startup.S.
 */
#ifndef TF_TARGET_H
#define TF_TARGET_H

/* Word written over the whole stack region at reset (and below SP by tf_stack_mark). */
#define TF_STACK_PAINT 0xC5A5C5A5

/* Exit codes of tinyforge firmware (QEMU exits with the same status). Keep src/qemu/tfLines.ts in
 * step: a test compares the two. */
#define TF_EXIT_OK 0           /* finished, results printed */
#define TF_EXIT_FAILURE 1      /* unspecified failure (also abort(), assert(), QEMU's own errors) */
#define TF_EXIT_USAGE 2        /* wrong command line (semihosting arguments) */
#define TF_EXIT_INPUT_OPEN 3   /* an input file cannot be opened on the host */
#define TF_EXIT_INPUT_FORMAT 4 /* an input file has the wrong size or header, or a read failed */
#define TF_EXIT_CORRUPT 5      /* model data failed its integrity check (e.g. a Huffman stream) */
#define TF_EXIT_CHECK 6        /* a self-check on the target failed */
#define TF_EXIT_STACK 7        /* the stack used its whole reserved region (overflow) */
#define TF_EXIT_FAULT 8        /* the CPU took an unexpected exception (HardFault, ...) */

#ifndef __ASSEMBLER__
#include <stdint.h>

/* ---- Instruction counter ------------------------------------------------------------------
 * Under `qemu -icount shift=0` an STM32 general-purpose timer (TIM2 on netduinoplus2), free
 * running with prescaler 0, advances exactly once per executed instruction. The runtime starts it
 * before main. Measure a region with
 *     uint32_t t0 = tf_counter_read();
 *     work();
 *     uint32_t n = tf_counter_elapsed(t0, tf_counter_read());
 * n counts the instructions executed between the two reads (the first read itself excluded),
 * including the call of work(); unsigned arithmetic absorbs one wrap (2^32 instructions).
 * TF_COUNTER_BASE is defined by the build from the board file; without it the counter reads 0
 * and tf_counter_available() returns 0. */
#if defined(TF_COUNTER_BASE)
#define TF_COUNTER_CNT (*(volatile uint32_t *)((uintptr_t)(TF_COUNTER_BASE) + 0x24u))
static inline uint32_t tf_counter_read(void) { return TF_COUNTER_CNT; }
static inline uint32_t tf_counter_elapsed(uint32_t start, uint32_t end) { return end - start - 1u; }
#elif defined(TF_COUNTER_SYSTICK)
/* Boards without such a timer (QEMU's MPS2 machines, the micro:bit) count with the core's SysTick: a
 * 24-bit down counter at the core clock, TF_COUNTER_SYSTICK instructions per tick under -icount
 * shift=0 (TF_COUNTER_SYSTICK / TF_COUNTER_SYSTICK_DEN where the clock makes it a fraction: 125 / 4
 * at 32 MHz). The read is turned into an up count; elapsed ticks wrap at 2^24 (671 million
 * instructions at 40 per tick) and are reported in instructions, to one tick. */
#define TF_SYST_CVR (*(volatile uint32_t *)0xE000E018u)
static inline uint32_t tf_counter_read(void) { return 0x00FFFFFFu - (TF_SYST_CVR & 0x00FFFFFFu); }
#if defined(TF_COUNTER_SYSTICK_DEN)
static inline uint32_t tf_counter_elapsed(uint32_t start, uint32_t end)
{
  return (uint32_t)(((uint64_t)((end - start) & 0x00FFFFFFu) * (TF_COUNTER_SYSTICK)) /
                    (TF_COUNTER_SYSTICK_DEN));
}
#else
static inline uint32_t tf_counter_elapsed(uint32_t start, uint32_t end)
{
  return ((end - start) & 0x00FFFFFFu) * (TF_COUNTER_SYSTICK);
}
#endif
#elif defined(TF_COUNTER_DWT)
/* Real boards: the DWT cycle counter (CYCCNT), 32 bits at the core clock. It counts CORE CYCLES,
 * not instructions (wait states and stalls included); n is the cycles between the two reads. */
#define TF_DWT_CYCCNT (*(volatile uint32_t *)0xE0001004u)
static inline uint32_t tf_counter_read(void) { return TF_DWT_CYCCNT; }
static inline uint32_t tf_counter_elapsed(uint32_t start, uint32_t end) { return end - start; }
#else
static inline uint32_t tf_counter_read(void) { return 0u; }
static inline uint32_t tf_counter_elapsed(uint32_t start, uint32_t end) { return end - start - 1u; }
#endif
int tf_counter_available(void);
void tf_counter_init(void); /* called by the runtime before main; restarting from 0 is harmless */

/* ---- Stack measurement ----------------------------------------------------------------------
 * The reset handler paints the heap and stack regions with TF_STACK_PAINT; scans start above the
 * used heap, so a stack that outgrew its region measures larger than tf_stack_size() (and the
 * runtime then exits with TF_EXIT_STACK). */
uint32_t tf_stack_size(void); /* bytes reserved for the stack (board file: stackSize) */
uint32_t tf_stack_peak(void); /* deepest use since reset: bytes from the top of the stack down
                                 to the lowest word that no longer holds the paint */
/* Measure one region: tf_stack_mark() repaints everything below the current SP and remembers SP;
 * tf_stack_used_since_mark() returns the bytes below that SP written since (0 if none). Call both
 * from the same function, around the call to measure. */
void tf_stack_mark(void);
uint32_t tf_stack_used_since_mark(void);

/* ---- Results protocol -----------------------------------------------------------------------
 * Result lines on stdout: "TF <key> <field> <field>...\n", key in [a-z0-9_], fields without
 * spaces, integers in decimal (src/qemu/tfLines.ts parses them). */
void tf_report_instr(const char *label, uint32_t instructions); /* TF instr <label> <n> */
void tf_report_stack(const char *label, uint32_t bytes);        /* TF stack <label> <bytes> */
/* Prints "TF error <code> <message>" and exits with code (never returns). */
void tf_fail(int code, const char *message) __attribute__((noreturn));

/* The exit line, uart console only (TF_IO_UART): the runtime's _exit prints "TF exit <code>\n"
 * (code in signed decimal, on a line of its own) as the firmware's last output and stops the CPU.
 * It stands for semihosting's exit status: the host runner stops QEMU when it reads it and reports
 * code as the exit status (code & 0xff, as a host process's status). Programs never print it. */
#define TF_EXIT_LINE_PREFIX "TF exit "

/* ---- Command line ---------------------------------------------------------------------------
 * main(argc, argv) receives the semihosting command line: argv[0] is the ELF's name, then the
 * runner's args (runOnQemu({ args })). Limits: TF_CMDLINE_MAX bytes, TF_ARGV_MAX arguments.
 * uart console (TF_IO_UART): no command line, main(1, {"firmware", NULL}). */
#define TF_CMDLINE_MAX 1024
#define TF_ARGV_MAX 16

#endif /* __ASSEMBLER__ */
#endif /* TF_TARGET_H */
