/* SPDX-License-Identifier: MIT */
/* Customer normalisation (src/normalize.h): one rule, the same verdict and the same stored form
 * whichever path a value takes: a CRM record's fact (Odoo and any adapter that fills facts), a
 * versioned property (HubSpot), the CSV import's model rule. Byte-wise, so the same under every
 * locale: the suite also runs under de_DE and tr_TR (tests/CMakeLists.txt), and switches to
 * them itself where they are installed. */
#include <criterion/criterion.h>
#include <locale.h>
#include <string.h>

#include "normalize.h"
#include "sync.h"
#include "validate.h"

typedef struct email_case {
  const char *in;
  const char *stored; /* the normal form, or NULL: not an address (stored as no email) */
} email_case;

static const email_case emails[] = {
    {"jane@example.com", "jane@example.com"},
    {"  Jane.Doe@Example.COM\t", "jane.doe@example.com"},
    {"JANE.IVY@EXAMPLE.IT", "jane.ivy@example.it"}, /* 'I' -> 'i' also under tr_TR */
    {"ÖZLEM@Örnek.com.tr", "Özlem@Örnek.com.tr"},   /* non-ASCII kept as it is */
    {"a+tag@sub.example.de", "a+tag@sub.example.de"},
    {"a@b", NULL},          /* no dot in the domain */
    {"a b@c.de", NULL},     /* space inside */
    {"@c.de", NULL},        /* empty local part */
    {"a@@c.de", NULL},      /* two @ */
    {"a@c.de@d.de", NULL},  /* two @ */
    {"a@.c.de", NULL},      /* domain starts with a dot */
    {"a@c.de.", NULL},      /* domain ends with a dot */
    {"a@", NULL},           /* no domain */
    {"noatsign.de", NULL},  /* no @ */
    {"a,b@c.de", NULL},     /* a list */
    {"a;b@c.de", NULL},     /* a list (Odoo refused it, CSV did not) */
    {"(a)@c.de", NULL},     /* a comment (Odoo refused it, CSV did not) */
    {"\"a\"@c.de", NULL},   /* quoting */
    {"a\\b@c.de", NULL},    /* quoting */
    {"a:b@c.de", NULL},
    {"[a]@c.de", NULL},
    {"a\x7f@c.de", NULL},   /* DEL (CSV refused it, Odoo did not) */
    {"a\x01@c.de", NULL},   /* a control character */
    {"Jane <jane@c.de>", NULL}, /* a display name: extracting the address is the adapter's job */
};
#define NEMAILS (sizeof emails / sizeof emails[0])

/* The verdict and stored form through a record's email fact (what every adapter fills). */
static const char *via_fact(const char *in, char *warning, size_t wsize) {
  static char stored[256];
  fastepost__sync_record rec;
  fastepost__sync_record_init(&rec, "test");
  cr_assert_eq(fastepost__fact_set(&rec.facts.email, in), FASTEPOST_OK);
  cr_assert_eq(fastepost__sync_normalize(&rec), FASTEPOST_OK);
  const char *out = NULL;
  if (rec.facts.email.state == FASTEPOST__FACT_VALUE) {
    snprintf(stored, sizeof stored, "%s", rec.facts.email.value);
    out = stored;
  } else {
    cr_assert_eq(rec.facts.email.state, FASTEPOST__FACT_EMPTY, "%s", in);
  }
  snprintf(warning, wsize, "%s", rec.warnings.count ? rec.warnings.items[0] : "");
  cr_assert(rec.warnings.count <= 1);
  /* Normalising again changes nothing and warns no more (the batch may replay a record). */
  cr_assert_eq(fastepost__sync_normalize(&rec), FASTEPOST_OK);
  cr_assert(rec.warnings.count <= 1);
  if (out)
    cr_assert_str_eq(rec.facts.email.value, out);
  fastepost__sync_record_clear(&rec);
  return out;
}

/* The same through a versioned property feeding the email column (HubSpot's propertyChange). */
static const fastepost__prop_def props[] = {{"email", FASTEPOST__COL_EMAIL}, {"phone", FASTEPOST__COL_PHONE}};

static const char *via_property(const char *in) {
  static char stored[256];
  fastepost__sync_record rec;
  fastepost__sync_record_init(&rec, "test");
  rec.prop_defs = props;
  rec.nprops = 2;
  cr_assert_eq(fastepost__fact_set(&rec.props[0], in), FASTEPOST_OK);
  cr_assert_eq(fastepost__sync_normalize(&rec), FASTEPOST_OK);
  const char *out = NULL;
  if (rec.props[0].state == FASTEPOST__FACT_VALUE) {
    snprintf(stored, sizeof stored, "%s", rec.props[0].value);
    out = stored;
  } else {
    cr_assert_eq(rec.warnings.count, 1, "an invalid property is reported: %s", in);
    cr_assert(strstr(rec.warnings.items[0], "email \""), "%s", rec.warnings.items[0]);
  }
  fastepost__sync_record_clear(&rec);
  return out;
}

/* The same through the CSV import's model rule and normal form. */
static const char *via_csv(const char *in, bool *valid) {
  static char stored[256];
  *valid = fastepost__model_check("customers", "email", in, strlen(in)) == NULL;
  fastepost__buf b = FASTEPOST__BUF_INIT;
  cr_assert(fastepost__model_normalize(&b, "customers", "email", in, strlen(in)));
  cr_assert(!b.oom);
  snprintf(stored, sizeof stored, "%s", fastepost__buf_cstr(&b));
  fastepost__buf_free(&b);
  return *valid ? stored : NULL;
}

static void check_every_path(const char *locale) {
  for (size_t i = 0; i < NEMAILS; i++) {
    const email_case *c = &emails[i];
    char warning[512];
    const char *fact = via_fact(c->in, warning, sizeof warning);
    const char *prop = via_property(c->in);
    bool csv_valid;
    const char *csv = via_csv(c->in, &csv_valid);
    bool direct = fastepost__email_check(c->in, strlen(c->in)) == NULL;
    if (c->stored) {
      cr_assert(direct, "[%s] %s: an address", locale, c->in);
      cr_assert_str_eq(fact, c->stored, "[%s] fact path", locale);
      cr_assert_str_eq(prop, c->stored, "[%s] property path", locale);
      cr_assert(csv_valid, "[%s] CSV path accepts %s", locale, c->in);
      cr_assert_str_eq(csv, c->stored, "[%s] CSV normal form", locale);
      cr_assert_str_eq(warning, "", "[%s] %s: no warning", locale, c->in);
    } else {
      cr_assert(!direct, "[%s] %s: not an address", locale, c->in);
      cr_assert_null(fact, "[%s] fact path refuses %s", locale, c->in);
      cr_assert_null(prop, "[%s] property path refuses %s", locale, c->in);
      cr_assert(!csv_valid, "[%s] CSV path refuses %s", locale, c->in);
      cr_assert(strstr(warning, "is not an email address: stored as empty"), "[%s] %s", locale, warning);
    }
  }
}

Test(normalize, email_same_verdict_on_every_path) {
  check_every_path(setlocale(LC_ALL, NULL));
}

/* Each test runs in a process of its own, so switching the locale here leaks nowhere. */
Test(normalize, email_same_verdict_under_de_DE_and_tr_TR) {
  static const char *const locales[] = {"de_DE.UTF-8", "tr_TR.UTF-8", "tr_TR.utf8", "de_DE.utf8"};
  int tried = 0;
  for (size_t i = 0; i < sizeof locales / sizeof locales[0]; i++) {
    if (!setlocale(LC_ALL, locales[i]))
      continue;
    tried++;
    check_every_path(locales[i]);
  }
  setlocale(LC_ALL, "C");
  check_every_path("C");
  cr_log_info("checked under %d of the test locales besides C", tried);
}

Test(normalize, empty_email_means_no_email) {
  fastepost__sync_record rec;
  fastepost__sync_record_init(&rec, "test");
  fastepost__fact_set(&rec.facts.email, " \t ");
  cr_assert_eq(fastepost__sync_normalize(&rec), FASTEPOST_OK);
  cr_assert_eq(rec.facts.email.state, FASTEPOST__FACT_EMPTY);
  cr_assert_eq(rec.warnings.count, 0);
  fastepost__sync_record_clear(&rec);
  /* The CSV import has NULL for "no email": an empty string is refused there. */
  cr_assert_not_null(fastepost__model_check("customers", "email", "", 0));
  cr_assert_null(fastepost__model_check("customers", "email", NULL, 0));
}

Test(normalize, phone) {
  static const struct {
    const char *in, *out;
  } cases[] = {
      {"+49 30 1234", "+49 30 1234"},
      {"  +49  30\t1234 \n", "+49 30 1234"},
      {"030/1234-5 ext. 12", "030/1234-5 ext. 12"},
      {"(030) 1234", "(030) 1234"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    fastepost__sync_record rec;
    fastepost__sync_record_init(&rec, "test");
    rec.prop_defs = props;
    rec.nprops = 2;
    fastepost__fact_set(&rec.facts.phone, cases[i].in);
    fastepost__fact_set(&rec.props[1], cases[i].in);
    cr_assert_eq(fastepost__sync_normalize(&rec), FASTEPOST_OK);
    cr_assert_str_eq(rec.facts.phone.value, cases[i].out);
    cr_assert_str_eq(rec.props[1].value, cases[i].out);
    fastepost__buf b = FASTEPOST__BUF_INIT;
    cr_assert(fastepost__model_normalize(&b, "customers", "phone", cases[i].in, strlen(cases[i].in)));
    cr_assert_str_eq(fastepost__buf_cstr(&b), cases[i].out);
    fastepost__buf_free(&b);
    fastepost__sync_record_clear(&rec);
  }
  fastepost__sync_record rec;
  fastepost__sync_record_init(&rec, "test");
  fastepost__fact_set(&rec.facts.phone, "   ");
  cr_assert_eq(fastepost__sync_normalize(&rec), FASTEPOST_OK);
  cr_assert_eq(rec.facts.phone.state, FASTEPOST__FACT_EMPTY);
  fastepost__sync_record_clear(&rec);
}

Test(normalize, other_columns_have_no_normal_form) {
  fastepost__buf b = FASTEPOST__BUF_INIT;
  cr_assert(!fastepost__model_normalize(&b, "customers", "name", " X ", 3));
  cr_assert(!fastepost__model_normalize(&b, "tasks", "email", "A@B.DE", 6));
  cr_assert(!fastepost__model_normalize(&b, "customers", "email", NULL, 0));
  cr_assert_eq(b.len, 0);
  fastepost__buf_free(&b);
}
