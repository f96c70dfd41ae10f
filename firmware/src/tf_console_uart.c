/*
 * Console on the board's USART, for firmware built with --io uart (TF_IO_UART): the system calls
 * newlib-nano's stdio needs, without semihosting, so the firmware runs on a board with no debugger
 * attached. stdout and stderr both go to the USART (transmit only); stdin reads end of file; there
 * are no files. _exit prints the exit line "TF exit <code>" (tf_target.h) and stops the CPU: the
 * host runner (src/qemu/runner.ts) reads it as the exit status.
 *
 * src/crossbuild/compile.ts defines, from the board file's "console" entry:
 *   TF_CONSOLE_BASE   the USART's register block (STM32: SR +0x00, DR +0x04, BRR +0x08, CR1 +0x0C)
 *   TF_CONSOLE_BRR    the baud rate divisor for the peripheral clock the runtime leaves running
 *   TF_CONSOLE_SETUP  optional {register, bits}, ... set before the USART is enabled (clock enable)
 */
#include "tf_target.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#if !defined(TF_IO_UART) || !defined(TF_CONSOLE_BASE) || !defined(TF_CONSOLE_BRR)
#error "the --io uart console needs TF_IO_UART, TF_CONSOLE_BASE and TF_CONSOLE_BRR"
#endif

void tf_console_init(void);
void tf_console_write(const char *data, uint32_t length);
void tf_console_exit(int code) __attribute__((noreturn));

int _write(int fd, const char *data, int length);
int _read(int fd, char *data, int length);
int _close(int fd);
int _fstat(int fd, struct stat *st);
int _isatty(int fd);
int _lseek(int fd, int offset, int whence);
int _kill(int pid, int sig);
int _getpid(void);
void _exit(int code) __attribute__((noreturn));

#define USART_REG(offset) (*(volatile uint32_t *)((uintptr_t)(TF_CONSOLE_BASE) + (offset)))
#define USART_SR USART_REG(0x00u)
#define USART_DR USART_REG(0x04u)
#define USART_BRR USART_REG(0x08u)
#define USART_CR1 USART_REG(0x0Cu)
#define USART_CR2 USART_REG(0x10u)
#define USART_CR3 USART_REG(0x14u)
#define USART_SR_TXE (1u << 7)
#define USART_CR1_UE (1u << 13)
#define USART_CR1_TE (1u << 3)

/* One byte takes about 10 bit times; at 9600 baud and 168 MHz that is some 175,000 cycles. A USART
   that never reports an empty transmit register (no clock) loses the byte instead of hanging the
   firmware, which still finishes and leaves its results in RAM (tf_harness_result). */
#define TXE_POLLS 1000000u

static int at_line_start = 1;

void tf_console_init(void) {
#ifdef TF_CONSOLE_SETUP
  static const struct {
    uint32_t reg;
    uint32_t bits;
  } setup[] = {TF_CONSOLE_SETUP};
  for (uint32_t i = 0; i < sizeof setup / sizeof setup[0]; i++) {
    *(volatile uint32_t *)(uintptr_t)setup[i].reg |= setup[i].bits;
  }
#endif
  USART_CR1 = 0u; /* 8 data bits, no parity, 16x oversampling */
  USART_CR2 = 0u; /* 1 stop bit */
  USART_CR3 = 0u;
  USART_BRR = TF_CONSOLE_BRR;
  USART_CR1 = USART_CR1_UE | USART_CR1_TE;
}

void tf_console_write(const char *data, uint32_t length) {
  for (uint32_t i = 0; i < length; i++) {
    for (uint32_t polls = 0; (USART_SR & USART_SR_TXE) == 0u && polls < TXE_POLLS; polls++) {
    }
    USART_DR = (uint8_t)data[i];
  }
  if (length > 0u) at_line_start = data[length - 1u] == '\n';
}

/* "TF exit <code>" on a line of its own, then stop: the end of a uart run. */
void tf_console_exit(int code) {
  char line[24];
  char digits[12];
  char *p = line;
  uint32_t v = code < 0 ? 0u - (uint32_t)code : (uint32_t)code;
  int n = 0;
  if (!at_line_start) *p++ = '\n';
  for (const char *s = TF_EXIT_LINE_PREFIX; *s; s++) *p++ = *s;
  if (code < 0) *p++ = '-';
  do {
    digits[n++] = (char)('0' + (int)(v % 10u));
    v /= 10u;
  } while (v != 0u);
  while (n > 0) *p++ = digits[--n];
  *p++ = '\n';
  tf_console_write(line, (uint32_t)(p - line));
  for (;;) {
    __asm__ volatile("wfi");
  }
}

/* ---- newlib system calls ------------------------------------------------------------------ */

int _write(int fd, const char *data, int length) {
  if (fd != 1 && fd != 2) {
    errno = EBADF;
    return -1;
  }
  if (length > 0) tf_console_write(data, (uint32_t)length);
  return length;
}

int _read(int fd, char *data, int length) {
  (void)data;
  (void)length;
  if (fd != 0) {
    errno = EBADF;
    return -1;
  }
  return 0; /* end of file: the console does not receive */
}

int _close(int fd) {
  if (fd >= 0 && fd <= 2) return 0;
  errno = EBADF;
  return -1;
}

/* A character device: newlib then line-buffers stdout, as with semihosting. */
int _fstat(int fd, struct stat *st) {
  if (fd < 0 || fd > 2) {
    errno = EBADF;
    return -1;
  }
  memset(st, 0, sizeof *st);
  st->st_mode = S_IFCHR;
  return 0;
}

int _isatty(int fd) {
  if (fd >= 0 && fd <= 2) return 1;
  errno = EBADF;
  return 0;
}

int _lseek(int fd, int offset, int whence) {
  (void)fd;
  (void)offset;
  (void)whence;
  errno = ESPIPE;
  return -1;
}

int _getpid(void) { return 1; }

/* raise() of an unhandled signal (abort()) ends the program with status 1, as semihosting does. */
int _kill(int pid, int sig) {
  (void)sig;
  if (pid == 1) _exit(TF_EXIT_FAILURE);
  errno = ESRCH;
  return -1;
}

/* exit() has run the atexit handlers and flushed stdio before it calls this. */
void _exit(int code) { tf_console_exit(code); }
