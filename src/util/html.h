/* SPDX-License-Identifier: MIT */
/*
 * HTML to plain text for CRM note fields (Odoo partner `comment`, lead `description`): tags
 * stripped, block elements turned into line breaks, entities decoded (named, decimal and hex),
 * &nbsp; and U+00A0 turned into spaces, runs of white space collapsed, at most one blank line in
 * a row, no leading or trailing space. Text without any `<` keeps its own line breaks. Safe on
 * malformed markup: an unterminated tag or entity is dropped or kept as text, never read past
 * the end.
 */
#ifndef FASTEPOST_UTIL_HTML_H
#define FASTEPOST_UTIL_HTML_H

#include <stddef.h>

/* The plain text of [html, html+len) as a new string (free with free()); "" when the markup
 * holds no text. NULL (ENOMEM recorded) when out of memory. */
char *fastepost__html_to_text(const char *html, size_t len);

#endif
