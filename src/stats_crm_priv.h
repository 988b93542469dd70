/* SPDX-License-Identifier: MIT */
/* What the tests see of src/stats_crm.c. */
#ifndef FASTEPOST_STATS_CRM_PRIV_H
#define FASTEPOST_STATS_CRM_PRIV_H

/* A statement by name. */
typedef struct fastepost__named_sql {
  const char *name, *sql;
} fastepost__named_sql;

/* The dashboard's statements over tables that grow (the event log, the hourly counters), in
 * the order sources, history, recent, sync; a NULL name ends the list. Their parameters:
 * sources ($1 the 24-hour window's start and $2 its first full hour, µs; $3 the configured
 * sources, a text[] literal), history ($1 the sources, a text[] literal; $2 the first day and $3
 * the end of the clock's hour, µs), recent and sync none. */
extern const fastepost__named_sql fastepost__crm_stats_statements[];

#endif
