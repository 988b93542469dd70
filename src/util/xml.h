/* SPDX-License-Identifier: MIT */
/*
 * XML for the library (Salesforce's SOAP outbound messages), over libxml2, parsed safely: no
 * network (XML_PARSE_NONET), no DTD loaded or accepted, no entity substitution, a size and a
 * nesting limit enforced while parsing, XML_PARSE_HUGE never. A document with a DOCTYPE is
 * refused at the DOCTYPE, before any of its declarations is read, so that neither a
 * billion-laughs body nor an external entity (file:///etc/passwd, http://...) costs more than
 * its bytes. libxml2 is initialised once (thread-safely) and never cleaned up, and no global
 * handler of libxml2 is touched: a host process may use libxml2 itself. Private to the library.
 *
 * The helpers below match elements and attributes by LOCAL name: namespace prefixes vary from
 * sender to sender (sf:, sf1:, none).
 */
#ifndef FASTEPOST_UTIL_XML_H
#define FASTEPOST_UTIL_XML_H

#include <libxml/tree.h>
#include <stdbool.h>
#include <stddef.h>

/* Default nesting limit: a SOAP notification is 6 elements deep; 32 leaves room for wrappers. */
#define FASTEPOST__XML_DEFAULT_DEPTH 32

/*
 * Parse [data, data+len) as one XML document (UTF-8, an optional byte order mark). Refused
 * with FASTEPOST_ETOOBIG when len exceeds max_bytes; with FASTEPOST_EPARSE when the bytes are
 * not valid UTF-8 (the message names the byte offset), not well-formed XML (line and libxml2's
 * reason), carry a DOCTYPE (DTDs and entity declarations are never accepted), or nest elements
 * deeper than max_depth (0: FASTEPOST__XML_DEFAULT_DEPTH). `what` names the input in messages
 * ("the Salesforce message"). On success *out is the document, freed with
 * fastepost__xml_free(); on failure *out is NULL and the error is set.
 */
int fastepost__xml_parse(xmlDoc **out, const void *data, size_t len, size_t max_bytes, unsigned max_depth,
                         const char *what);
/* Release a document (NULL is fine). */
void fastepost__xml_free(xmlDoc *doc);

/* Whether n is an element with local name `local` (any namespace, any prefix). */
bool fastepost__xml_is(const xmlNode *n, const char *local);
/* The first element child of parent with local name `local` (NULL: any element), or NULL. */
xmlNode *fastepost__xml_child(const xmlNode *parent, const char *local);
/* The next element sibling after n with local name `local` (NULL: any element), or NULL. */
xmlNode *fastepost__xml_next(const xmlNode *n, const char *local);
/* The number of element children of parent with local name `local`. */
size_t fastepost__xml_count(const xmlNode *parent, const char *local);
/* The value of n's attribute with local name `local` (any namespace), as a malloc'd string;
 * NULL when absent or out of memory (*oom set then, when oom is not NULL). */
char *fastepost__xml_attr(const xmlNode *n, const char *local, bool *oom);
/* Whether n carries xsi:nil="true" (or "1"), the XML Schema way of saying "null". */
bool fastepost__xml_nil(const xmlNode *n);
/* The text content of n (all descendant text, as the document holds it) as a malloc'd string;
 * NULL when out of memory (error set). */
char *fastepost__xml_text(const xmlNode *n);

#endif
