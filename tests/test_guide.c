/* test_guide.c - reading guide tables (x12_guide.h) and the registry. */
#include <criterion/criterion.h>
#include <string.h>

#include "embedded.h"
#include "validate_helpers.h"
#include "x12_guide.h"

static const char *const small_guide =
    "guide 837 005010X222A1 \"Small Claim\"   # trailing comment\n"
    "# a comment line\n"
    "balance 837\n"
    "seg ST R 1 \"Transaction Set Header\"\n"
    "  el 01 R ID 3 3 \"Transaction Set Identifier Code\" codes=837\n"
    "  el 02 R AN 4 9 \"Transaction Set Control Number\"\n"
    "seg BHT R 1 \"Beginning\"\n"
    "  el 04 R DT 8 8 \"Date\" check=date\n"
    "loop 1000A R 1 \"Submitter Name\"\n"
    "  seg NM1 R 1 \"Submitter Name\" key=01:41\n"
    "    el 01 R ID 2 3 \"Entity\" codes=41\n"
    "    el 09 R AN 2 80 \"Id\"\n"
    "    syntax P 08 09\n"
    "    syntax C 11 10\n"
    "  end\n"
    "loop 2000A R >1 \"Billing Provider HL\"\n"
    "  seg HL R 1 \"HL\" key=03:20\n"
    "    el 01 R AN 1 12 \"Id\"\n"
    "    el 03 R ID 1 2 \"Level\" codes=20\n"
    "  loop 2300 S 100 \"Claim\"\n"
    "    seg CLM R 1 \"Claim\"\n"
    "      el 02 R R 1 18 \"Charge\"\n"
    "      el 05 R C \"Location\" reps=2\n"
    "        comp 1 R AN 1 2 \"Place\"\n"
    "        comp 3 R ID 1 1 \"Frequency\" codes=1,7,8\n"
    "    seg REF S 1 \"Payer Claim Number\" key=01:F8\n"
    "      el 01 R ID 2 3 \"Qualifier\" codes=F8\n"
    "    seg REF S >1 \"Other\" key=01:9A,9C\n"
    "      el 01 R ID 2 3 \"Qualifier\" codes=9A,9C\n"
    "    seg HI R 1 \"Diagnosis\" key=01-1:ABK,BK\n"
    "      el 01 R C \"Code\"\n"
    "        comp 1 R ID 1 3 \"Type\" codes=ABK,BK\n"
    "        comp 2 R AN 1 30 \"Code\" check=hi\n"
    "    rule \"frequency 7 or 8 needs REF*F8\" if CLM05-3 = 7,8 then need seg REF:F8\n"
    "    rule \"REF 9A needs charge\" if REF01 present then need el CLM02\n"
    "    end\n"
    "  end\n"
    "seg SE R 1 \"Trailer\"\n"
    "  el 01 R N0 1 10 \"Count\"\n";

Test(guide, parses_the_tree)
{
    x12_guide *g = vd_guide(small_guide);
    cr_assert_str_eq(g->st01, "837");
    cr_assert_str_eq(g->version, "005010X222A1");
    cr_assert_str_eq(g->title, "Small Claim");
    cr_assert_str_eq(g->name, "test.guide");
    cr_assert_eq(g->balance, X12_BALANCE_837);
    cr_assert_eq(g->nloops, 3);
    cr_assert_eq(g->nsegs, 9);
    cr_assert_eq(g->max_depth, 2);
    /* root: ST BHT 1000A 2000A SE */
    cr_assert_eq(g->root.nchild, 5);
    cr_assert_null(g->root.id);
    cr_assert_str_eq(g->root.child[0].seg->tag, "ST");
    cr_assert_str_eq(g->root.child[2].loop->id, "1000A");
    cr_assert_str_eq(g->root.child[4].seg->tag, "SE");
    const x12_gloop *c = x12_guide_find_loop(g, "2300");
    cr_assert(c);
    cr_assert_str_eq(c->name, "Claim");
    cr_assert_eq(c->usage, 'S');
    cr_assert_eq(c->max, 100);
    cr_assert_str_eq(c->parent->id, "2000A");
    cr_assert_eq(c->depth, 2);
    cr_assert_str_eq(c->trigger->tag, "CLM");
    cr_assert_eq(x12_guide_find_loop(g, "2000A")->max, 0, ">1 is unbounded");
    cr_assert(x12_guide_find_loop(g, "2000A")->is_hl);
    cr_assert_not(c->is_hl);
    cr_assert_null(x12_guide_find_loop(g, "9999"));
    x12_guide_free(g);
}

Test(guide, parses_elements_keys_and_syntax)
{
    x12_guide *g = vd_guide(small_guide);
    const x12_gloop *c = x12_guide_find_loop(g, "2300");
    const x12_gseg *clm = x12_guide_find_seg(g, c, "CLM");
    cr_assert_eq(clm->nel, 5);
    cr_assert_null(clm->el[1], "unlisted elements are not used");
    cr_assert_eq(clm->el[2]->type, X12_GT_R);
    cr_assert_eq(clm->el[2]->min, 1);
    cr_assert_eq(clm->el[2]->max, 18);
    const x12_gelem *loc = clm->el[5];
    cr_assert_eq(loc->type, X12_GT_C);
    cr_assert_eq(loc->reps, 2);
    cr_assert_eq(loc->ncomp, 3);
    cr_assert_null(loc->comp[2]);
    cr_assert_eq(loc->comp[3]->codes.n, 3);
    cr_assert(x12_gcodes_has(&loc->comp[3]->codes, "7", 1));
    cr_assert_not(x12_gcodes_has(&loc->comp[3]->codes, "2", 1));
    cr_assert_eq(loc->nreq, 2);
    cr_assert_eq(clm->nreq, 2);
    const x12_gseg *hi = x12_guide_find_seg(g, c, "HI");
    cr_assert_eq(hi->key_el, 1);
    cr_assert_eq(hi->key_comp, 1);
    cr_assert_eq(hi->key.n, 2);
    cr_assert_eq(hi->el[1]->comp[2]->check, X12_CHECK_HI);
    const x12_gseg *ref = x12_guide_find_seg(g, c, "REF");
    cr_assert_str_eq(ref->key.v[0].s, "F8");
    cr_assert_eq(ref->max, 1);
    cr_assert_eq(c->child[ref->index + 1].seg->max, 0);
    const x12_gseg *nm1 = x12_guide_find_seg(g, x12_guide_find_loop(g, "1000A"), "NM1");
    cr_assert_eq(nm1->nsyntax, 2);
    cr_assert_eq(nm1->syntax[0].kind, 'P');
    cr_assert_eq(nm1->syntax[1].pos[0], 11);
    cr_assert_eq(nm1->maxpos, 11, "syntax notes name positions too");
    cr_assert_eq(x12_guide_find_seg(g, NULL, "BHT")->el[4]->check, X12_CHECK_DATE);
    cr_assert_str_eq(x12_gcheck_name(X12_CHECK_NPI), "npi");
    cr_assert_str_eq(x12_gtype_name(clm->el[2]), "R");
    x12_guide_free(g);
}

Test(guide, resolves_rules_and_indexes)
{
    x12_guide *g = vd_guide(small_guide);
    const x12_gloop *c = x12_guide_find_loop(g, "2300");
    cr_assert_eq(c->nrule, 2);
    const x12_grule *r = &c->rule[0];
    cr_assert_str_eq(r->text, "frequency 7 or 8 needs REF*F8");
    cr_assert_eq(r->cond, X12_COND_EQ);
    cr_assert_str_eq(r->cond_ref, "CLM05-3");
    cr_assert_eq(r->need, 1);
    cr_assert_eq(r->target, X12_TARGET_SEG);
    cr_assert_str_eq(c->slot[r->cond_slot].tag, "CLM");
    cr_assert_eq(c->slot[r->cond_slot].el, 5);
    cr_assert_eq(c->slot[r->cond_slot].comp, 3);
    cr_assert_eq(c->slot[r->target_slot].kind, X12_SLOT_KEYED);
    cr_assert_str_eq(c->slot[r->target_slot].code.s, "F8");
    cr_assert_eq(c->rule[1].cond, X12_COND_PRESENT);
    cr_assert_eq(c->rule[1].target, X12_TARGET_EL);
    cr_assert_eq(c->nslot, 4);
    /* both REF entries watch the slots about REF; CLM watches its two */
    const x12_gseg *clm = x12_guide_find_seg(g, c, "CLM");
    cr_assert_eq(clm->nwatch, 2);
    /* tag index: both REF entries, ascending */
    unsigned n;
    const uint16_t *k = x12_gloop_candidates(c, x12_tag32("REF", 3), &n);
    cr_assert_eq(n, 2);
    cr_assert_lt(k[0], k[1]);
    cr_assert_null(x12_gloop_candidates(c, x12_tag32("N3", 2), &n));
    cr_assert_eq(n, 0);
    /* same-tag runs: the two REF share a group */
    cr_assert_eq(c->group[k[1]], k[0]);
    cr_assert(x12_guide_has_tag(g, x12_tag32("HI", 2)));
    cr_assert_not(x12_guide_has_tag(g, x12_tag32("SV1", 3)));
    x12_guide_free(g);
}

Test(guide, quoted_codes_hold_spaces)
{
    x12_guide *g = vd_guide("guide 999 005010X231A1 \"Ack\"\n"
                            "seg CTX S 9 \"Context\" key=01-1:\"SITUATIONAL TRIGGER\"\n"
                            "  el 01 R C \"Context\" reps=10\n"
                            "    comp 1 R AN 1 35 \"Name\" codes=\"A B\",C,\"D,E\"\n");
    const x12_gseg *ctx = x12_guide_find_seg(g, NULL, "CTX");
    cr_assert_eq(ctx->key.n, 1);
    cr_assert_str_eq(ctx->key.v[0].s, "SITUATIONAL TRIGGER");
    const x12_gcodes *codes = &ctx->el[1]->comp[1]->codes;
    cr_assert_eq(codes->n, 3);
    cr_assert_str_eq(codes->v[0].s, "A B");
    cr_assert_str_eq(codes->v[2].s, "D,E");
    cr_assert(x12_gcodes_has(codes, "D,E", 3));
    cr_assert(x12_gcodes_has(codes, "SITUATIONAL", 0) == 0);
    char buf[32];
    cr_assert_str_eq(x12_gcodes_str(codes, buf, sizeof buf), "A B, C or D,E");
    x12_guide_free(g);
}

/* A malformed table: the code, and the message starts "test.guide:LINE:"
 * and contains what. */
static void bad(const char *text, int line, const char *what)
{
    x12_guide *g = NULL;
    ch_error err = {0};
    ch_code rc = x12_guide_parse(text, strlen(text), "test.guide", &g, &err);
    cr_assert_eq(rc, CH_ERR_SYNTAX, "expected a syntax error for:\n%s", text);
    cr_assert_null(g);
    char prefix[32];
    if (line)
        snprintf(prefix, sizeof prefix, "test.guide:%d: ", line);
    else
        snprintf(prefix, sizeof prefix, "test.guide: ");
    cr_assert(!strncmp(err.msg, prefix, strlen(prefix)), "message '%s' should start '%s'", err.msg, prefix);
    cr_assert(strstr(err.msg, what), "message '%s' should say '%s'", err.msg, what);
}

#define HEAD "guide 837 005010X222A1 \"T\"\n"

Test(guide, rejects_malformed_tables)
{
    bad("", 0, "no guide line");
    bad("# only a comment\n", 0, "no guide line");
    bad("seg ST R 1 \"H\"\n", 1, "first statement must be the guide line");
    bad(HEAD "guide 835 005010X221A1 \"again\"\n", 2, "second guide line");
    bad("guide 83 005010X222A1 \"T\"\n", 1, "ST01");
    bad("guide 837 005010X222A1 T\n", 1, "double quotes");
    bad(HEAD "frobnicate 1\n", 2, "unknown statement 'frobnicate'");
    bad(HEAD "seg ST X 1 \"H\"\n", 2, "usage must be R, S or N");
    bad(HEAD "seg ST R 0 \"H\"\n", 2, "maximum use");
    bad(HEAD "seg ST R many \"H\"\n", 2, "maximum use");
    bad(HEAD "seg st R 1 \"H\"\n", 2, "not a segment tag");
    bad(HEAD "seg ST R 1 \"H\" key=1:X\n", 2, "key= must be");
    bad(HEAD "seg ST R 1 \"H\" size=3\n", 2, "unknown word 'size=3'");
    bad(HEAD "seg ST R 1 \"H\n", 2, "double quote is not closed");
    bad(HEAD "el 01 R AN 1 2 \"X\"\n", 2, "el line without a seg");
    bad(HEAD "loop 1000 R 1 \"L\"\n  seg NM1 R 1 \"N\"\n  end\nel 01 R AN 1 2 \"X\"\n", 5,
        "el line without a seg");
    bad(HEAD "seg ST R 1 \"H\"\n  el 1 R AN 1 2 \"X\"\n", 3, "two digits");
    bad(HEAD "seg ST R 1 \"H\"\n  el 01 R XX 1 2 \"X\"\n", 3, "unknown data type 'XX'");
    bad(HEAD "seg ST R 1 \"H\"\n  el 01 R AN 5 2 \"X\"\n", 3, "min and max");
    bad(HEAD "seg ST R 1 \"H\"\n  el 01 R AN 1 2 \"X\" check=luhn\n", 3, "unknown check 'luhn'");
    bad(HEAD "seg ST R 1 \"H\"\n  el 01 R AN 1 2 \"X\" reps=0\n", 3, "reps=");
    bad(HEAD "seg ST R 1 \"H\"\n  el 01 R AN 1 2 \"X\"\n  el 01 R AN 1 2 \"Y\"\n", 4,
        "el 01 of ST is listed twice (first at line 3)");
    bad(HEAD "seg ST R 1 \"H\"\n  comp 1 R AN 1 2 \"X\"\n", 3, "comp line without a composite");
    bad(HEAD "seg ST R 1 \"H\"\n  el 01 R C \"X\"\n  el 02 R AN 1 2 \"Y\"\n", 3,
        "composite el 01 has no comp lines");
    bad(HEAD "seg ST R 1 \"H\"\n  el 01 R C \"X\" codes=A\n", 3, "takes no codes=");
    bad(HEAD "seg ST R 1 \"H\"\n  el 01 R ID 1 2 \"X\" codes=A,,B\n", 3, "empty code");
    bad(HEAD "seg ST R 1 \"H\"\n  el 01 R ID 1 2 \"X\" codes=A,B,A\n", 3, "twice");
    bad(HEAD "seg ST R 1 \"H\"\n  syntax Q 01 02\n", 3, "syntax kind");
    bad(HEAD "seg ST R 1 \"H\"\n  syntax P 01\n", 3, "2 to 8 positions");
    bad(HEAD "end\n", 2, "end without an open loop");
    bad(HEAD "loop 1000 R 1 \"L\"\n  seg NM1 R 1 \"N\"\n", 2, "loop 1000 is never closed");
    bad(HEAD "loop 1000 R 1 \"L\"\n  loop 1100 R 1 \"M\"\n    seg N1 R 1 \"N\"\n  end\nend\n", 2,
        "must begin with a seg line");
    bad(HEAD "seg REF S 1 \"A\"\nseg REF S 1 \"B\"\n", 3, "needs a different key=");
    bad(HEAD "seg REF S 1 \"A\" key=01:EI,SY\n  el 01 R ID 2 3 \"Q\"\nseg REF S 1 \"B\" key=01:SY\n"
             "  el 01 R ID 2 3 \"Q\"\n",
        4, "overlap");
    bad(HEAD "seg REF S 1 \"A\" key=02:X\n  el 01 R ID 2 3 \"Q\"\nseg SE R 1 \"T\"\n", 2,
        "key element 02 is not listed");
    bad(HEAD "loop 1000 R 1 \"L\"\n  seg NM1 R 1 \"N\" key=01:41\n    el 01 R ID 2 3 \"E\"\n"
             "  loop 1100 S 1 \"M\"\n    seg NM1 R 1 \"P\"\n    end\n  end\n",
        6, "needs a different key=");
    bad(HEAD "balance 836\n", 2, "balance must be 837 or 835");
    bad(HEAD "loop 1000 R 1 \"L\"\n  seg N1 R 1 \"N\"\n  balance 837\n", 4, "top level");
    bad(HEAD "balance 837\nbalance 837\n", 3, "second balance");
}

Test(guide, rejects_malformed_rules)
{
    const char *loop = HEAD "loop 2300 R 1 \"Claim\"\n  seg CLM R 1 \"C\"\n    el 05 R AN 1 2 \"F\"\n"
                            "  seg REF S 1 \"R\" key=01:F8\n    el 01 R ID 2 3 \"Q\"\n";
    char t[1024];
    snprintf(t, sizeof t, "%s  rule \"x\" if BHT01 = 1 then need seg REF:F8\n  end\n", loop);
    bad(t, 7, "BHT, which is not a segment directly in loop 2300");
    snprintf(t, sizeof t, "%s  rule \"x\" if CLM05 = 1 then need loop 2400\n  end\n", loop);
    bad(t, 7, "rule target loop 2400 is not a child loop of 2300");
    snprintf(t, sizeof t, "%s  rule \"x\" if CLM05 = 1 then need seg N3\n  end\n", loop);
    bad(t, 7, "rule target seg N3 is not a segment directly");
    snprintf(t, sizeof t, "%s  rule \"x\" if CLM05 = 1 then need seg CLM:7\n  end\n", loop);
    bad(t, 7, "no CLM in loop 2300 has a key=");
    snprintf(t, sizeof t, "%s  rule \"x\" if CLM05 = 1 then need el CLM5\n  end\n", loop);
    bad(t, 7, "not an element reference");
    snprintf(t, sizeof t, "%s  rule \"x\" if CLM05 ~ 1 then need seg REF\n  end\n", loop);
    bad(t, 7, "rule condition must be");
    snprintf(t, sizeof t, "%s  rule \"x\" if CLM05 = 1 then want seg REF\n  end\n", loop);
    bad(t, 7, "need or forbid");
    snprintf(t, sizeof t, "%s  rule \"x\" if CLM05 = 1 then need file REF\n  end\n", loop);
    bad(t, 7, "seg, loop or el");
    snprintf(t, sizeof t, "%s  rule \"x\" when CLM05 = 1 then need seg REF\n  end\n", loop);
    bad(t, 7, "expected 'if'");
    snprintf(t, sizeof t, "%s  rule \"x\" if CLM05 = 1 need seg REF now\n  end\n", loop);
    bad(t, 7, "expected 'then");
}

Test(guide, rule_after_a_child_loop_and_at_top_level)
{
    x12_guide *g = vd_guide(HEAD "seg BPR R 1 \"P\"\n  el 04 R ID 1 3 \"M\"\n  el 05 S ID 1 3 \"F\"\n"
                                 "rule \"r\" if BPR04 != ACH then forbid el BPR05\n"
                                 "loop 2000 S >1 \"A\"\n  seg AK2 R 1 \"A\"\n    el 01 R ID 3 3 \"S\"\n"
                                 "  loop 2100 S >1 \"E\"\n    seg IK3 R 1 \"E\"\n      el 01 R ID 2 3 \"I\"\n"
                                 "    end\n"
                                 "  seg IK5 R 1 \"T\"\n    el 01 R ID 1 1 \"A\"\n    el 02 S ID 1 3 \"C\"\n"
                                 "  rule \"r2\" if IK501 = R then need el IK502\n"
                                 "  end\n");
    cr_assert_eq(g->root.nrule, 1);
    cr_assert_eq(g->root.rule[0].cond, X12_COND_NE);
    const x12_gloop *l = x12_guide_find_loop(g, "2000");
    cr_assert_eq(l->nchild, 3);
    cr_assert_str_eq(l->child[2].seg->tag, "IK5");
    cr_assert_eq(l->nrule, 1);
    x12_guide_free(g);
}

/* ---- registry ------------------------------------------------------------ */

Test(registry, families_by_version)
{
    cr_assert_str_eq(x12_guide_family("837", "005010X222A1"), "837p");
    cr_assert_str_eq(x12_guide_family("837", "005010X222A2"), "837p");
    cr_assert_str_eq(x12_guide_family("837", "005010X222"), "837p");
    cr_assert_str_eq(x12_guide_family("837", "005010X222B7"), "837p", "837: by prefix");
    cr_assert_str_eq(x12_guide_family("837", "005010X223A3"), "837i");
    cr_assert_str_eq(x12_guide_family("837", "005010X223"), "837i");
    cr_assert_str_eq(x12_guide_family("835", "005010X221A1"), "835");
    cr_assert_str_eq(x12_guide_family("999", "005010X231"), "999");
    cr_assert_str_eq(x12_guide_family("999", "005010X231A1"), "999");
    cr_assert_str_eq(x12_guide_family("277", "005010X214"), "277ca");
    cr_assert_str_eq(x12_guide_family(NULL, "005010X214"), "277ca");
    cr_assert_null(x12_guide_family("835", "005010X222A1"), "ST01 must match");
    cr_assert_null(x12_guide_family("837", "005010"));
    cr_assert_null(x12_guide_family("837", "004010X098A1"));
    cr_assert_null(x12_guide_family("277", "005010X212"));
    cr_assert_null(x12_guide_family("837", ""));
    cr_assert_null(x12_guide_family("837", NULL));
}

Test(registry, accepts_errata_variants_of_its_own_family)
{
    x12_guide *g = vd_guide(small_guide);
    cr_assert(x12_guide_accepts(g, "005010X222A1"));
    cr_assert(x12_guide_accepts(g, "005010X222A2"));
    cr_assert(x12_guide_accepts(g, "005010X222"));
    cr_assert_not(x12_guide_accepts(g, "005010X223A2"));
    cr_assert_not(x12_guide_accepts(g, "005010"));
    x12_guide_free(g);
    g = vd_guide("guide 999 005010X999 \"Toy\"\nseg ST R 1 \"H\"\n");
    cr_assert(x12_guide_accepts(g, "005010X999"));
    cr_assert_not(x12_guide_accepts(g, "005010X9"));
    x12_guide_free(g);
}

Test(registry, lookup_says_why_there_is_none)
{
    const x12_guide *g = (const x12_guide *)1;
    ch_error err = {0};
    cr_assert_eq(x12_guide_lookup("837", "005010", &g, &err), CH_ERR_NOTFOUND);
    cr_assert_null(g);
    cr_assert(strstr(err.msg, "no implementation guide for version '005010'"), "%s", err.msg);
    cr_assert_eq(x12_guide_lookup("835", "005010X222A1", &g, &err), CH_ERR_NOTFOUND);
    cr_assert(strstr(err.msg, "is a guide for transaction set 837, not 835"), "%s", err.msg);
    cr_assert_null(x12_guide_for("270", "005010X279A1"));
    cr_assert_not(x12_guide_knows_st01("270"));
}

/* The tables compiled in: each one present must load, and be found by its
 * versions.  (They are written separately; absent ones are skipped.) */
Test(registry, embedded_guides_load_and_are_cached)
{
    static const struct {
        const char *file, *st01, *versions[4];
    } t[] = {
        {"837p.guide", "837", {"005010X222A1", "005010X222A2", "005010X222", NULL}},
        {"837i.guide", "837", {"005010X223A2", "005010X223A3", "005010X223A1", "005010X223"}},
        {"835.guide", "835", {"005010X221A1", NULL}},
        {"999.guide", "999", {"005010X231A1", "005010X231", NULL}},
        {"277ca.guide", "277", {"005010X214", NULL}},
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        if (!embedded_find(t[i].file))
            continue;
        const x12_guide *first = NULL;
        for (int k = 0; k < 4 && t[i].versions[k]; k++) {
            const x12_guide *g = NULL;
            ch_error err = {0};
            ch_code rc = x12_guide_lookup(t[i].st01, t[i].versions[k], &g, &err);
            cr_assert_eq(rc, CH_OK, "%s: %s", t[i].file, err.msg);
            cr_assert_str_eq(g->st01, t[i].st01);
            cr_assert_str_eq(g->name, t[i].file);
            if (first)
                cr_assert_eq(g, first, "the registry caches one guide per family");
            first = g;
        }
        cr_assert(x12_guide_knows_st01(t[i].st01));
    }
    x12_guide_registry_free();
    x12_guide_registry_free(); /* twice is harmless */
}
