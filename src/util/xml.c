/* SPDX-License-Identifier: MIT */
/*
 * Safe XML parsing over libxml2 (util/xml.h). The parser runs with a SAX handler of our own
 * on top of libxml2's tree builder: a DOCTYPE, an entity declaration or a reference to an
 * undeclared entity stops it on the spot, and so does an element nested deeper than the limit,
 * so no hostile document is ever expanded or built. Errors go to a handler on the parser
 * context, never to libxml2's global (or thread-local) error handlers, which belong to the host.
 */
#include "util/xml.h"

#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* libxml2 wants one initialisation before parsers run on several threads; xmlCleanupParser()
 * would pull libxml2's state from under a host that uses it too, so it is never called. */
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static void init_libxml(void) { xmlInitParser(); }

typedef struct parse_state {
  unsigned depth, max_depth;
  const char *refused; /* why our handler stopped the parser (static text), or NULL */
  int refused_line;
  char error[160];     /* libxml2's first error, made printable */
  int error_line;
} parse_state;

static parse_state *state_of(void *ctx) { return ((xmlParserCtxtPtr)ctx)->_private; }

static void refuse(void *ctx, const char *why) {
  parse_state *st = state_of(ctx);
  if (!st->refused) {
    st->refused = why;
    st->refused_line = xmlSAX2GetLineNumber(ctx);
  }
  xmlStopParser(ctx);
}

/* ---- the hooks ------------------------------------------------------------------------------ */

/* Called at `<!DOCTYPE name ...` before the internal subset's first declaration is read, and
 * before any external subset could be loaded: the earliest point a DTD can be refused. */
static void on_internal_subset(void *ctx, const xmlChar *name, const xmlChar *external_id,
                               const xmlChar *system_id) {
  (void)name;
  (void)external_id;
  (void)system_id;
  refuse(ctx, "a DOCTYPE (DTD) is not accepted");
}

/* The hooks below cannot run once the DOCTYPE is refused; they refuse too, so that a change in
 * libxml2's call order cannot let a declaration through. */
static void on_external_subset(void *ctx, const xmlChar *name, const xmlChar *external_id,
                               const xmlChar *system_id) {
  on_internal_subset(ctx, name, external_id, system_id);
}

static void on_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
                           const xmlChar *system_id, xmlChar *content) {
  (void)name;
  (void)type;
  (void)public_id;
  (void)system_id;
  (void)content;
  refuse(ctx, "entity declarations are not accepted");
}

/* Predefined entities (&amp; ...) never reach this hook: only references to declared ones. */
static xmlEntityPtr on_get_entity(void *ctx, const xmlChar *name) {
  (void)name;
  refuse(ctx, "entity references are not accepted");
  return NULL;
}

static xmlParserInputPtr on_resolve_entity(void *ctx, const xmlChar *public_id, const xmlChar *system_id) {
  (void)public_id;
  (void)system_id;
  refuse(ctx, "external entities are not accepted");
  return NULL;
}

static void on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri,
                     int nb_namespaces, const xmlChar **namespaces, int nb_attributes, int nb_defaulted,
                     const xmlChar **attributes) {
  parse_state *st = state_of(ctx);
  if (++st->depth > st->max_depth) {
    refuse(ctx, "elements are nested too deeply");
    return;
  }
  xmlSAX2StartElementNs(ctx, localname, prefix, uri, nb_namespaces, namespaces, nb_attributes, nb_defaulted,
                        attributes);
}

static void on_end(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri) {
  state_of(ctx)->depth--;
  xmlSAX2EndElementNs(ctx, localname, prefix, uri);
}

/* libxml2's first error, kept printable ASCII (its messages quote names from the input). */
static void on_error(void *ctx, xmlErrorPtr err) {
  parse_state *st = state_of(ctx);
  if (st->error[0] || !err || !err->message)
    return;
  size_t o = 0;
  for (const char *p = err->message; *p && o + 1 < sizeof st->error; p++) {
    unsigned char c = (unsigned char)*p;
    if (c == '\n' && !p[1])
      break;
    st->error[o++] = (char)(c >= 0x20 && c < 0x7f ? c : '?');
  }
  st->error[o] = '\0';
  st->error_line = err->line;
}

/* ---- parsing -------------------------------------------------------------------------------- */

/* Valid UTF-8 and no NUL byte (XML cannot hold U+0000; refusing it also rules out UTF-16 and
 * UCS-4, so libxml2's encoding detection can only ever see UTF-8). */
static int check_bytes(const char *s, size_t len, const char *what) {
  size_t bad = 0;
  if (!fastepost__utf8_valid(s, len, &bad))
    return fastepost__error_set(FASTEPOST_EPARSE, "%s is not valid UTF-8 (byte offset %zu)", what, bad);
  const char *nul = memchr(s, '\0', len);
  if (nul)
    return fastepost__error_set(FASTEPOST_EPARSE, "%s holds a NUL byte (byte offset %zu)", what,
                                (size_t)(nul - s));
  return FASTEPOST_OK;
}

int fastepost__xml_parse(xmlDoc **out, const void *data, size_t len, size_t max_bytes, unsigned max_depth,
                         const char *what) {
  *out = NULL;
  if (len > max_bytes || len > INT_MAX)
    return fastepost__error_set(FASTEPOST_ETOOBIG, "%s of %zu bytes exceeds the limit of %zu bytes", what, len,
                                max_bytes < (size_t)INT_MAX ? max_bytes : (size_t)INT_MAX);
  if (!len || !data)
    return fastepost__error_set(FASTEPOST_EPARSE, "%s is empty", what);
  int rc = check_bytes(data, len, what);
  if (rc)
    return rc;
  pthread_once(&init_once, init_libxml);

  xmlParserCtxtPtr ctxt = xmlCreateMemoryParserCtxt(data, (int)len);
  if (!ctxt)
    return fastepost__error_oom();
  /* Never: XML_PARSE_NOENT (substitute entities), XML_PARSE_DTDLOAD / DTDATTR / DTDVALID (read a
   * DTD), XML_PARSE_XINCLUDE, XML_PARSE_HUGE (lift libxml2's own limits). The document is UTF-8
   * whatever its declaration says (checked above). */
  xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_IGNORE_ENC |
                              XML_PARSE_NOCDATA);
  parse_state st = {.max_depth = max_depth ? max_depth : FASTEPOST__XML_DEFAULT_DEPTH};
  ctxt->_private = &st;
  xmlSAXHandlerPtr sax = ctxt->sax; /* the context's own copy of the default SAX2 handler */
  sax->internalSubset = on_internal_subset;
  sax->externalSubset = on_external_subset;
  sax->entityDecl = on_entity_decl;
  sax->getEntity = on_get_entity;
  sax->getParameterEntity = on_get_entity;
  sax->resolveEntity = on_resolve_entity;
  sax->startElementNs = on_start;
  sax->endElementNs = on_end;
  sax->serror = on_error;
  sax->error = NULL;
  sax->warning = NULL;
  sax->fatalError = NULL;

  xmlParseDocument(ctxt);
  xmlDoc *doc = ctxt->myDoc;
  bool ok = ctxt->wellFormed && !st.refused && doc && xmlDocGetRootElement(doc) && !doc->intSubset &&
            !doc->extSubset;
  ctxt->myDoc = NULL;
  xmlFreeParserCtxt(ctxt);
  if (ok) {
    *out = doc;
    return FASTEPOST_OK;
  }
  xmlFreeDoc(doc);
  if (st.refused)
    return fastepost__error_set(FASTEPOST_EPARSE, "%s refused: %s (line %d)", what, st.refused, st.refused_line);
  if (st.error[0])
    return fastepost__error_set(FASTEPOST_EPARSE, "%s is not well-formed XML: %s (line %d)", what, st.error,
                                st.error_line);
  return fastepost__error_set(FASTEPOST_EPARSE, "%s is not an XML document", what);
}

void fastepost__xml_free(xmlDoc *doc) {
  if (doc)
    xmlFreeDoc(doc);
}

/* ---- navigation by local name --------------------------------------------------------------- */

bool fastepost__xml_is(const xmlNode *n, const char *local) {
  return n && n->type == XML_ELEMENT_NODE && (!local || strcmp((const char *)n->name, local) == 0);
}

xmlNode *fastepost__xml_next(const xmlNode *n, const char *local) {
  for (xmlNode *s = n ? n->next : NULL; s; s = s->next)
    if (fastepost__xml_is(s, local))
      return s;
  return NULL;
}

xmlNode *fastepost__xml_child(const xmlNode *parent, const char *local) {
  xmlNode *c = parent ? parent->children : NULL;
  return !c || fastepost__xml_is(c, local) ? c : fastepost__xml_next(c, local);
}

size_t fastepost__xml_count(const xmlNode *parent, const char *local) {
  size_t n = 0;
  for (xmlNode *c = fastepost__xml_child(parent, local); c; c = fastepost__xml_next(c, local))
    n++;
  return n;
}

/* A libxml2 string into a malloc'd copy (the library frees with free(), libxml2 with xmlFree). */
static char *own(xmlChar *s) {
  if (!s)
    return NULL;
  char *copy = fastepost__strdup((const char *)s);
  xmlFree(s);
  return copy;
}

char *fastepost__xml_attr(const xmlNode *n, const char *local, bool *oom) {
  if (oom)
    *oom = false;
  for (xmlAttr *a = n && n->type == XML_ELEMENT_NODE ? n->properties : NULL; a; a = a->next) {
    if (strcmp((const char *)a->name, local) != 0)
      continue;
    xmlChar *v = xmlNodeListGetString(n->doc, a->children, 1);
    char *s = v ? own(v) : fastepost__strdup("");
    if (!s && oom)
      *oom = true;
    return s;
  }
  return NULL;
}

bool fastepost__xml_nil(const xmlNode *n) {
  char *v = fastepost__xml_attr(n, "nil", NULL);
  if (!v)
    return false;
  const char *s = v;
  size_t len = strlen(v);
  while (len && fastepost__ascii_isspace((unsigned char)s[len - 1]))
    len--;
  while (len && fastepost__ascii_isspace((unsigned char)*s)) {
    s++;
    len--;
  }
  bool nil = (len == 4 && memcmp(s, "true", 4) == 0) || (len == 1 && *s == '1');
  free(v);
  return nil;
}

char *fastepost__xml_text(const xmlNode *n) {
  xmlChar *c = xmlNodeGetContent(n);
  return c ? own(c) : fastepost__strdup("");
}
