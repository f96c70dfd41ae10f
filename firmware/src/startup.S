/*
 * tinyforge startup for Cortex-M boards: vector table and reset handler.
 *
 * Written in assembly on purpose: the reset handler paints the whole stack region up to the
 * initial SP, which a C loop could not do safely (gcc may turn it into a memset call whose own
 * frame lies inside the region being painted). Thumb-1 compatible instructions only, so the same
 * file serves Cortex-M0 boards; the FPU is enabled only when the compiler targets one.
 *
 * Symbols come from firmware/linker.ld.hbs: __data_start/__data_end (RAM), __data_load (flash),
 * __bss_start/__bss_end, __heap_start, __stack_top (end of the reserved stack region).
 */
#include "tf_target.h"

        .syntax unified
        .thumb

        .section .isr_vector, "a", %progbits
        .align  2
        .global __tf_vectors
__tf_vectors:
        .word   __stack_top             /* initial SP */
        .word   Reset_Handler
        .word   NMI_Handler
        .word   HardFault_Handler
        .word   MemManage_Handler
        .word   BusFault_Handler
        .word   UsageFault_Handler
        .word   0, 0, 0, 0
        .word   SVC_Handler
        .word   DebugMon_Handler
        .word   0
        .word   PendSV_Handler
        .word   SysTick_Handler
        .size   __tf_vectors, . - __tf_vectors

        .section .text.Reset_Handler, "ax", %progbits
        .align  1
        .global Reset_Handler
        .thumb_func
        .type   Reset_Handler, %function
Reset_Handler:
        /* .data: copy its initial values from flash */
        ldr     r0, =__data_start
        ldr     r1, =__data_end
        ldr     r2, =__data_load
1:      cmp     r0, r1
        bhs     2f
        ldr     r3, [r2]
        str     r3, [r0]
        adds    r0, r0, #4
        adds    r2, r2, #4
        b       1b
2:      /* .bss: zero */
        ldr     r0, =__bss_start
        ldr     r1, =__bss_end
        movs    r3, #0
3:      cmp     r0, r1
        bhs     4f
        str     r3, [r0]
        adds    r0, r0, #4
        b       3b
4:      /* heap and stack: paint from the heap start up to the current (initial) SP, so that a
           stack overflowing into the heap is still measured (tf_stack.S) */
        ldr     r0, =__heap_start
        mov     r1, sp
        ldr     r3, =TF_STACK_PAINT
5:      cmp     r0, r1
        bhs     6f
        str     r3, [r0]
        adds    r0, r0, #4
        b       5b
6:
#if defined(__ARM_FP)
        /* FPU: full access to CP10 and CP11 (CPACR bits 20..23), before any C code runs */
        ldr     r0, =0xE000ED88
        ldr     r1, [r0]
        ldr     r2, =0x00F00000
        orrs    r1, r1, r2
        str     r1, [r0]
        dsb
        isb
#endif
        bl      tf_crt_main             /* never returns: it ends with exit() */
7:      b       7b
        .pool
        .size   Reset_Handler, . - Reset_Handler

/*
 * Every other exception is unexpected in tinyforge firmware (no interrupts are enabled): report it
 * and stop with TF_EXIT_FAULT instead of hanging until the runner's time limit. The handler passes
 * the exception frame (MSP or PSP, from EXC_RETURN bit 2) to C.
 */
        .section .text.tf_fault_entry, "ax", %progbits
        .align  1
        .global tf_fault_entry
        .thumb_func
        .type   tf_fault_entry, %function
tf_fault_entry:
        mov     r0, lr
        movs    r1, #4
        tst     r0, r1
        bne     8f
        mrs     r0, msp
        b       tf_fault_report
8:      mrs     r0, psp
        b       tf_fault_report
        .size   tf_fault_entry, . - tf_fault_entry

        .macro  tf_weak_handler name
        .weak   \name
        .thumb_set \name, tf_fault_entry
        .endm

        tf_weak_handler NMI_Handler
        tf_weak_handler HardFault_Handler
        tf_weak_handler MemManage_Handler
        tf_weak_handler BusFault_Handler
        tf_weak_handler UsageFault_Handler
        tf_weak_handler SVC_Handler
        tf_weak_handler DebugMon_Handler
        tf_weak_handler PendSV_Handler
        tf_weak_handler SysTick_Handler
