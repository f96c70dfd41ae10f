/*
 * Stack measurement (declared in tf_target.h). In assembly so that none of these functions has a
 * stack frame of its own: a frame would write below the caller's SP and spoil the measurement
 * (or, for tf_stack_mark, be painted over while in use).
 *
 * The reset handler paints from __heap_start to the initial SP. Scans start at the FLOOR: the
 * current heap break (tf_heap_brk, kept by _sbrk in tf_crt.c), so a stack that grew past its
 * reserved region into the unused heap is still measured, and reported as more than its size.
 */
#include "tf_target.h"

        .syntax unified
        .thumb

        .section .bss.tf_stack_mark_sp, "aw", %nobits
        .align  2
tf_stack_mark_sp:                       /* SP remembered by tf_stack_mark; 0 = never marked */
        .space  4

/* r0 = floor: tf_heap_brk (or __heap_start before the first _sbrk) rounded up to a word.
   Uses r0 and r2 only. */
        .macro  load_floor
        ldr     r0, =tf_heap_brk
        ldr     r0, [r0]
        cmp     r0, #0
        bne     100f
        ldr     r0, =__heap_start
100:    movs    r2, #3
        adds    r0, r0, r2
        bics    r0, r0, r2
        .endm

/* void tf_stack_mark(void): repaint [floor, SP) and remember SP. */
        .section .text.tf_stack_mark, "ax", %progbits
        .align  1
        .global tf_stack_mark
        .thumb_func
        .type   tf_stack_mark, %function
tf_stack_mark:
        load_floor
        mov     r1, sp
        ldr     r2, =tf_stack_mark_sp
        str     r1, [r2]
        ldr     r3, =TF_STACK_PAINT
1:      cmp     r0, r1
        bhs     2f
        str     r3, [r0]
        adds    r0, r0, #4
        b       1b
2:      bx      lr
        .pool
        .size   tf_stack_mark, . - tf_stack_mark

/* uint32_t tf_stack_used_since_mark(void): bytes from the lowest changed word below the marked
   SP up to that SP (from the top of the stack if never marked). */
        .section .text.tf_stack_used_since_mark, "ax", %progbits
        .align  1
        .global tf_stack_used_since_mark
        .thumb_func
        .type   tf_stack_used_since_mark, %function
tf_stack_used_since_mark:
        ldr     r1, =tf_stack_mark_sp
        ldr     r1, [r1]
        cmp     r1, #0
        bne     tf_stack_scan
        ldr     r1, =__stack_top
        b       tf_stack_scan
        .pool
        .size   tf_stack_used_since_mark, . - tf_stack_used_since_mark

/* uint32_t tf_stack_peak(void): bytes from the lowest changed word up to the top of the stack. */
        .section .text.tf_stack_peak, "ax", %progbits
        .align  1
        .global tf_stack_peak
        .thumb_func
        .type   tf_stack_peak, %function
tf_stack_peak:
        ldr     r1, =__stack_top
        b       tf_stack_scan
        .pool
        .size   tf_stack_peak, . - tf_stack_peak

/* r1 = limit: returns r1 - (the first address from the floor whose word is not the paint, or r1
   if every word of [floor, r1) still holds the paint). */
        .section .text.tf_stack_scan, "ax", %progbits
        .align  1
        .thumb_func
        .type   tf_stack_scan, %function
tf_stack_scan:
        load_floor
        ldr     r3, =TF_STACK_PAINT
1:      cmp     r0, r1
        bhs     2f
        ldr     r2, [r0]
        cmp     r2, r3
        bne     2f
        adds    r0, r0, #4
        b       1b
2:      subs    r0, r1, r0
        bx      lr
        .pool
        .size   tf_stack_scan, . - tf_stack_scan
