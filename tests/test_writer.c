/* test_writer.c - the segment writer and exact money. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "x12_writer.h"

static const x12_delims D = {'*', '^', ':', '~'};

Test(writer, trailing_empty_elements_are_dropped)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    x12_writer w;
    x12w_init(&w, fp, &D, 0);
    x12w_seg(&w, "NM1");
    x12w_el(&w, "IL");
    x12w_el(&w, "1");
    x12w_el(&w, "");
    x12w_el(&w, NULL);
    cr_assert_eq(x12w_end(&w, NULL), CH_OK);
    x12w_seg(&w, "SV1");
    x12w_el(&w, "HC");
    x12w_sub(&w, "99213");
    x12w_sub(&w, "25");
    x12w_cents(&w, 12550);
    cr_assert_eq(x12w_end(&w, NULL), CH_OK);
    fclose(fp);
    cr_assert_str_eq(buf, "NM1*IL*1~SV1*HC:99213:25*125.5~");
    cr_assert_eq(w.count, 2);
    free(buf);
}

Test(writer, a_value_holding_a_delimiter_is_refused)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    x12_writer w;
    x12w_init(&w, fp, &D, 0);
    const char *evil[] = {"SMITH~NM1*IL", "A*B", "A:B", "A^B", "A\nB"};
    for (size_t i = 0; i < sizeof evil / sizeof *evil; i++) {
        ch_error err;
        x12w_seg(&w, "NM1");
        x12w_el(&w, "IL");
        x12w_el(&w, evil[i]);
        cr_assert_eq(x12w_end(&w, &err), CH_ERR_INVALID, "%s", evil[i]);
        cr_assert(strstr(err.msg, "NM102"), "%s", err.msg);
        cr_assert_eq(strstr(err.msg, "SMITH"), NULL, "no data in the message");
    }
    fclose(fp);
    cr_assert_eq(len, 0, "nothing written");
    free(buf);
}

Test(writer, cents_format_without_floating_point)
{
    char b[32];
    cr_assert_str_eq(x12_cents_str(12345, b), "123.45");
    cr_assert_str_eq(x12_cents_str(12300, b), "123");
    cr_assert_str_eq(x12_cents_str(12340, b), "123.4");
    cr_assert_str_eq(x12_cents_str(5, b), "0.05");
    cr_assert_str_eq(x12_cents_str(-905, b), "-9.05");
    cr_assert_str_eq(x12_cents_str(0, b), "0");
    cr_assert_str_eq(x12_cents_str(INT64_MAX, b), "92233720368547758.07");
}

Test(writer, cents_fixed_two_decimals)
{
    char b[32];
    cr_assert_str_eq(x12_cents_fixed(12340, b), "123.40");
    cr_assert_str_eq(x12_cents_fixed(5, b), "0.05");
    cr_assert_str_eq(x12_cents_fixed(-5, b), "-0.05");
    cr_assert_str_eq(x12_cents_fixed(0, b), "0.00");
    cr_assert_str_eq(x12_cents_fixed(-100, b), "-1.00");
    cr_assert_str_eq(x12_cents_fixed(INT64_MAX, b), "92233720368547758.07");
    cr_assert_str_eq(x12_cents_fixed(INT64_MIN, b), "-92233720368547758.08");
}

Test(writer, cents_parse_exactly)
{
    int64_t c;
    struct { const char *s; int64_t v; } ok[] = {
        {"123.45", 12345}, {"123", 12300}, {"123.4", 12340}, {".5", 50}, {"-9.05", -905},
        {"0", 0}, {"+1.10", 110}, {"1.100", 110}, {"0.1", 10}, {"19.99", 1999}};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        cr_assert_eq(x12_parse_cents(ok[i].s, strlen(ok[i].s), &c), CH_OK, "%s", ok[i].s);
        cr_assert_eq(c, ok[i].v, "%s", ok[i].s);
    }
    const char *bad[] = {"", "-", ".", "1.234", "1,00", "12a", "1e3", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_eq(x12_parse_cents(bad[i], strlen(bad[i]), &c), CH_ERR_INVALID, "%s", bad[i]);
}
