/* SPDX-License-Identifier: MIT */
/*
 * The Odoo adapter, mapping: the fields of a res.partner or crm.lead record (found by
 * odoo_extract.c) into the customer facts, remark and task reference of a sync record.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/odoo.h"
#include "util/json.h"

char *fastepost__odoo_email(const char *raw) {
  const char *s = raw;
  size_t n = strlen(raw);
  const char *lt = strrchr(raw, '<');
  if (lt) {
    const char *gt = strchr(lt, '>');
    if (!gt)
      return NULL;
    s = lt + 1;
    n = (size_t)(gt - s);
  }
  char *addr = fastepost__odoo_trimmed(s, n);
  if (!addr)
    return NULL;
  const char *at = strchr(addr, '@');
  bool ok = at && at != addr && strchr(at + 1, '@') == NULL && at[1] && strchr(at + 1, '.') &&
            addr[strlen(addr) - 1] != '.' && at[1] != '.';
  for (char *p = addr; ok && *p; p++) {
    if ((unsigned char)*p <= ' ' || strchr("<>()[],;:\"\\", *p))
      ok = false;
    *p = (char)fastepost__ascii_tolower((unsigned char)*p);
  }
  if (!ok) {
    free(addr);
    return NULL;
  }
  return addr;
}

/* The display name of an email_from value: "\"Jane Doe\" <jane@x>" -> "Jane Doe"; NULL if none. */
char *fastepost__odoo_display_name(const char *raw) {
  const char *lt = strchr(raw, '<');
  if (!lt)
    return NULL;
  size_t n = (size_t)(lt - raw);
  char *name = fastepost__odoo_trimmed(raw, n);
  if (!name)
    return NULL;
  size_t len = strlen(name);
  if (len >= 2 && (name[0] == '"' || name[0] == '\'') && name[len - 1] == name[0]) {
    memmove(name, name + 1, len - 2);
    name[len - 2] = '\0';
  }
  if (!*name) {
    free(name);
    return NULL;
  }
  return name;
}


/* ---- mapping ------------------------------------------------------------------------------- */

/* The first of several text fields with a value; EMPTY when some were present but empty. */
static fastepost__fact_state first_text(const json_object *rec, const char *const *keys, char **out) {
  fastepost__fact_state st = FASTEPOST__FACT_ABSENT;
  *out = NULL;
  for (; *keys; keys++) {
    fastepost__fact_state s = fastepost__odoo_text(rec, *keys, out);
    if (s == FASTEPOST__FACT_VALUE)
      return s;
    if (s == FASTEPOST__FACT_EMPTY)
      st = s;
  }
  return st;
}

static int set_fact(fastepost__fact *f, fastepost__fact_state st, char *value) {
  if (st == FASTEPOST__FACT_VALUE && !value) /* out of memory: leave the column alone */
    st = FASTEPOST__FACT_ABSENT;
  free(f->value);
  f->value = st == FASTEPOST__FACT_VALUE ? value : NULL;
  if (st != FASTEPOST__FACT_VALUE)
    free(value);
  f->state = st;
  return FASTEPOST_OK;
}

static void map_email(fastepost__sync_record *rec, const json_object *r, const char *key) {
  char *raw = NULL;
  fastepost__fact_state st = fastepost__odoo_text(r, key, &raw);
  if (st == FASTEPOST__FACT_VALUE) {
    char *addr = fastepost__odoo_email(raw);
    if (!addr) {
      char p[64];
      fastepost__preview(p, sizeof p, raw, strlen(raw));
      fastepost__strlist_addf(&rec->warnings, "%s \"%s\" is not an email address: stored as empty", key, p);
      st = FASTEPOST__FACT_EMPTY;
    }
    free(raw);
    raw = addr;
  }
  set_fact(&rec->facts.email, st, raw);
}

static void map_phone(fastepost__sync_record *rec, const json_object *r) {
  static const char *const keys[] = {"phone", "mobile", NULL};
  char *v = NULL;
  fastepost__fact_state st = first_text(r, keys, &v);
  set_fact(&rec->facts.phone, st, v);
}

/* street, street2, "zip city", country code joined by ", ", skipping empty parts. */
static void map_address(fastepost__sync_record *rec, const json_object *r) {
  static const char *const keys[] = {"street", "street2", "zip", "city", "country_code", "country_id"};
  char *v[6] = {NULL};
  bool present = false;
  for (size_t i = 0; i < 6; i++)
    present |= fastepost__odoo_text(r, keys[i], &v[i]) != FASTEPOST__FACT_ABSENT;
  if (!present)
    return;
  /* country_id only as a fallback, and only as [id, "Germany"] (a bare id says nothing) */
  json_object *cid = fastepost__json_get(r, "country_id");
  if (v[4] || !cid || !json_object_is_type(cid, json_type_array)) {
    free(v[5]);
    v[5] = NULL;
  }
  fastepost__buf b = FASTEPOST__BUF_INIT, city = FASTEPOST__BUF_INIT;
  if (v[2])
    fastepost__buf_puts(&city, v[2]);
  if (v[2] && v[3])
    fastepost__buf_putc(&city, ' ');
  if (v[3])
    fastepost__buf_puts(&city, v[3]);
  const char *parts[] = {v[0], v[1], city.len ? fastepost__buf_cstr(&city) : NULL, v[4] ? v[4] : v[5]};
  for (size_t i = 0; i < 4; i++)
    if (parts[i]) {
      if (b.len)
        fastepost__buf_puts(&b, ", ");
      fastepost__buf_puts(&b, parts[i]);
    }
  for (size_t i = 0; i < 6; i++)
    free(v[i]);
  fastepost__buf_free(&city);
  if (b.len)
    set_fact(&rec->facts.address, FASTEPOST__FACT_VALUE, fastepost__buf_detach(&b));
  else
    set_fact(&rec->facts.address, FASTEPOST__FACT_EMPTY, NULL);
  fastepost__buf_free(&b);
}

static void map_task(fastepost__sync_record *rec, const json_object *r, const fastepost__strlist *fields) {
  json_object *t = fastepost__json_get(r, "task_id");
  if (t) {
    int64_t id = fastepost__odoo_id(t);
    if (id > 0)
      rec->task_id = id;
    else if (id < 0)
      fastepost__strlist_add(&rec->warnings, "task_id is not an integer: ignored");
  }
  for (size_t i = 0; i < fields->count; i++) {
    char *v = NULL;
    if (fastepost__odoo_text(r, fields->items[i], &v) == FASTEPOST__FACT_VALUE)
      fastepost__strlist_add(&rec->barcodes, v);
    free(v);
  }
}

static bool has_any_fact(const fastepost__sync_record *rec) {
  const fastepost__customer_facts *f = &rec->facts;
  return f->name.state || f->email.state || f->phone.state || f->company.state ||
         f->address.state || f->active >= 0;
}

void fastepost__odoo_map_partner(fastepost__sync_record *rec, const json_object *r, const char *hint,
                        int64_t id, const fastepost__strlist *barcode_fields) {
  rec->owns_customer = true;
  static const char *const name_keys[] = {"name", "fastepost__odoo_display_name", NULL};
  char *name = NULL;
  fastepost__fact_state st = first_text(r, name_keys, &name);
  set_fact(&rec->facts.name, st, name);
  map_email(rec, r, "email");
  map_phone(rec, r);

  /* company: company_name, else parent_name, else commercial_company_name when it differs from
   * the name; a company contact (is_company, or commercial name == own name) is its own company */
  static const char *const company_keys[] = {"company_name", "parent_name", NULL};
  char *company = NULL;
  fastepost__fact_state cst = first_text(r, company_keys, &company);
  if (cst != FASTEPOST__FACT_VALUE) {
    char *ccn = NULL;
    fastepost__fact_state s = fastepost__odoo_text(r, "commercial_company_name", &ccn);
    int is_company = fastepost__odoo_bool(r, "is_company");
    const char *own = rec->facts.name.value;
    if (s != FASTEPOST__FACT_ABSENT || is_company >= 0)
      cst = FASTEPOST__FACT_EMPTY;
    if (ccn && (!own || strcmp(ccn, own) != 0 || is_company != 0)) {
      company = ccn;
      ccn = NULL;
    } else if (is_company == 1 && own) {
      company = fastepost__strdup(own);
    }
    free(ccn);
    if (company)
      cst = FASTEPOST__FACT_VALUE;
  }
  set_fact(&rec->facts.company, cst, company);
  map_address(rec, r);
  rec->facts.active = fastepost__odoo_bool(r, "active");
  if (!strcmp(hint, "unlink") || !strcmp(hint, "archive"))
    rec->facts.active = 0;

  char *note = NULL;
  if (fastepost__odoo_html(r, "comment", &note) == FASTEPOST__FACT_VALUE) {
    rec->note_body = note;
    fastepost__buf k = FASTEPOST__BUF_INIT;
    fastepost__buf_printf(&k, "res.partner:%lld:comment", (long long)id);
    rec->note_key = fastepost__buf_detach(&k);
  }
  map_task(rec, r, barcode_fields);
  if (!has_any_fact(rec) && !rec->note_body && !rec->task_id && !rec->barcodes.count)
    rec->ignore_reason = fastepost__strdup("no usable fields in the delivery");
}

void fastepost__odoo_map_lead(fastepost__sync_record *rec, const json_object *r, int64_t id,
                     const fastepost__strlist *barcode_fields) {
  rec->owns_customer = false;
  rec->match_phone = true;
  int64_t partner = fastepost__odoo_id(fastepost__json_get(r, "partner_id"));
  if (partner > 0) {
    fastepost__buf k = FASTEPOST__BUF_INIT;
    fastepost__buf_printf(&k, "res.partner:%lld", (long long)partner);
    rec->link_crm_id = fastepost__buf_detach(&k);
  } else if (partner < 0) {
    fastepost__strlist_add(&rec->warnings, "partner_id is not an id: ignored");
  }
  char *title = NULL, *contact = NULL, *from = NULL, *pname = NULL;
  fastepost__odoo_text(r, "name", &title);
  fastepost__odoo_text(r, "contact_name", &contact);
  fastepost__odoo_text(r, "email_from", &from);
  fastepost__odoo_text(r, "partner_name", &pname);
  /* name: contact_name, else the display name in email_from, else partner_name, else the title */
  char *name = NULL;
  if (contact)
    name = fastepost__strdup(contact);
  else if (from && (name = fastepost__odoo_display_name(from)) != NULL)
    ;
  else if (pname)
    name = fastepost__strdup(pname);
  else if (title)
    name = fastepost__strdup(title);
  set_fact(&rec->facts.name, name ? FASTEPOST__FACT_VALUE : FASTEPOST__FACT_ABSENT, name);
  map_email(rec, r, "email_from");
  map_phone(rec, r);
  if (pname)
    set_fact(&rec->facts.company, FASTEPOST__FACT_VALUE, fastepost__strdup(pname));
  map_address(rec, r);
  map_task(rec, r, barcode_fields);

  char *desc = NULL;
  fastepost__odoo_html(r, "description", &desc);
  if (title || desc || has_any_fact(rec) || partner > 0) {
    char *type = NULL;
    fastepost__odoo_text(r, "type", &type);
    const char *kind = type && !strcmp(type, "opportunity") ? "Opportunity" : "Lead";
    fastepost__buf b = FASTEPOST__BUF_INIT;
    fastepost__buf_puts(&b, kind);
    if (title)
      fastepost__buf_printf(&b, ": %s", title);
    if (desc)
      fastepost__buf_printf(&b, "\n\n%s", desc);
    rec->note_body = fastepost__buf_detach(&b);
    fastepost__buf k = FASTEPOST__BUF_INIT;
    fastepost__buf_printf(&k, "crm.lead:%lld", (long long)id);
    rec->note_key = fastepost__buf_detach(&k);
    free(type);
  } else {
    rec->ignore_reason = fastepost__strdup("no usable fields in the delivery");
  }
  free(title);
  free(contact);
  free(from);
  free(pname);
  free(desc);
}
