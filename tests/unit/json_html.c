/* SPDX-License-Identifier: MIT */
/* util/json and util/html: no database. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "util/html.h"
#include "util/json.h"
#include "util/digest.h"

static char *canonical(const char *text) {
  json_object *o = NULL;
  cr_assert_eq(fastepost__json_parse(&o, text, strlen(text), 32), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  fastepost__buf b = FASTEPOST__BUF_INIT;
  fastepost__json_canonical(&b, o);
  json_object_put(o);
  return fastepost__buf_detach(&b);
}

static int parse_fails(const char *text, size_t len, int depth) {
  json_object *o = NULL;
  int rc = fastepost__json_parse(&o, text, len, depth);
  cr_assert_null(o);
  return rc;
}

Test(json_html, canonical_sorts_keys_and_decodes_escapes) {
  char *c = canonical("{\"b\": 1, \"a\": [true, false, null, 60.0], \"_id\": \"\\u00fc\\ud83c\\udf1f\"}");
  cr_assert_str_eq(c, "{\"_id\":\"\xc3\xbc\xf0\x9f\x8c\x9f\",\"a\":[true,false,null,60.0],\"b\":1}");
  free(c);
  /* jsonb cannot hold U+0000: it becomes U+FFFD */
  c = canonical("{\"x\": \"a\\u0000b\\n\"}");
  cr_assert_str_eq(c, "{\"x\":\"a\xef\xbf\xbd" "b\\n\"}");
  free(c);
}

Test(json_html, errors_name_the_byte_offset) {
  const char *truncated = "{\"_id\": 42, \"name\": \"J";
  cr_assert_eq(parse_fails(truncated, strlen(truncated), 32), FASTEPOST_EPARSE);
  cr_assert(strstr(fastepost_error_last()->message, "byte 22"), "%s", fastepost_error_last()->message);
  const char *bad = "{\"a\": 1,, \"b\": 2}";
  cr_assert_eq(parse_fails(bad, strlen(bad), 32), FASTEPOST_EPARSE);
  cr_assert(strstr(fastepost_error_last()->message, "byte 8"), "%s", fastepost_error_last()->message);
  const char *trailing = "{\"a\": 1} x";
  cr_assert_eq(parse_fails(trailing, strlen(trailing), 32), FASTEPOST_EPARSE);
  cr_assert(strstr(fastepost_error_last()->message, "byte 9"), "%s", fastepost_error_last()->message);
  cr_assert_eq(parse_fails("", 0, 32), FASTEPOST_EPARSE);
}

Test(json_html, invalid_utf8_is_refused_before_parsing) {
  const char body[] = "{\"name\": \"M\xfcller\"}"; /* Latin-1, not UTF-8 */
  cr_assert_eq(parse_fails(body, sizeof body - 1, 32), FASTEPOST_EPARSE);
  cr_assert(strstr(fastepost_error_last()->message, "invalid UTF-8 at byte 11"), "%s",
            fastepost_error_last()->message);
}

Test(json_html, nesting_is_limited) {
  char deep[256] = "";
  for (int i = 0; i < 100; i++)
    strcat(deep, "[");
  for (int i = 0; i < 100; i++)
    strcat(deep, "]");
  cr_assert_eq(parse_fails(deep, strlen(deep), 32), FASTEPOST_EPARSE);
  cr_assert(strstr(fastepost_error_last()->message, "nested deeper than 32"), "%s",
            fastepost_error_last()->message);
  json_object *o = NULL;
  cr_assert_eq(fastepost__json_parse(&o, deep, strlen(deep), 200), FASTEPOST_OK);
  json_object_put(o);
}

static void html_is(const char *html, const char *text) {
  char *t = fastepost__html_to_text(html, strlen(html));
  cr_assert_not_null(t);
  cr_assert_str_eq(t, text, "html %s", html);
  free(t);
}

Test(json_html, html_to_text) {
  html_is("<p>Hello <b>World</b></p>", "Hello World");
  html_is("<p>one</p><p>two</p>", "one\n\ntwo");
  html_is("line<br>next<br/>last", "line\nnext\nlast");
  html_is("<ul><li>a</li><li>b</li></ul>", "a\nb");
  html_is("<div>x</div><div>y</div>", "x\ny");
  html_is("a&nbsp;&amp;&nbsp;b &lt;c&gt; &quot;d&quot; &#39;e&#39; &#x20AC; &#8364; &euro;",
          "a & b <c> \"d\" 'e' \xe2\x82\xac \xe2\x82\xac \xe2\x82\xac");
  html_is("  lots \n\t of   space  ", "lots\nof space");
  html_is("<p><br></p>", "");
  html_is("<p>&nbsp;</p>", "");
  html_is("", "");
  html_is("<script>alert(1)</script><style>p{}</style>ok", "ok");
  html_is("<!-- hidden -->shown", "shown");
  html_is("<a href=\"x>y\">link</a>", "link");
  html_is("plain\ntext\n\n\n\nkept", "plain\ntext\n\nkept");
  html_is("x\xc2\xa0y", "x y");
  html_is("<table><tr><td>a</td><td>b</td></tr><tr><th>c</th><td>d</td></tr></table>", "a b\nc d");
  html_is("<p style=\"margin:0px\" data-oe-version=\"1.2\">Hallo <span class=\"x\">Welt</span></p>", "Hallo Welt");
}

Test(json_html, html_is_safe_on_malformed_markup) {
  html_is("a < b and c > d", "a < b and c > d");
  html_is("<p>unterminated <b", "unterminated");
  html_is("&unknown; &amp &#; &#xZZ; &", "&unknown; &amp &#; &#xZZ; &");
  html_is("&#0; &#xD800; &#1114112;", "\xef\xbf\xbd \xef\xbf\xbd \xef\xbf\xbd");
  html_is("<", "<");
  html_is("<!-- never closed", "");
  html_is("<script>never closed", "");
}

Test(json_html, sha256_matches_known_digest) {
  char hex[65];
  const char *parts[] = {"abc"};
  size_t lens[] = {3};
  cr_assert_eq(fastepost__sha256_hex(hex, 1, parts, lens), FASTEPOST_OK);
  /* sha256("abc\0") */
  cr_assert_str_eq(hex, "dc1114cd074914bd872cc1f9a23ec910ea2203bc79779ab2e17da25782a624fc");
  const char *p2[] = {"ab", "c"}, *p3[] = {"a", "bc"};
  size_t l2[] = {2, 1}, l3[] = {1, 2};
  char h2[65], h3[65];
  fastepost__sha256_hex(h2, 2, p2, l2);
  fastepost__sha256_hex(h3, 2, p3, l3);
  cr_assert_str_neq(h2, h3);
  cr_assert_eq(strlen(h2), 64);
}

Test(json_html, nan_and_infinity_are_not_json_but_huge_numbers_are) {
  const char *nan = "{\"a\": \"NaN in a string\", \"b\": NaN}";
  cr_assert_eq(parse_fails(nan, strlen(nan), 32), FASTEPOST_EPARSE);
  cr_assert(strstr(fastepost_error_last()->message, "byte 30"), "%s", fastepost_error_last()->message);
  const char *inf = "[1, -Infinity]";
  cr_assert_eq(parse_fails(inf, strlen(inf), 32), FASTEPOST_EPARSE);
  char *c = canonical("{\"x\": 1e999, \"y\": 2.5E3, \"z\": null}");
  cr_assert_str_eq(c, "{\"x\":1e999,\"y\":2.5E3,\"z\":null}", "kept as written, so jsonb can store it");
  free(c);
}

Test(json_html, extensions_json_c_tolerates_are_refused) {
  static const struct {
    const char *text;
    size_t offset;
  } bad[] = {
      {"{'a': 1}", 1},          /* single-quoted key */
      {"{\"a\": 'x'}", 6},      /* single-quoted string */
      {"[1, 2,]", 6},           /* trailing comma */
      {"{\"a\": 01}", 7},       /* leading zero */
      {"{\"a\": \"\\x41\"}", 8}, /* bad escape */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    json_object *o = NULL;
    cr_assert_eq(fastepost__json_parse(&o, bad[i].text, strlen(bad[i].text), 0), FASTEPOST_EPARSE,
                 "%s", bad[i].text);
    cr_assert_null(o);
    char want[64];
    snprintf(want, sizeof want, "at byte %zu:", bad[i].offset);
    cr_assert(strstr(fastepost_error_last()->message, want), "%s: %s", bad[i].text,
              fastepost_error_last()->message);
  }
  /* What jsonb cannot store is refused only when asked (the webhook path replaces U+0000). */
  cr_assert_not_null(fastepost__json_check("\"a\\u0000\"", 9, true, NULL));
  cr_assert_null(fastepost__json_check("\"a\\u0000\"", 9, false, NULL));
  cr_assert_null(fastepost__json_check(" {\"a\":[1,-2.5e3,true,false,null,{}]} ", 37, false, NULL));
}

/* Found by fuzz_json: a top-level number at the very end of the input was "ends early". */
Test(json_html, top_level_number_at_end_of_input) {
  json_object *o = NULL;
  cr_assert_eq(fastepost__json_parse(&o, "2", 1, 8), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert_eq(json_object_get_int(o), 2);
  json_object_put(o);
  cr_assert_eq(fastepost__json_parse(&o, "-1.5e3", 6, 8), FASTEPOST_OK);
  json_object_put(o);
  cr_assert_eq(fastepost__json_parse(&o, "-", 1, 8), FASTEPOST_EPARSE);
  cr_assert_eq(fastepost__json_parse(&o, "{\"a\":1", 6, 8), FASTEPOST_EPARSE);
  fastepost__buf b = FASTEPOST__BUF_INIT;
  cr_assert_eq(fastepost__json_parse(&o, "{}", 2, 8), FASTEPOST_OK);
  cr_assert_eq(fastepost__json_canonical(&b, o), FASTEPOST_OK);
  cr_assert_eq(b.len, 2);
  fastepost__buf_free(&b);
  json_object_put(o);
}
