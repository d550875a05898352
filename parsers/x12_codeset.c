/* x12_codeset.c - shape checks of external code sets (see x12_codeset.h) */
#include "x12_codeset.h"

#include <stdint.h>
#include <string.h>

#include "x12_envelope.h"

static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_upper(char c) { return c >= 'A' && c <= 'Z'; }
static int is_alnum(char c) { return is_digit(c) || is_upper(c); }

static int all(x12_str s, size_t from, size_t to, int (*pred)(char))
{
    for (size_t i = from; i < to; i++)
        if (!pred(s.p[i]))
            return 0;
    return 1;
}

int x12_npi_ok(x12_str s)
{
    if (s.len != 10 || !x12_is_digits(s))
        return 0;
    /* Luhn over "80840" + 9 digits: the constant prefix contributes 24. */
    int sum = 24;
    for (int i = 8; i >= 0; i--) {
        int d = s.p[i] - '0';
        if ((8 - i) % 2 == 0) { /* doubled: every other digit from the right */
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum += d;
    }
    int check = (10 - sum % 10) % 10;
    return check == s.p[9] - '0';
}

int x12_icd10cm_ok(x12_str s)
{
    if (s.len < 3 || s.len > 7)
        return 0;
    return is_upper(s.p[0]) && is_digit(s.p[1]) && all(s, 2, s.len, is_alnum);
}

static int pcs_char(char c) { return is_alnum(c) && c != 'I' && c != 'O'; }

int x12_icd10pcs_ok(x12_str s) { return s.len == 7 && all(s, 0, 7, pcs_char); }

int x12_icd9dx_ok(x12_str s)
{
    if (s.len >= 3 && s.len <= 5 && all(s, 0, s.len, is_digit))
        return 1;
    if (s.len >= 3 && s.len <= 5 && s.p[0] == 'V' && all(s, 1, s.len, is_digit))
        return 1;
    return s.len >= 4 && s.len <= 5 && s.p[0] == 'E' && all(s, 1, s.len, is_digit);
}

int x12_icd9px_ok(x12_str s) { return s.len >= 3 && s.len <= 4 && all(s, 0, s.len, is_digit); }

/* The code set an HI qualifier names: 1 ICD-10-CM, 2 ICD-10-PCS, 3 ICD-9-CM
 * diagnosis, 4 ICD-9-CM procedure, 0 none checked.  By length and letters:
 * this runs for every diagnosis code of every claim. */
static int hi_set(x12_str q)
{
    const char *p = q.p;
    if (q.len == 3 && p[0] == 'A') {
        if (p[1] == 'B' && (p[2] == 'K' || p[2] == 'F' || p[2] == 'J' || p[2] == 'N'))
            return 1;
        return p[1] == 'P' && p[2] == 'R';
    }
    if (q.len == 3 && p[0] == 'B' && p[1] == 'B' && (p[2] == 'R' || p[2] == 'Q'))
        return 2;
    if (q.len == 2 && p[0] == 'B' && (p[1] == 'K' || p[1] == 'F' || p[1] == 'J' || p[1] == 'N'))
        return 3;
    if (q.len == 2 && p[0] == 'P' && p[1] == 'R')
        return 3;
    if (q.len == 2 && p[0] == 'B' && (p[1] == 'R' || p[1] == 'Q'))
        return 4;
    return 0;
}

int x12_hi_ok(x12_str q, x12_str code, const char **what)
{
    static const char *const names[] = {NULL, "ICD-10-CM", "ICD-10-PCS", "ICD-9-CM diagnosis",
                                        "ICD-9-CM procedure"};
    int set = hi_set(q);
    if (what)
        *what = names[set];
    switch (set) {
    case 1: return x12_icd10cm_ok(code);
    case 2: return x12_icd10pcs_ok(code);
    case 3: return x12_icd9dx_ok(code);
    case 4: return x12_icd9px_ok(code);
    }
    return 1;
}

int x12_proc_ok(x12_str q, x12_str c)
{
    if (q.len != 2 || q.p[0] != 'H' || q.p[1] != 'C')
        return 1;
    if (c.len != 5)
        return 0;
    if (all(c, 0, 5, is_digit))
        return 1; /* CPT category I */
    if (all(c, 0, 4, is_digit) && (c.p[4] == 'F' || c.p[4] == 'T' || c.p[4] == 'U'))
        return 1; /* CPT category II / III, PLA */
    return is_upper(c.p[0]) && all(c, 1, 5, is_digit); /* HCPCS level II */
}

int x12_state_ok(x12_str s)
{
    /* bit (second letter - 'A') of row (first letter - 'A') is set for: the 50
     * states and DC; AS GU MP PR VI FM MH PW UM; AA AE AP */
    static const uint32_t ok[26] = {
        0x2068c11, 0x0000000, 0x0084001, 0x0000014, 0x0000000, 0x0001800, 0x0100001,
        0x0000100, 0x0002809, 0x0000000, 0x1040000, 0x0000001, 0x00ce199, 0x120129c,
        0x0020480, 0x0420001, 0x0000000, 0x0000100, 0x000000c, 0x0802000, 0x0081000,
        0x0080101, 0x1200101, 0x0000000, 0x0000000, 0x0000000};
    if (s.len != 2 || !is_upper(s.p[0]) || !is_upper(s.p[1]))
        return 0;
    return (ok[s.p[0] - 'A'] >> (s.p[1] - 'A')) & 1;
}

int x12_zip_ok(x12_str s) { return (s.len == 5 || s.len == 9) && x12_is_digits(s); }

int x12_taxonomy_ok(x12_str s) { return s.len == 10 && all(s, 0, 9, is_alnum) && s.p[9] == 'X'; }

int x12_ein_ok(x12_str s) { return s.len == 9 && x12_is_digits(s); }

int x12_dtp_ok(x12_str f, x12_str v)
{
    if (f.len == 2 && f.p[0] == 'D' && f.p[1] == '8')
        return v.len == 8 && x12_valid_date(v);
    if (f.len == 3 && f.p[0] == 'R' && f.p[1] == 'D' && f.p[2] == '8') {
        if (v.len != 17 || v.p[8] != '-')
            return 0;
        x12_str a = {v.p, 8}, b = {v.p + 9, 8};
        return x12_valid_date(a) && x12_valid_date(b) && memcmp(a.p, b.p, 8) <= 0;
    }
    if (x12_eq(f, "DT")) {
        if (v.len != 12)
            return 0;
        x12_str d = {v.p, 8}, t = {v.p + 8, 4};
        return x12_valid_date(d) && x12_valid_time(t);
    }
    return 1;
}
