/* tf_fixedpoint.h against src/fixedpoint/semantics.ts (test/codegen/fixedpoint.test.ts), on the host
 * and on the target alike. Reads records of four int32 (op, a, b, 0; native byte order, which is
 * little-endian on both) from the file named by argv[1] and prints
 *     TF dsp <TF_DSP>
 *     TF r <one result per record as two hex digits (int8), up to 32 per line>
 *     TF n <records>
 * Records:
 *     op 0: TF_REQ(a + tf_round_of(b), b)         semantics requantize(a, b, false)
 *     op 1: TF_REQ_RELU(a + tf_round_of(b), b)    semantics requantize(a, b, true)
 *     op 2: tf_rounded_average(a, b)              semantics roundedAverage(a, b)
 *     op 3: tf_sat8(a)                            semantics sat8(a)
 *     op 4: tf_relu8((int8_t)a)                   max(a, 0)
 *     op 5: tf_rescale8((int8_t)a, b)             semantics rescale8(a, b)
 *     op 6: tf_add2((int8_t)a, c & 255, (int8_t)b, c >> 8)   semantics addRescaled([a, b], [c & 255, c >> 8])
 *     op 7: tf_clamp8((int8_t)a, (int8_t)b, (int8_t)c)      semantics clamp8(a, b, c)
 *     op 8, 9: as 5 and 6, with TF_DSP through the four-lane tf_rescale8x4 / tf_add2x4, the value in
 *              lane (record index % 4) and other values in the other lanes (portable C otherwise)
 * Exit status 2: no file named, 3: the file does not open, 4: an unknown op. */
#include <stdint.h>
#include <stdio.h>

#include "tf_fixedpoint.h"

/* As the kernels requantize: the rounding constant is added to the accumulator's start (the bias),
 * the shift is a run-time uint32_t (a per-channel shift), the macro gets the finished sum. */
static int8_t requantize(int32_t acc, uint32_t shift, int relu)
{
    const int32_t a = acc + tf_round_of(shift);
    return relu ? TF_REQ_RELU(a, shift) : TF_REQ(a, shift);
}

#if TF_DSP
/* A word with v in byte lane `lane` and unrelated values in the others. */
static uint32_t lanes(int32_t v, unsigned lane, uint32_t salt)
{
    uint32_t w = (uint32_t)(v * 37 + 11) * 0x01010101u ^ salt;
    w &= ~(0xFFu << (8 * lane));
    return w | (((uint32_t)v & 0xFFu) << (8 * lane));
}

static int8_t lane_of(uint32_t w, unsigned lane)
{
    return (int8_t)(uint8_t)(w >> (8 * lane));
}
#endif

static int8_t rescale_x4(int32_t a, uint32_t s, unsigned long n)
{
#if TF_DSP
    return lane_of(tf_rescale8x4(lanes(a, (unsigned)(n & 3), 0x5A3C96E1u), s), (unsigned)(n & 3));
#else
    (void)n;
    return tf_rescale8((int8_t)a, s);
#endif
}

static int8_t add_x4(int32_t a, int32_t b, uint32_t sa, uint32_t sb, unsigned long n)
{
#if TF_DSP
    const unsigned l = (unsigned)(n & 3);
    return lane_of(tf_add2x4(lanes(a, l, 0x5A3C96E1u), sa, lanes(b, l, 0xC3A5F00Fu), sb), l);
#else
    (void)n;
    return tf_add2((int8_t)a, sa, (int8_t)b, sb);
#endif
}

int main(int argc, char **argv)
{
    FILE *f;
    int32_t rec[4];
    unsigned long n = 0;
    int col = 0;
    if (argc < 2) {
        return 2;
    }
    f = fopen(argv[1], "rb");
    if (f == NULL) {
        return 3;
    }
    printf("TF dsp %d\n", TF_DSP);
    while (fread(rec, sizeof rec[0], 4, f) == 4) {
        int8_t y;
        switch (rec[0]) {
        case 0:
        case 1:
            y = requantize(rec[1], (uint32_t)rec[2], rec[0] == 1);
            break;
        case 2:
            y = tf_rounded_average(rec[1], rec[2]);
            break;
        case 3:
            y = tf_sat8(rec[1]);
            break;
        case 4:
            y = tf_relu8((int8_t)rec[1]);
            break;
        case 5:
            y = tf_rescale8((int8_t)rec[1], (uint32_t)rec[2]);
            break;
        case 6:
            y = tf_add2((int8_t)rec[1], (uint32_t)rec[3] & 255u, (int8_t)rec[2], (uint32_t)rec[3] >> 8);
            break;
        case 7:
            y = tf_clamp8((int8_t)rec[1], (int8_t)rec[2], (int8_t)rec[3]);
            break;
        case 8:
            y = rescale_x4(rec[1], (uint32_t)rec[2], n);
            break;
        case 9:
            y = add_x4(rec[1], rec[2], (uint32_t)rec[3] & 255u, (uint32_t)rec[3] >> 8, n);
            break;
        default:
            fclose(f);
            return 4;
        }
        if (col == 0) {
            printf("TF r ");
        }
        printf("%02x", (unsigned)(uint8_t)y);
        if (++col == 32) {
            printf("\n");
            col = 0;
        }
        n++;
    }
    if (col != 0) {
        printf("\n");
    }
    printf("TF n %lu\n", n);
    fclose(f);
    return 0;
}
