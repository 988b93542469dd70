/* SPDX-License-Identifier: MIT */
/*
 * Time for the whole library: one encoding (int64_t microseconds since 1970-01-01 00:00 UTC,
 * docs/api.md rule 6), the clocks, and the calendar arithmetic every parser of a date needs
 * (backup names, Odoo write_date, CSV import dates). timegm() is not POSIX, and the C library's
 * time functions depend on TZ and locale; these do not.
 */
#ifndef FASTEPOST_UTIL_TIME_H
#define FASTEPOST_UTIL_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FASTEPOST__US_PER_SEC INT64_C(1000000)

/* The system clock (CLOCK_REALTIME) in microseconds since the epoch. */
int64_t fastepost__time_now_us(void);
/* A monotonic clock in microseconds (deadlines and durations; not a date). */
int64_t fastepost__time_monotonic_us(void);

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
int64_t fastepost__days_from_civil(int64_t y, unsigned m, unsigned d);
/* Days in month m (1-12) of year y. */
int fastepost__days_in_month(int64_t y, int m);
/* Exactly n ASCII digits at s as a number; false (out untouched) when any is not a digit. */
bool fastepost__parse_digits(const char *s, int n, int *out);

/* Format a time as "YYYY-MM-DD HH:MM:SS.ffffff" UTC (out must hold 27 bytes; 32 is safe).
 * false (and "") when the time is not in years 1..9999. */
bool fastepost__time_format(char *out, size_t outsize, int64_t us);

/* An ISO 8601 / SQL timestamp into *us (µs since the epoch, UTC): "YYYY-MM-DD", with an optional
 * " HH:MM:SS" or "THH:MM:SS", an optional fraction (digits past the sixth ignored) and an
 * optional "Z" or "+HH[:MM]"/"-HH[:MM]" offset (none: UTC). Four-digit years, calendar dates
 * checked (leap seconds allowed). The one timestamp reader of every adapter (Odoo's write_date,
 * Salesforce's SystemModstamp, monday's triggerTime, Zoho's Modified_Time, Pipedrive's
 * update_time) and of the Odoo pull. false for anything else. */
bool fastepost__time_parse_iso(int64_t *us, const char *s);

#endif
