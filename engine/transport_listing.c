/*
 * transport_listing.c - remote listings (HTTPS JSON or plain bodies, SFTP
 * long listings) into name arrays, response buffers and the short excerpt of
 * a server's reply that an error message may quote.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "transport_impl.h"

/* ================================================================ listings */

int tnames_push(char ***names, size_t *n, size_t *cap, const char *name, size_t len)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        char **nn = realloc(*names, nc * sizeof *nn);
        if (!nn)
            return -1;
        *names = nn;
        *cap = nc;
    }
    char *s = malloc(len + 1);
    if (!s)
        return -1;
    memcpy(s, name, len);
    s[len] = '\0';
    (*names)[(*n)++] = s;
    return 0;
}

void transport_names_free(char **names, size_t n)
{
    if (!names)
        return;
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static const char *scalar_of(yaml_document_t *d, yaml_node_t *map, const char *key)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(d, p->key), *v = yaml_document_get_node(d, p->value);
        if (k && v && k->type == YAML_SCALAR_NODE && v->type == YAML_SCALAR_NODE &&
            !strcmp((const char *)k->data.scalar.value, key))
            return (const char *)v->data.scalar.value;
    }
    return NULL;
}

ch_code tlist_parse_body(const char *body, size_t len, char ***names, size_t *n, ch_error *err)
{
    *names = NULL;
    *n = 0;
    size_t cap = 0, i = 0;
    while (i < len && isspace((unsigned char)body[i]))
        i++;
    if (i < len && body[i] == '[') {
        /* JSON is (nearly) YAML flow syntax: libyaml reads nginx's autoindex. */
        yaml_parser_t p;
        yaml_document_t doc;
        if (!yaml_parser_initialize(&p))
            return ch_error_set(err, CH_ERR_NOMEM, "listing: out of memory");
        yaml_parser_set_input_string(&p, (const unsigned char *)body, len);
        if (!yaml_parser_load(&p, &doc)) {
            ch_code rc = ch_error_set(err, CH_ERR_SYNTAX, "listing is not a readable JSON array (line %lu: %s)",
                                      (unsigned long)p.problem_mark.line + 1,
                                      p.problem ? p.problem : "?");
            yaml_parser_delete(&p);
            return rc;
        }
        yaml_parser_delete(&p);
        ch_code rc = CH_OK;
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        if (!root || root->type != YAML_SEQUENCE_NODE) {
            rc = ch_error_set(err, CH_ERR_SYNTAX, "listing is not a JSON array");
        } else {
            for (yaml_node_item_t *it = root->data.sequence.items.start;
                 it < root->data.sequence.items.top && rc == CH_OK; it++) {
                yaml_node_t *e = yaml_document_get_node(&doc, *it);
                const char *nm = NULL;
                if (e && e->type == YAML_SCALAR_NODE)
                    nm = (const char *)e->data.scalar.value;
                else if (e && e->type == YAML_MAPPING_NODE) {
                    const char *type = scalar_of(&doc, e, "type");
                    if (type && strcmp(type, "file") != 0)
                        continue;
                    nm = scalar_of(&doc, e, "name");
                }
                if (nm && tnames_push(names, n, &cap, nm, strlen(nm)) < 0)
                    rc = ch_error_set(err, CH_ERR_NOMEM, "listing: out of memory");
            }
        }
        yaml_document_delete(&doc);
        if (rc) {
            transport_names_free(*names, *n);
            *names = NULL;
            *n = 0;
        }
        return rc;
    }
    /* One name per line. */
    while (i < len) {
        size_t j = i;
        while (j < len && body[j] != '\n')
            j++;
        size_t e = j;
        while (e > i && (body[e - 1] == '\r' || body[e - 1] == ' ' || body[e - 1] == '\t'))
            e--;
        if (e > i && tnames_push(names, n, &cap, body + i, e - i) < 0) {
            transport_names_free(*names, *n);
            *names = NULL;
            *n = 0;
            return ch_error_set(err, CH_ERR_NOMEM, "listing: out of memory");
        }
        i = j + 1;
    }
    return CH_OK;
}

ch_code tlist_parse_long(const char *body, size_t len, char ***names, uint64_t **sizes, size_t *n,
                         ch_error *err)
{
    *names = NULL;
    *n = 0;
    if (sizes)
        *sizes = NULL;
    size_t cap = 0, scap = 0;
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && body[j] != '\n')
            j++;
        size_t e = j;
        if (e > i && body[e - 1] == '\r')
            e--;
        /* "-rw-r--r--    1 user group   123 Jan 01 12:00 name": 8 fields, then the name. */
        if (e > i && body[i] == '-') {
            size_t k = i;
            uint64_t sz = 0;
            int f, ok = 1;
            for (f = 0; f < 8 && ok; f++) {
                size_t fs = k;
                while (k < e && body[k] != ' ')
                    k++;
                if (f == 4) {
                    for (size_t q = fs; q < k; q++) {
                        if (!isdigit((unsigned char)body[q])) {
                            ok = 0;
                            break;
                        }
                        sz = sz * 10 + (uint64_t)(body[q] - '0');
                    }
                }
                while (k < e && body[k] == ' ')
                    k++;
                if (k >= e)
                    ok = 0;
            }
            if (ok) {
                if (tnames_push(names, n, &cap, body + k, e - k) < 0)
                    goto nomem;
                if (sizes) {
                    if (*n > scap) {
                        scap = cap;
                        uint64_t *ns = realloc(*sizes, scap * sizeof *ns);
                        if (!ns)
                            goto nomem;
                        *sizes = ns;
                    }
                    (*sizes)[*n - 1] = sz;
                }
            }
        }
        i = j + 1;
    }
    return CH_OK;
nomem:
    transport_names_free(*names, *n);
    *names = NULL;
    *n = 0;
    if (sizes) {
        free(*sizes);
        *sizes = NULL;
    }
    return ch_error_set(err, CH_ERR_NOMEM, "listing: out of memory");
}

size_t tbuf_curl_write(char *p, size_t size, size_t nmemb, void *ud)
{
    tbuf *b = ud;
    size_t n = size * nmemb, take = n;
    if (b->limit && b->len + take > b->limit) {
        take = b->limit > b->len ? b->limit - b->len : 0;
        b->truncated = 1;
    }
    if (take) {
        if (b->len + take + 1 > b->cap) {
            size_t nc = b->cap ? b->cap : 4096;
            while (nc < b->len + take + 1)
                nc *= 2;
            char *np = realloc(b->p, nc);
            if (!np)
                return 0;
            b->p = np;
            b->cap = nc;
        }
        memcpy(b->p + b->len, p, take);
        b->len += take;
        b->p[b->len] = '\0';
    }
    return n;
}

void tbuf_free(tbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

void texcerpt(const transport *t, const char *body, size_t len, char *out, size_t outsz)
{
    size_t o = 0, max = outsz > 101 ? 100 : outsz - 1;
    int in_tag = 0, space = 1;
    for (size_t i = 0; i < len && o < max; i++) {
        unsigned char ch = (unsigned char)body[i];
        if (ch == '<') {
            in_tag = 1;
            continue;
        }
        if (in_tag) {
            if (ch == '>') {
                in_tag = 0;
                if (!space && o < max)
                    out[o++] = ' ', space = 1;
            }
            continue;
        }
        if (isspace(ch) || ch < 0x20 || ch >= 0x7f) {
            if (!space)
                out[o++] = ' ', space = 1;
            continue;
        }
        out[o++] = (char)ch;
        space = 0;
    }
    while (o && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
    /* A server that echoes the request must not leak the token into logs. */
    if (t && t->token && t->token[0]) {
        size_t tl = strlen(t->token);
        for (char *p = out; (p = strstr(p, t->token)); p += tl)
            memset(p, '*', tl);
        /* and no piece of it that the cut-off left at the end */
        for (size_t k = tl > 8 ? tl - 1 : 0; k >= 8; k--) {
            if (o >= k && !memcmp(out + o - k, t->token, k)) {
                memset(out + o - k, '*', k);
                break;
            }
        }
    }
}

