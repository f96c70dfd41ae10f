/* libFuzzer harness: the firmware's windows-file parser (firmware/harness/harness.c, file mode)
 * linked with a generated model. harness.c is compiled unchanged with main renamed and fopen/fclose
 * routed here: the fuzz input is the file, served from memory (fmemopen). The target API
 * (tf_target.h) is stubbed: tf_fail, which exits on the target, returns here by longjmp.
 * Input: byte 0 = length of an optional second argument (mod 16, e.g. "trace=3"), its bytes, then
 * the windows file. Any exit code is fine (a bad file is an input error); a sanitizer report,
 * a crash or a hang is a finding. */
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tf_target.h"

int tf_harness_main(int argc, char **argv);

static jmp_buf fail_jump;
static const uint8_t *file_data;
static size_t file_size;
static FILE *open_file;

FILE *tf_fuzz_fopen(const char *path, const char *mode)
{
    (void)path;
    (void)mode;
    /* fmemopen refuses a zero-size buffer; an empty file reads as EOF either way. */
    open_file = file_size ? fmemopen((void *)file_data, file_size, "rb") : fopen("/dev/null", "rb");
    return open_file;
}

int tf_fuzz_fclose(FILE *f)
{
    if (f == open_file) {
        open_file = NULL;
    }
    return fclose(f);
}

void tf_fail(int code, const char *message)
{
    (void)code;
    (void)message;
    longjmp(fail_jump, 1);
}

void tf_stack_mark(void) {}
uint32_t tf_stack_used_since_mark(void) { return 0u; }
uint32_t tf_stack_peak(void) { return 0u; }
uint32_t tf_stack_size(void) { return 0u; }
int tf_counter_available(void) { return 0; }
void tf_counter_init(void) {}
void tf_report_stack(const char *label, uint32_t bytes)
{
    printf("TF stack %s %lu\n", label, (unsigned long)bytes);
}
void tf_report_instr(const char *label, uint32_t instructions)
{
    printf("TF instr %s %lu\n", label, (unsigned long)instructions);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* The harness prints result lines; libFuzzer reports on stderr. */
    if (freopen("/dev/null", "w", stdout) == NULL) {
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char arg[17];
    char name[] = "firmware.elf", path[] = "windows.bin";
    char *argv[4];
    size_t alen;
    int argc = 2;
    if (size < 1u) {
        return 0;
    }
    alen = data[0] % 16u;
    if (size < 1u + alen) {
        return 0;
    }
    memcpy(arg, data + 1, alen);
    arg[alen] = '\0';
    file_data = data + 1 + alen;
    file_size = size - 1 - alen;
    argv[0] = name;
    argv[1] = path;
    if (alen > 0u) {
        argv[argc++] = arg;
    }
    argv[argc] = NULL;
    if (setjmp(fail_jump) == 0) {
        (void)tf_harness_main(argc, argv);
    }
    if (open_file != NULL) {
        fclose(open_file);
        open_file = NULL;
    }
    fflush(stdout);
    return 0;
}
