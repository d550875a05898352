/*
 * fuzz_ydoc.c - libFuzzer target: the fast scanner for the plain subset of
 * YAML (engine/ydoc_fast.c) against libyaml.  Whatever the bytes, reading
 * them with the scanner on and off must give the same tree, node for node
 * (kind, text, quoting, line, column), or the same error; a difference
 * aborts.  Built and run by `make fuzz`, seeded with the project's
 * encounter documents.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ydoc_reading.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *slow = reading((const char *)data, size, 0), *fast = reading((const char *)data, size, 1);
    if (strcmp(slow, fast)) {
        fprintf(stderr, "libyaml: %s\nfast:    %s\n", slow, fast);
        abort();
    }
    free(slow);
    free(fast);
    return 0;
}
