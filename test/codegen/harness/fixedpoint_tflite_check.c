/* tf_fixedpoint_tflite.h against src/fixedpoint/tflite.ts (test/codegen/fixedpointTflite.test.ts), on
 * the host and on the target alike. Reads records of eight int32 (op, a, b, c, d, e, f, want; native
 * byte order, little-endian on both) from the file named by argv[1], computes each op in C, compares
 * with `want` (what tflite.ts computed) and prints
 *     TF bad <record index> <C result>      for the first 20 disagreements
 *     TF n <records> <disagreements>
 *     TF dsp <TFL_DSP>                      (1: the Cortex-M4 forms of the *_fast functions ran)
 * Records:
 *     op 0: tfl_srdhm(a, b)
 *     op 1: tfl_rdbpot(a, b)
 *     op 2: tfl_mbqm_double(a, b, c)         op 16: tfl_mbqm_single(a, b, c)
 *     op 3: tfl_requant_double(a, b, c, d, e, f)   op 17: tfl_requant_single(a, b, c, d, e, f)
 *     op 18: tfl_requant_double_fast(a, b, c, 2^(c - 1) + d * 2^c, d, e, f) (the right shift c, for the
 *            records where tflite.ts fastRequant says it applies)
 *     op 19: tfl_requant_single_fast(a, b, c, 2^(c - 1) + d * 2^c, d, e, f)
 *     op 4: tfl_average(a, b, c, d)
 *     op 5: Add parameters, first half: input1_offset a, input2_offset b, left_shift c,
 *           input1_multiplier d, input1_shift e, input2_multiplier f (no result)
 *     op 6: Add parameters, second half: input2_shift a, output_multiplier b, output_shift c,
 *           output_offset d, act_min e, act_max f (no result)
 *     op 7: tfl_add((int8_t)a, (int8_t)b, the parameters set by ops 5 and 6)
 *     op 12: tfl_exp_on_negative_values(a)
 *     op 13: tfl_reciprocal(a): want the reciprocal, b the bits over unit
 *     op 14: Softmax parameters: multiplier a, left_shift b, diff_min c (no result)
 *     op 15: tfl_softmax_row of the e (1..4) int8 values a, b, c, d with the parameters of op 14:
 *            want the outputs packed as bytes, the first in the low byte
 * With TFL_CHECK_FLOAT (host only), the compile-time computations TFLite does in floating point, as
 * TFLite writes them in C++ (quantization_util.cc, kernel_util.cc), against tflite.ts:
 *     op 8: QuantizeMultiplier of the double with bits a (high word) and b (low word):
 *           want the multiplier, c the shift
 *     op 9: the same of the Conv2D multiplier of float scales with bits a, b, c (input, filter,
 *           output): want the multiplier, d the shift
 *     op 10: the same of the FullyConnected multiplier
 *     op 11: the int8 RELU6 range of an output of float scale bits a, zero point b: want the max,
 *            c the min
 * Exit status 2: no file named, 3: the file does not open, 4: an unknown op. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tf_fixedpoint_tflite.h"

#ifdef TFL_CHECK_FLOAT
#include <math.h>

/* quantization_util.cc QuantizeMultiplier, as written there (frexp, std::round), in the default
 * build (TFLITE_SINGLE_ROUNDING not defined: no cap on the shift), as tensorflow-cpu 2.21. */
static void quantize_multiplier(double m, int32_t *q, int32_t *shift)
{
    int e = 0;
    double f;
    int64_t q_fixed;
    if (m == 0.) {
        *q = 0;
        *shift = 0;
        return;
    }
    f = frexp(m, &e);
    q_fixed = (int64_t)round(f * (double)(1LL << 31));
    if (q_fixed == (1LL << 31)) {
        q_fixed /= 2;
        ++e;
    }
    if (e < -31) {
        e = 0;
        q_fixed = 0;
    }
    *q = (int32_t)q_fixed;
    *shift = e;
}

static float float_of(int32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}
#endif

int main(int argc, char **argv)
{
    FILE *f;
    int32_t rec[8];
    unsigned long n = 0;
    unsigned long bad = 0;
    tfl_add_params add;
    tfl_softmax_params softmax;
    memset(&add, 0, sizeof add);
    memset(&softmax, 0, sizeof softmax);
    if (argc < 2) {
        return 2;
    }
    f = fopen(argv[1], "rb");
    if (f == NULL) {
        return 3;
    }
    while (fread(rec, sizeof rec[0], 8, f) == 8) {
        int32_t y = rec[7];
        int32_t extra = 0;      /* a second result (a shift, a minimum) */
        int32_t extra_want = 0; /* and what tflite.ts gave for it */
        switch (rec[0]) {
        case 0:
            y = tfl_srdhm(rec[1], rec[2]);
            break;
        case 1:
            y = tfl_rdbpot(rec[1], rec[2]);
            break;
        case 2:
            y = tfl_mbqm_double(rec[1], rec[2], rec[3]);
            break;
        case 16:
            y = tfl_mbqm_single(rec[1], rec[2], rec[3]);
            break;
        case 3:
            y = tfl_requant_double(rec[1], rec[2], rec[3], rec[4], rec[5], rec[6]);
            break;
        case 17:
            y = tfl_requant_single(rec[1], rec[2], rec[3], rec[4], rec[5], rec[6]);
            break;
        case 18:
        case 19: {
            /* The offset fits (tflite.ts fastRequant checked it); computed on 64 bits. */
            const int32_t offset = (int32_t)(((int64_t)1 << (rec[3] - 1)) + (int64_t)rec[4] * ((int64_t)1 << rec[3]));
            y = rec[0] == 18 ? tfl_requant_double_fast(rec[1], rec[2], rec[3], offset, rec[4], rec[5], rec[6])
                             : tfl_requant_single_fast(rec[1], rec[2], rec[3], offset, rec[4], rec[5], rec[6]);
            break;
        }
        case 4:
            y = tfl_average(rec[1], rec[2], rec[3], rec[4]);
            break;
        case 5:
            add.input1_offset = rec[1];
            add.input2_offset = rec[2];
            add.left_shift = rec[3];
            add.input1_multiplier = rec[4];
            add.input1_shift = rec[5];
            add.input2_multiplier = rec[6];
            break;
        case 6:
            add.input2_shift = rec[1];
            add.output_multiplier = rec[2];
            add.output_shift = rec[3];
            add.output_offset = rec[4];
            add.act_min = rec[5];
            add.act_max = rec[6];
            break;
        case 7:
            y = tfl_add((int8_t)rec[1], (int8_t)rec[2], &add);
            break;
        case 12:
            y = tfl_exp_on_negative_values(rec[1]);
            break;
        case 13:
            y = tfl_reciprocal(rec[1], &extra);
            extra_want = rec[2];
            break;
        case 14:
            softmax.multiplier = rec[1];
            softmax.left_shift = rec[2];
            softmax.diff_min = rec[3];
            break;
        case 15: {
            int8_t row[4];
            int8_t out[4] = {0, 0, 0, 0};
            int32_t k;
            for (k = 0; k < 4; k++) {
                row[k] = (int8_t)rec[1 + k];
            }
            tfl_softmax_row(row, out, rec[5], &softmax);
            y = (int32_t)((uint32_t)(uint8_t)out[0] | (uint32_t)(uint8_t)out[1] << 8 |
                          (uint32_t)(uint8_t)out[2] << 16 | (uint32_t)(uint8_t)out[3] << 24);
            break;
        }
#ifdef TFL_CHECK_FLOAT
        case 8: {
            uint64_t bits = ((uint64_t)(uint32_t)rec[1] << 32) | (uint32_t)rec[2];
            double m;
            memcpy(&m, &bits, sizeof m);
            quantize_multiplier(m, &y, &extra);
            extra_want = rec[3];
            break;
        }
        case 9:
        case 10: {
            const float in = float_of(rec[1]);
            const float filter = float_of(rec[2]);
            const float out = float_of(rec[3]);
            /* kernel_util.cc: per channel (Conv2D) all in double; GetQuantizedConvolutionMultipler
             * (FullyConnected) takes the product of the float scales in float. */
            const double m = rec[0] == 9 ? (double)in * (double)filter / (double)out
                                         : (double)(float)(in * filter) / (double)out;
            quantize_multiplier(m, &y, &extra);
            extra_want = rec[4];
            break;
        }
        case 11: {
            const float scale = float_of(rec[1]);
            const int32_t zp = rec[2];
            const int32_t q0 = zp + (int32_t)roundf(0.0f / scale);
            const int32_t q6 = zp + (int32_t)roundf(6.0f / scale);
            extra = q0 > -128 ? q0 : -128;
            y = q6 < 127 ? q6 : 127;
            extra_want = rec[3];
            break;
        }
#endif
        default:
            fclose(f);
            return 4;
        }
        if (y != rec[7] || extra != extra_want) {
            if (++bad <= 20) {
                printf("TF bad %lu %ld %ld\n", n, (long)y, (long)extra);
            }
        }
        n++;
    }
    printf("TF n %lu %lu\n", n, bad);
    printf("TF dsp %d\n", TFL_DSP);
    fclose(f);
    return 0;
}
