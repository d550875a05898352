/* doc_blocks.h - fenced code blocks of the project's Markdown documents. */
#ifndef DOC_BLOCKS_H
#define DOC_BLOCKS_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct doc_block {
    char lang[16]; /* "sh", "yaml", "json", "" */
    int line;      /* line of the opening fence */
    char *body;    /* malloc'ed text between the fences */
} doc_block;

/* README.md and the .md files in docs/ under root, as paths; returns how many. */
static inline int doc_list(const char *root, char (*out)[512], int max)
{
    int n = 0;
    snprintf(out[n++], 512, "%s/README.md", root);
    char dir[512];
    snprintf(dir, sizeof dir, "%s/docs", root);
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) && n < max) {
        size_t l = strlen(e->d_name);
        if (l > 3 && !strcmp(e->d_name + l - 3, ".md"))
            snprintf(out[n++], 512, "%s/%s", dir, e->d_name);
    }
    if (d)
        closedir(d);
    return n;
}

/* The fenced blocks of one document; returns how many (bodies malloc'ed). */
static inline int doc_blocks(const char *path, doc_block *out, int max)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return 0;
    char line[4096];
    int n = 0, lineno = 0, in = 0;
    size_t cap = 0, len = 0;
    while (fgets(line, sizeof line, fp)) {
        lineno++;
        if (!strncmp(line, "```", 3)) {
            if (!in && n < max) {
                in = 1;
                memset(&out[n], 0, sizeof out[n]);
                sscanf(line + 3, "%15s", out[n].lang);
                out[n].line = lineno;
                cap = 4096;
                len = 0;
                out[n].body = malloc(cap);
                out[n].body[0] = '\0';
            } else if (in) {
                in = 0;
                n++;
            }
            continue;
        }
        if (in) {
            size_t l = strlen(line);
            if (len + l + 1 > cap)
                out[n].body = realloc(out[n].body, cap = (len + l + 1) * 2);
            memcpy(out[n].body + len, line, l + 1);
            len += l;
        }
    }
    if (in)
        free(out[n].body);
    fclose(fp);
    return n;
}

#endif
