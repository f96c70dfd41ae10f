// The "console" entry of a board file: the serial port a `--io uart` firmware prints on, and what
// the runtime (firmware/src/tf_console_uart.c) writes to set it up. Three register layouts:
//   stm32-usart     STM32F1/F2/F4 USART: SR +0x00 (TXE bit 7), DR +0x04, BRR +0x08, CR1 +0x0C
//                   (RM0090 §30.6, RM0368 §19.6)
//   stm32-usart-v2  STM32L4/F7/G4/H7 USART: CR1 +0x00, BRR +0x0C, ISR +0x1C (TXE bit 7), TDR +0x28
//                   (RM0351 §40.8)
//   nrf-uart        Nordic's legacy UART (nRF51 and nRF52 UART0): STARTTX task +0x008, TXDRDY event
//                   +0x11C, ENABLE +0x500, PSELTXD +0x50C, PSELRXD +0x514, TXD +0x51C, BAUDRATE
//                   +0x524 (nRF52840 Product Specification v1.7 §6.33.9)
import { z } from 'zod';
import { quantity } from './quantity.js';

/** Bits the runtime changes, in order, before it enables the port: `reg = (reg & ~clear) | set`. */
const setupWrite = z.strictObject({ register: quantity, set: quantity, clear: quantity.default(0) });

const baud = quantity.refine((n) => n > 0, 'must be > 0').default(115_200);

/**
 * The nRF UART's BAUDRATE register for each rate its datasheet lists (nRF52840 PS v1.7, UART
 * BAUDRATE; the nRF51 reference manual has the same values). The register is not a plain divisor:
 * Nordic's values are rounded their own way, so they are a table rather than a formula.
 */
export const NRF_UART_BAUDRATE: Readonly<Record<number, number>> = {
  1200: 0x0004f000,
  2400: 0x0009d000,
  4800: 0x0013b000,
  9600: 0x00275000,
  19200: 0x004ea000,
  38400: 0x009d5000,
  57600: 0x00ebf000,
  115200: 0x01d7e000,
  230400: 0x03afb000,
  250000: 0x04000000,
  460800: 0x075f7000,
  921600: 0x0ebed000,
  1000000: 0x10000000,
};

const divisorInRange = (c: { clockHz: number; baud: number }) =>
  Math.round(c.clockHz / c.baud) >= 16 && Math.round(c.clockHz / c.baud) <= 0xffff;
const divisorMessage = {
  message: 'clockHz / baud must be a USART divisor between 16 and 65535',
  path: ['baud'],
};

/** Fields both STM32 layouts share: 16x oversampling, BRR = round(clockHz / baud). */
const stm32Fields = {
  /** Register block of the USART. */
  base: quantity,
  baud,
  /**
   * The USART's peripheral clock as the runtime leaves it: it sets up no PLL, so this is the
   * oscillator the chip runs on after reset (STM32F4: HSI 16 MHz; STM32L4: MSI 4 MHz).
   */
  clockHz: quantity.refine((n) => n > 0, 'must be > 0').default(16_000_000),
  /** RCC clock enables, then the TX/RX pins' mode and alternate function (GPIO MODER, AFR). */
  setup: z.array(setupWrite).default([]),
};

const stm32Usart = z
  .strictObject({ kind: z.literal('stm32-usart'), ...stm32Fields })
  .refine(divisorInRange, divisorMessage);
const stm32UsartV2 = z
  .strictObject({ kind: z.literal('stm32-usart-v2'), ...stm32Fields })
  .refine(divisorInRange, divisorMessage);

const nrfUart = z
  .strictObject({
    kind: z.literal('nrf-uart'),
    base: quantity,
    baud,
    /** GPIO numbers (P0.n) of TXD and RXD: the UART's PSELTXD / PSELRXD. */
    txPin: z.number().int().min(0).max(47),
    rxPin: z.number().int().min(0).max(47),
    setup: z.array(setupWrite).default([]),
  })
  .refine((c) => NRF_UART_BAUDRATE[c.baud] !== undefined, {
    message: `the nRF UART has no BAUDRATE value for this rate; use one of ${Object.keys(NRF_UART_BAUDRATE).join(', ')}`,
    path: ['baud'],
  });

export const consoleSchema = z.discriminatedUnion('kind', [stm32Usart, stm32UsartV2, nrfUart]);

export type BoardConsole = z.output<typeof consoleSchema>;
export type ConsoleKind = BoardConsole['kind'];
export const CONSOLE_KINDS: readonly ConsoleKind[] = ['stm32-usart', 'stm32-usart-v2', 'nrf-uart'];

/** The USART divisor (BRR, 16x oversampling) of an STM32 console. */
export function consoleDivisor(c: { clockHz: number; baud: number }): number {
  return Math.round(c.clockHz / c.baud);
}

const hex = (n: number) => '0x' + n.toString(16).padStart(8, '0') + 'u';

/**
 * The -D flags tf_console_uart.c reads (values without spaces: each stays one shell word):
 * TF_CONSOLE_KIND (1 stm32-usart, 2 stm32-usart-v2, 3 nrf-uart), TF_CONSOLE_BASE, TF_CONSOLE_BRR
 * (STM32: the divisor; nRF: the BAUDRATE register value), TF_CONSOLE_TX_PIN / TF_CONSOLE_RX_PIN
 * (nRF) and TF_CONSOLE_SETUP ({register, clear, set}, ...).
 */
export function consoleDefines(c: BoardConsole): Record<string, string> {
  const d: Record<string, string> = {
    TF_CONSOLE_KIND: String(CONSOLE_KINDS.indexOf(c.kind) + 1),
    TF_CONSOLE_BASE: hex(c.base),
  };
  if (c.kind === 'nrf-uart') {
    d.TF_CONSOLE_BRR = hex(NRF_UART_BAUDRATE[c.baud]);
    d.TF_CONSOLE_TX_PIN = `${c.txPin}u`;
    d.TF_CONSOLE_RX_PIN = `${c.rxPin}u`;
  } else {
    d.TF_CONSOLE_BRR = `${consoleDivisor(c)}u`;
  }
  if (c.setup.length > 0) {
    d.TF_CONSOLE_SETUP = c.setup.map((w) => `{${hex(w.register)},${hex(w.clear)},${hex(w.set)}}`).join(',');
  }
  return d;
}
