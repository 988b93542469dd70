/* SPDX-License-Identifier: MIT */
/* Value checks used by the import and by export filters (no database). */
#include <criterion/criterion.h>
#include <locale.h>
#include <string.h>

#include "validate.h"

static const char *check(unsigned int oid, int typmod, const char *s) {
  fastepost__column c;
  memset(&c, 0, sizeof c);
  c.base_oid = oid;
  c.base_typmod = typmod;
  return fastepost__value_check(&c, s, strlen(s));
}

#define OK(oid, typmod, s) cr_assert_null(check(oid, typmod, s), "%s should pass: %s", s, check(oid, typmod, s))
#define BAD(oid, typmod, s) cr_assert_not_null(check(oid, typmod, s), "%s should fail", s)

Test(transfer_validate, integers_and_ranges) {
  OK(FASTEPOST__INT2OID, -1, "-32768");
  OK(FASTEPOST__INT2OID, -1, " 32767 ");
  BAD(FASTEPOST__INT2OID, -1, "32768");
  OK(FASTEPOST__INT4OID, -1, "+2147483647");
  BAD(FASTEPOST__INT4OID, -1, "-2147483649");
  OK(FASTEPOST__INT8OID, -1, "-9223372036854775808");
  OK(FASTEPOST__INT8OID, -1, "9223372036854775807");
  BAD(FASTEPOST__INT8OID, -1, "9223372036854775808");
  BAD(FASTEPOST__INT8OID, -1, "99999999999999999999999");
  BAD(FASTEPOST__INT4OID, -1, "");
  BAD(FASTEPOST__INT4OID, -1, "-");
  BAD(FASTEPOST__INT4OID, -1, "1.0");
  BAD(FASTEPOST__INT4OID, -1, "1 2");
  BAD(FASTEPOST__INT4OID, -1, "0x10");
}

Test(transfer_validate, numbers) {
  int n52 = ((5 << 16) | 2) + 4; /* numeric(5,2) */
  OK(FASTEPOST__NUMERICOID, n52, "123.45");
  OK(FASTEPOST__NUMERICOID, n52, "-0.001");
  OK(FASTEPOST__NUMERICOID, n52, "000123.4");
  BAD(FASTEPOST__NUMERICOID, n52, "1234.5");
  OK(FASTEPOST__NUMERICOID, -1, "1e300");
  OK(FASTEPOST__NUMERICOID, -1, ".5");
  OK(FASTEPOST__NUMERICOID, -1, "5.");
  OK(FASTEPOST__NUMERICOID, -1, "NaN");
  OK(FASTEPOST__FLOAT8OID, -1, "-Infinity");
  OK(FASTEPOST__FLOAT4OID, -1, "1.5E-3");
  BAD(FASTEPOST__NUMERICOID, -1, ".");
  BAD(FASTEPOST__NUMERICOID, -1, "1e");
  BAD(FASTEPOST__NUMERICOID, -1, "1,5");
  BAD(FASTEPOST__FLOAT8OID, -1, "abc");
}

Test(transfer_validate, booleans) {
  const char *ok[] = {"true", "FALSE", "t", "f", "1", "0", "yes", "No", "y", "n", "on", "off", " t "};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
    OK(FASTEPOST__BOOLOID, -1, ok[i]);
  BAD(FASTEPOST__BOOLOID, -1, "maybe");
  BAD(FASTEPOST__BOOLOID, -1, "2");
  BAD(FASTEPOST__BOOLOID, -1, "");
}

Test(transfer_validate, dates_and_timestamps) {
  OK(FASTEPOST__DATEOID, -1, "2024-02-29");
  OK(FASTEPOST__DATEOID, -1, "2000-02-29");
  BAD(FASTEPOST__DATEOID, -1, "1900-02-29");
  BAD(FASTEPOST__DATEOID, -1, "2023-02-29");
  BAD(FASTEPOST__DATEOID, -1, "2024-04-31");
  BAD(FASTEPOST__DATEOID, -1, "2024-13-01");
  BAD(FASTEPOST__DATEOID, -1, "24-01-01");
  BAD(FASTEPOST__DATEOID, -1, "2024/01/01");
  OK(FASTEPOST__DATEOID, -1, "0044-03-15 BC");
  OK(FASTEPOST__DATEOID, -1, "infinity");
  OK(FASTEPOST__TIMESTAMPOID, -1, "2024-01-02 03:04:05.123456");
  OK(FASTEPOST__TIMESTAMPOID, -1, "2024-01-02T03:04");
  OK(FASTEPOST__TIMESTAMPOID, -1, "2024-01-02");
  OK(FASTEPOST__TIMESTAMPOID, -1, "2024-01-02 24:00:00");
  OK(FASTEPOST__TIMESTAMPTZOID, -1, "2024-01-02 03:04:05+02");
  OK(FASTEPOST__TIMESTAMPTZOID, -1, "2024-01-02T03:04:05.5Z");
  OK(FASTEPOST__TIMESTAMPTZOID, -1, "2024-01-02 03:04:05-05:30");
  OK(FASTEPOST__TIMESTAMPTZOID, -1, "-infinity");
  BAD(FASTEPOST__TIMESTAMPOID, -1, "2024-01-02 24:00:01");
  BAD(FASTEPOST__TIMESTAMPOID, -1, "2024-01-02 12:60");
  BAD(FASTEPOST__TIMESTAMPOID, -1, "2024-01-02 12");
  BAD(FASTEPOST__TIMESTAMPOID, -1, "2024-01-02 12:00:00.");
  BAD(FASTEPOST__TIMESTAMPTZOID, -1, "2024-01-02 12:00+25");
  BAD(FASTEPOST__TIMESTAMPTZOID, -1, "yesterday");
}

/* Words and digits are matched byte-wise: under tr_TR strncasecmp() would not match "INFINITY"
 * to "infinity" (its 'I' folds to a dotless i), and a value's verdict must not follow the
 * locale. Each test runs in a process of its own, so the locale set here leaks nowhere. */
Test(transfer_validate, words_whatever_the_locale) {
  static const char *const locales[] = {"C", "tr_TR.UTF-8", "tr_TR.utf8", "de_DE.UTF-8"};
  for (size_t i = 0; i < sizeof locales / sizeof locales[0]; i++) {
    if (!setlocale(LC_ALL, locales[i]))
      continue;
    OK(FASTEPOST__DATEOID, -1, "INFINITY");
    OK(FASTEPOST__TIMESTAMPOID, -1, " -Infinity ");
    OK(FASTEPOST__DATEOID, -1, "0044-03-15 bc");
    OK(FASTEPOST__BOOLOID, -1, "TRUE");
    OK(FASTEPOST__NUMERICOID, -1, "-INF");
    OK(FASTEPOST__TIMESTAMPOID, -1, "2024-02-29 23:59:59");
    BAD(FASTEPOST__DATEOID, -1, "2024-02-3");
    BAD(FASTEPOST__DATEOID, -1, "2024-0");
    BAD(FASTEPOST__TIMESTAMPOID, -1, "2024-01-02 03:0");
    cr_assert_null(fastepost__model_check("customers", "email", "IVY@ISTANBUL.COM.TR", 19));
  }
}

Test(transfer_validate, uuids) {
  OK(FASTEPOST__UUIDOID, -1, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  OK(FASTEPOST__UUIDOID, -1, "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11");
  OK(FASTEPOST__UUIDOID, -1, "{a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11}");
  OK(FASTEPOST__UUIDOID, -1, "a0eebc999c0b4ef8bb6d6bb9bd380a11");
  OK(FASTEPOST__UUIDOID, -1, "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11");
  BAD(FASTEPOST__UUIDOID, -1, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1");
  BAD(FASTEPOST__UUIDOID, -1, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-");
  BAD(FASTEPOST__UUIDOID, -1, "-a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  BAD(FASTEPOST__UUIDOID, -1, "a0eebc99--9c0b-4ef8-bb6d-6bb9bd380a11");
  BAD(FASTEPOST__UUIDOID, -1, "g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
}

Test(transfer_validate, json_and_lengths) {
  OK(FASTEPOST__JSONOID, -1, "{\"a\": [1, 2.5, null, true]}");
  OK(FASTEPOST__JSONOID, -1, "1");
  OK(FASTEPOST__JSONOID, -1, "null");
  OK(FASTEPOST__JSONOID, -1, " \"x\" ");
  OK(FASTEPOST__JSONOID, -1, "{\"a\":\"\\u0000\"}");
  OK(FASTEPOST__JSONOID, -1, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[{}]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
  OK(FASTEPOST__JSONOID, -1, "{\"a\" : {\"b\": [1, -0.5e+3, \"\\u00e9\\n\"]}, \"c\": false}");
  BAD(FASTEPOST__JSONOID, -1, "[01]");
  BAD(FASTEPOST__JSONOID, -1, "[1.]");
  BAD(FASTEPOST__JSONOID, -1, "{\"a\" 1}");
  BAD(FASTEPOST__JSONOID, -1, "{\"a\":1,}");
  BAD(FASTEPOST__JSONOID, -1, "NaN");
  BAD(FASTEPOST__JSONOID, -1, "[1] [2]");
  BAD(FASTEPOST__JSONOID, -1, "\"\\x\"");
  BAD(FASTEPOST__JSONOID, -1, "tru");
  BAD(FASTEPOST__JSONBOID, -1, "{\"a\":\"\\u0000\"}");
  OK(FASTEPOST__JSONBOID, -1, "{\"a\":\"\\\\u0000\"}");
  BAD(FASTEPOST__JSONOID, -1, "{");
  BAD(FASTEPOST__JSONOID, -1, "{'a': 1}");
  BAD(FASTEPOST__JSONOID, -1, "[1,]");
  BAD(FASTEPOST__JSONOID, -1, "1 2");
  BAD(FASTEPOST__JSONOID, -1, "");
  OK(FASTEPOST__VARCHAROID, 3 + 4, "äöü");
  BAD(FASTEPOST__VARCHAROID, 3 + 4, "äöüß");
  OK(FASTEPOST__VARCHAROID, -1, "anything at all");
  OK(FASTEPOST__BPCHAROID, 2 + 4, "ab    ");
  BAD(FASTEPOST__BPCHAROID, 2 + 4, "abc");
  OK(FASTEPOST__TEXTOID, -1, "");
}

Test(transfer_validate, model_rules) {
  cr_assert_null(fastepost__model_check("customers", "email", "a@b.de", 6));
  cr_assert_null(fastepost__model_check("customers", "email", NULL, 0));
  cr_assert_not_null(fastepost__model_check("customers", "email", "a@b", 3));
  cr_assert_not_null(fastepost__model_check("customers", "email", "a b@c.de", 8));
  cr_assert_not_null(fastepost__model_check("customers", "email", "@c.de", 5));
  cr_assert_not_null(fastepost__model_check("customers", "email", "a@@c.de", 7));
  cr_assert_not_null(fastepost__model_check("customers", "email", "", 0));
  /* The rule of every CRM source (tests/unit/normalize.c): judged after trimming, stricter on
   * lists, comments and quoting than the import was alone. */
  cr_assert_null(fastepost__model_check("customers", "email", " A@B.DE ", 8));
  cr_assert_not_null(fastepost__model_check("customers", "email", "a;b@c.de", 8));
  cr_assert_not_null(fastepost__model_check("customers", "email", "(a)@c.de", 8));
  cr_assert_not_null(fastepost__model_check("tasks", "barcode", "", 0));
  cr_assert_null(fastepost__model_check("tasks", "barcode", "B", 1));
  cr_assert_null(fastepost__model_check("integration_events", "status", "dead", 4));
  cr_assert_not_null(fastepost__model_check("integration_events", "status", "Dead", 4));
  cr_assert_null(fastepost__model_check("other", "email", "x", 1));
}

Test(transfer_validate, format_and_operator_names) {
  fastepost_export_format f;
  cr_assert_eq(fastepost_export_format_parse(&f, "ndjson"), FASTEPOST_OK);
  cr_assert_eq(f, FASTEPOST_EXPORT_FORMAT_NDJSON);
  cr_assert_eq(fastepost_export_format_parse(&f, "xml"), FASTEPOST_EINVALID);
  cr_assert(strstr(fastepost_error_last()->message, "xml"), "%s", fastepost_error_last()->message);
  fastepost_export_filter_op op;
  cr_assert_eq(fastepost_export_filter_op_parse(&op, "<>"), FASTEPOST_OK);
  cr_assert_eq(op, FASTEPOST_EXPORT_FILTER_NE);
  cr_assert_eq(fastepost_export_filter_op_parse(&op, "ILIKE"), FASTEPOST_OK);
  cr_assert_eq(op, FASTEPOST_EXPORT_FILTER_ILIKE);
  cr_assert_eq(fastepost_export_filter_op_parse(&op, "is_null"), FASTEPOST_OK);
  cr_assert_eq(op, FASTEPOST_EXPORT_FILTER_IS_NULL);
  cr_assert_eq(fastepost_export_filter_op_parse(&op, "; drop"), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_export_filter_op_parse(&op, NULL), FASTEPOST_EINVALID);
}
