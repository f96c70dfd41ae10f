/*
 * C runtime glue for tinyforge firmware linked with -nostartfiles and newlib's nano + rdimon
 * (semihosting) libraries: entry from the reset handler, the command line, a heap bounded by the
 * reserved region, the stack overflow check at exit, and the report of unexpected exceptions.
 * With TF_IO_UART (--io uart) there is no semihosting at all: stdio and the exit status go to the
 * board's USART (tf_console_uart.c, linked with nosys instead of rdimon) and main gets no command
 * line beyond argv[0].
 */
#include "tf_target.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

extern int main(int argc, char **argv);
#ifdef TF_IO_UART
extern void tf_console_init(void);
extern void tf_console_write(const char *data, uint32_t length);
extern void tf_console_exit(int code) __attribute__((noreturn));
#else
extern void initialise_monitor_handles(void);
#endif
extern void __libc_init_array(void);
void tf_crt_main(void) __attribute__((noreturn));
void tf_fault_report(const uint32_t *frame) __attribute__((noreturn));
void *_sbrk(ptrdiff_t increment);
void _init(void);
void _fini(void);

extern char __heap_start[];
extern char __heap_end[];

/* newlib's __libc_init_array/__libc_fini_array call these; crti/crtn are not linked. */
void _init(void) {}
void _fini(void) {}

#ifndef TF_IO_UART
/* Semihosting call (Arm semihosting spec): operation in r0, argument block in r1. */
static int semihost(int op, void *arg) {
  register int r0 __asm__("r0") = op;
  register void *r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

#define SYS_OPEN 0x01
#define SYS_WRITE 0x05
#define SYS_GET_CMDLINE 0x15
#define SYS_EXIT_EXTENDED 0x20
#define ADP_STOPPED_APPLICATION_EXIT 0x20026
#endif

/* Replaces rdimon's weak _sbrk (which grows towards SP): the heap is the fixed region the linker
   script reserves, so the stack region below SP stays painted and RAM use shows in the map. */
char *tf_heap_brk; /* read by tf_stack.S: stack scans start above the used heap */

#ifdef TF_IO_UART
/* --io uart reserves no heap region (the linker script's .heap is 0 bytes). newlib-nano (built with
   small reentrancy structures) still mallocs once: the FILE glue of stdin/stdout/stderr, at the
   first stdio call. That one allocation comes from this fixed pool in .bss (shown in the map);
   stdout's buffer is static too (see tf_crt_main). A model never allocates: any further malloc
   fails with ENOMEM. tf_heap_brk stays NULL: stack scans start at the empty heap region. */
#define TF_STDIO_POOL_BYTES 512u
static char stdio_pool[TF_STDIO_POOL_BYTES] __attribute__((aligned(8)));
static char *stdio_brk = stdio_pool;
static char stdout_buffer[128];

void *_sbrk(ptrdiff_t increment) {
  if (increment > stdio_pool + sizeof stdio_pool - stdio_brk || increment < stdio_pool - stdio_brk) {
    errno = ENOMEM;
    return (void *)-1;
  }
  char *previous = stdio_brk;
  stdio_brk += increment;
  return previous;
}
#else
void *_sbrk(ptrdiff_t increment) {
  if (tf_heap_brk == NULL) tf_heap_brk = __heap_start;
  if (increment > __heap_end - tf_heap_brk || increment < __heap_start - tf_heap_brk) {
    errno = ENOMEM;
    return (void *)-1;
  }
  char *previous = tf_heap_brk;
  tf_heap_brk += increment;
  return previous;
}
#endif

/* At exit: a stack deeper than its reserved region has overwritten part of the heap region. */
static void check_stack(void) {
  if (tf_stack_peak() > tf_stack_size()) {
    printf("TF error %d stack-overflow\n", TF_EXIT_STACK);
    fflush(stdout);
    _exit(TF_EXIT_STACK); /* not exit(): this runs inside exit() */
  }
}

#ifndef TF_IO_UART
static char cmdline[TF_CMDLINE_MAX];
#endif
static char *argv_buf[TF_ARGV_MAX + 1];

#ifdef TF_IO_UART
/* No host to ask: argv[0] only, the name semihosting runs also start with. */
static char program_name[] = "firmware";

static int split_cmdline(void) {
  argv_buf[0] = program_name;
  argv_buf[1] = NULL;
  return 1;
}
#else
static int split_cmdline(void) {
  struct {
    char *buf;
    int len;
  } block = {cmdline, (int)sizeof cmdline};
  if (semihost(SYS_GET_CMDLINE, &block) != 0) return 0;
  int argc = 0;
  char *p = cmdline;
  char *end = cmdline + (block.len < (int)sizeof cmdline ? block.len : (int)sizeof cmdline - 1);
  *end = '\0';
  while (p < end && argc < TF_ARGV_MAX) {
    while (p < end && *p == ' ') *p++ = '\0';
    if (p == end) break;
    argv_buf[argc++] = p;
    while (p < end && *p != ' ') p++;
  }
  while (p < end) {
    if (*p == ' ') *p = '\0';
    p++;
  }
  argv_buf[argc] = NULL;
  return argc;
}
#endif

void tf_crt_main(void) {
#ifdef TF_IO_UART
  tf_console_init();
  /* Line buffered as before, in a static buffer: no malloc (a longer line is written in parts). */
  setvbuf(stdout, stdout_buffer, _IOLBF, sizeof stdout_buffer);
#else
  initialise_monitor_handles();
#endif
  tf_counter_init();
  atexit(check_stack);
  __libc_init_array();
  int argc = split_cmdline();
  exit(main(argc, argv_buf));
}

/* ---- Unexpected exceptions: one protocol line, then exit TF_EXIT_FAULT ---------------------
   Uses semihosting (or the USART) directly, not stdio: the fault may have happened inside stdio.
   Any partial line still in stdout's buffer is lost; complete lines were flushed already (line
   buffering). */
static char *put_str(char *p, const char *s) {
  while (*s) *p++ = *s++;
  return p;
}

static char *put_hex(char *p, uint32_t v) {
  p = put_str(p, "0x");
  for (int shift = 28; shift >= 0; shift -= 4) *p++ = "0123456789abcdef"[(v >> shift) & 0xFu];
  return p;
}

static const char *exception_name(uint32_t n) {
  switch (n) {
    case 2: return "nmi";
    case 3: return "hardfault";
    case 4: return "memmanage";
    case 5: return "busfault";
    case 6: return "usagefault";
    case 11: return "svc";
    case 12: return "debugmon";
    case 14: return "pendsv";
    case 15: return "systick";
    default: return "irq";
  }
}

void tf_fault_report(const uint32_t *frame) {
  uint32_t ipsr;
  __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
#if defined(__ARM_ARCH_6M__)
  const uint32_t cfsr = 0u; /* ARMv6-M (Cortex-M0) has no fault status registers: reported as 0 */
#else
  const uint32_t cfsr = *(volatile const uint32_t *)0xE000ED28u;
#endif
  char line[96];
  char *p = put_str(line, "\nTF error ");
  *p++ = (char)('0' + TF_EXIT_FAULT); /* a single digit */
  p = put_str(p, " fault ");
  p = put_str(p, exception_name(ipsr & 0x1FFu));
  p = put_str(p, " pc=");
  p = put_hex(p, frame[6]);
  p = put_str(p, " cfsr=");
  p = put_hex(p, cfsr);
  p = put_str(p, "\n");
#ifdef TF_IO_UART
  tf_console_write(line, (uint32_t)(p - line));
  tf_console_exit(TF_EXIT_FAULT);
#else
  /* stdout is the console ":tt" opened for writing (mode 4, "w"), as newlib does for stdout */
  struct {
    const char *name;
    uint32_t mode;
    uint32_t length;
  } open_block = {":tt", 4u, 3u};
  const int console = semihost(SYS_OPEN, &open_block);
  struct {
    int handle;
    const char *buffer;
    uint32_t length;
  } write_block = {console, line, (uint32_t)(p - line)};
  if (console >= 0) semihost(SYS_WRITE, &write_block);
  struct {
    uint32_t reason;
    uint32_t code;
  } stop = {ADP_STOPPED_APPLICATION_EXIT, TF_EXIT_FAULT};
  semihost(SYS_EXIT_EXTENDED, &stop);
  for (;;) {
  }
#endif
}
