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
