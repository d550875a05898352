/*
 * fuzz_reader.c - libFuzzer target: the tokenizer, envelope checker and
 * segment writer over arbitrary bytes.  No crash, no sanitizer report, no
 * leak.  Built and run by `make fuzz`, seeded with tests/corpus.
 */
#include <stdint.h>
#include <stdio.h>

#include "x12_envelope.h"
#include "x12_writer.h"

static void on_diag(void *ctx, const x12_diag *d)
{
    char buf[1024];
    x12_diag_format(d, buf, sizeof buf, 1);
    x12_diag_json(d, buf, sizeof buf, 1);
    ++*(unsigned *)ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned n = 0;
    x12_reader_opts o = {.max_segment = 4096, .on_diag = on_diag, .diag_ctx = &n};
    x12_reader *r;
    if (x12_open_mem(&r, data, size, "fuzz", &o, NULL) != CH_OK)
        return 0;
    x12_env *e = x12_env_new("fuzz", NULL, on_diag, &n);
    FILE *sink = fopen("/dev/null", "w");
    x12_writer w;
    const x12_delims to = {'*', '^', ':', '~'};
    x12w_init(&w, sink, &to, 1);
    x12_segment s;
    x12_pos last = {0};
    while (x12_next(r, &s) == X12_SEGMENT) {
        x12_env_feed(e, &s);
        x12w_copy(&w, &s, NULL);
        for (unsigned i = 1; i <= s.nelem + 1; i++) {
            x12_comp(&s, i, 2);
            x12_rep(&s, i, 2);
        }
        last = s.pos;
    }
    x12_env_finish(e, &last);
    x12_env_free(e);
    x12_close(r);
    fclose(sink);
    return 0;
}
