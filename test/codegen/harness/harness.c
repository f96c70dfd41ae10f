/* Runs every linked model on its inputs: <dir>/in<m>.bin holds windows of input_size int8 values
 * back to back; <dir>/out<m>.bin receives, first, three bytes with the return codes of the argument
 * checks (run(NULL, logits), run(input, NULL), argmax(NULL) == -err_arg as 0/1), then per window:
 * tf_model_run's return code, tf_model_predict(input, NULL)'s result (int8), and the logits. */
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"

static int8_t *read_all(const char *path, long *size)
{
    FILE *f = fopen(path, "rb");
    int8_t *buf;
    if (f == NULL) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    *size = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = (int8_t *)malloc((size_t)(*size > 0 ? *size : 1));
    if (buf == NULL || fread(buf, 1, (size_t)*size, f) != (size_t)*size) {
        fclose(f);
        free(buf);
        return NULL;
    }
    fclose(f);
    return buf;
}

int main(int argc, char **argv)
{
    int m;
    if (argc != 2) {
        fprintf(stderr, "usage: %s <dir>\n", argv[0]);
        return 2;
    }
    for (m = 0; m < tf_test_model_count; m++) {
        const tf_test_model *tm = tf_test_models[m];
        char path[4096];
        long size = 0, n, i;
        int8_t *in, *logits;
        int8_t checks[3];
        FILE *out;
        sprintf(path, "%s/in%d.bin", argv[1], m);
        in = read_all(path, &size);
        if (in == NULL) {
            fprintf(stderr, "cannot read %s\n", path);
            return 3;
        }
        n = size / tm->input_size;
        logits = (int8_t *)malloc((size_t)tm->num_classes);
        sprintf(path, "%s/out%d.bin", argv[1], m);
        out = fopen(path, "wb");
        if (logits == NULL || out == NULL) {
            fprintf(stderr, "cannot write %s\n", path);
            return 3;
        }
        checks[0] = (int8_t)tm->run(NULL, logits);
        checks[1] = (int8_t)tm->run(in, NULL);
        checks[2] = (int8_t)(tm->argmax(NULL) == -tm->err_arg);
        fwrite(checks, 1, 3, out);
        for (i = 0; i < n; i++) {
            const int8_t *x = in + i * tm->input_size;
            int8_t head[2];
            int j;
            for (j = 0; j < tm->num_classes; j++) {
                logits[j] = 0x55; /* a kernel that forgets an output shows up */
            }
            head[0] = (int8_t)tm->run(x, logits);
            head[1] = (int8_t)tm->predict(x, NULL);
            fwrite(head, 1, 2, out);
            fwrite(logits, 1, (size_t)tm->num_classes, out);
        }
        fclose(out);
        free(in);
        free(logits);
    }
    return 0;
}
