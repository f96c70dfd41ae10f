/*
 * Console on the board's UART, for firmware built with --io uart (TF_IO_UART): the system calls
 * newlib-nano's stdio needs, without semihosting, so the firmware runs on a board with no debugger
 * attached. stdout and stderr both go to the UART (transmit only); stdin reads end of file; there
 * are no files. _exit prints the exit line "TF exit <code>" (tf_target.h) and stops the CPU: the
 * host runner (src/qemu/runner.ts) reads it as the exit status.
 *
 * src/boards/console.ts (consoleDefines) defines, from the board file's "console" entry:
 *   TF_CONSOLE_KIND   the register layout: 1 stm32-usart (STM32F1/F2/F4: SR +0x00, DR +0x04,
 *                     BRR +0x08, CR1 +0x0C; RM0090 30.6), 2 stm32-usart-v2 (STM32L4/F7/G4/H7:
 *                     CR1 +0x00, BRR +0x0C, ISR +0x1C, TDR +0x28; RM0351 40.8), 3 nrf-uart (Nordic's
 *                     legacy UART, nRF51 and nRF52 UART0; nRF52840 PS 6.33)
 *   TF_CONSOLE_BASE   the UART's register block
 *   TF_CONSOLE_BRR    STM32: the baud rate divisor for the clock the runtime leaves running;
 *                     nRF: the BAUDRATE register value
 *   TF_CONSOLE_TX_PIN, TF_CONSOLE_RX_PIN   nRF: the GPIOs of TXD and RXD (PSELTXD, PSELRXD)
 *   TF_CONSOLE_SETUP  optional {register, clear, set}, ... applied in order before the UART is
 *                     enabled: clock enables, pin modes and alternate functions
 */
#include "tf_target.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#if !defined(TF_IO_UART) || !defined(TF_CONSOLE_KIND) || !defined(TF_CONSOLE_BASE) || !defined(TF_CONSOLE_BRR)
#error "the --io uart console needs TF_IO_UART, TF_CONSOLE_KIND, TF_CONSOLE_BASE and TF_CONSOLE_BRR"
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

#define UART_REG(offset) (*(volatile uint32_t *)((uintptr_t)(TF_CONSOLE_BASE) + (offset)))

#if TF_CONSOLE_KIND == 1 || TF_CONSOLE_KIND == 2
#define USART_CR1_TE (1u << 3)
#define USART_TXE (1u << 7) /* SR / ISR */
#if TF_CONSOLE_KIND == 1
#define USART_CR1_UE (1u << 13)
#define USART_SR UART_REG(0x00u)
#define USART_DR UART_REG(0x04u)
#define USART_BRR UART_REG(0x08u)
#define USART_CR1 UART_REG(0x0Cu)
#define USART_CR2 UART_REG(0x10u)
#define USART_CR3 UART_REG(0x14u)
#else
#define USART_CR1_UE (1u << 0)
#define USART_CR1 UART_REG(0x00u)
#define USART_CR2 UART_REG(0x04u)
#define USART_CR3 UART_REG(0x08u)
#define USART_BRR UART_REG(0x0Cu)
#define USART_SR UART_REG(0x1Cu) /* ISR */
#define USART_DR UART_REG(0x28u) /* TDR */
#endif
#elif TF_CONSOLE_KIND == 3
#if !defined(TF_CONSOLE_TX_PIN) || !defined(TF_CONSOLE_RX_PIN)
#error "the nrf-uart console needs TF_CONSOLE_TX_PIN and TF_CONSOLE_RX_PIN"
#endif
#define UART_STARTTX UART_REG(0x008u)
#define UART_TXDRDY UART_REG(0x11Cu)
#define UART_ENABLE UART_REG(0x500u)
#define UART_PSELRTS UART_REG(0x508u)
#define UART_PSELTXD UART_REG(0x50Cu)
#define UART_PSELCTS UART_REG(0x510u)
#define UART_PSELRXD UART_REG(0x514u)
#define UART_TXD UART_REG(0x51Cu)
#define UART_BAUDRATE UART_REG(0x524u)
#define UART_CONFIG UART_REG(0x56Cu)
#define UART_ENABLE_UART 4u
#define UART_PSEL_DISCONNECTED 0xFFFFFFFFu
#else
#error "TF_CONSOLE_KIND must be 1 (stm32-usart), 2 (stm32-usart-v2) or 3 (nrf-uart)"
#endif

/* One byte takes about 10 bit times; at 9600 baud and 168 MHz that is some 175,000 cycles. A UART
   that never reports an empty transmit register (no clock) loses the byte instead of hanging the
   firmware, which still finishes and leaves its results in RAM (tf_harness_result). */
#define TXE_POLLS 1000000u

static int at_line_start = 1;

void tf_console_init(void) {
#ifdef TF_CONSOLE_SETUP
  static const struct {
    uint32_t reg;
    uint32_t clear;
    uint32_t set;
  } setup[] = {TF_CONSOLE_SETUP};
  for (uint32_t i = 0; i < sizeof setup / sizeof setup[0]; i++) {
    volatile uint32_t *reg = (volatile uint32_t *)(uintptr_t)setup[i].reg;
    *reg = (*reg & ~setup[i].clear) | setup[i].set;
  }
#endif
#if TF_CONSOLE_KIND == 3
  UART_ENABLE = 0u;
  UART_PSELRTS = UART_PSEL_DISCONNECTED;
  UART_PSELCTS = UART_PSEL_DISCONNECTED;
  UART_PSELTXD = TF_CONSOLE_TX_PIN;
  UART_PSELRXD = TF_CONSOLE_RX_PIN;
  UART_BAUDRATE = TF_CONSOLE_BRR;
  UART_CONFIG = 0u; /* no parity, no flow control */
  UART_ENABLE = UART_ENABLE_UART;
  UART_TXDRDY = 0u;
  UART_STARTTX = 1u;
#else
  USART_CR1 = 0u; /* disabled; 8 data bits, no parity, 16x oversampling */
  USART_CR2 = 0u; /* 1 stop bit */
  USART_CR3 = 0u;
  USART_BRR = TF_CONSOLE_BRR;
  USART_CR1 = USART_CR1_UE | USART_CR1_TE;
#endif
}

#if TF_CONSOLE_KIND == 3
/* The legacy UART raises TXDRDY once a byte written to TXD has gone out: clear it, write, wait. */
static void put_byte(uint8_t b) {
  UART_TXDRDY = 0u;
  UART_TXD = b;
  for (uint32_t polls = 0; UART_TXDRDY == 0u && polls < TXE_POLLS; polls++) {
  }
}
#else
static void put_byte(uint8_t b) {
  for (uint32_t polls = 0; (USART_SR & USART_TXE) == 0u && polls < TXE_POLLS; polls++) {
  }
  USART_DR = b;
}
#endif

void tf_console_write(const char *data, uint32_t length) {
  for (uint32_t i = 0; i < length; i++) put_byte((uint8_t)data[i]);
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
