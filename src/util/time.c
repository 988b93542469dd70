/* SPDX-License-Identifier: MIT */
/* Clocks and calendar arithmetic (see time.h). */
#include "util/time.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal.h"

int64_t fastepost__time_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * FASTEPOST__US_PER_SEC + ts.tv_nsec / 1000;
}

int64_t fastepost__time_monotonic_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * FASTEPOST__US_PER_SEC + ts.tv_nsec / 1000;
}

int64_t fastepost__days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

int fastepost__days_in_month(int64_t y, int m) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : days[m - 1];
}

bool fastepost__parse_digits(const char *s, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') /* not isdigit(): no locale may widen it */
      return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

/* Civil date of a day number (the inverse of days_from_civil, same author). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = (unsigned)(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

bool fastepost__time_format(char *out, size_t outsize, int64_t us) {
  /* Years 1..9999 only: a year of more than four digits, or before year 1, would be written as
   * something PostgreSQL reads differently (or not at all): leave "", which the server
   * refuses, rather than a wrong time. */
  static const int64_t lo = INT64_C(-62135596800) * FASTEPOST__US_PER_SEC; /* 0001-01-01 */
  static const int64_t hi = INT64_C(253402300800) * FASTEPOST__US_PER_SEC; /* 10000-01-01 */
  if (us < lo || us >= hi) {
    if (outsize)
      out[0] = '\0';
    return false;
  }
  int64_t secs = us / FASTEPOST__US_PER_SEC, frac = us % FASTEPOST__US_PER_SEC;
  if (frac < 0) {
    frac += FASTEPOST__US_PER_SEC;
    secs -= 1;
  }
  int64_t days = secs / 86400, sod = secs % 86400;
  if (sod < 0) {
    sod += 86400;
    days -= 1;
  }
  int64_t y;
  unsigned m, d;
  civil_from_days(days, &y, &m, &d);
  int n = snprintf(out, outsize, "%04d-%02u-%02u %02d:%02d:%02d.%06d", (int)y, m, d, (int)(sod / 3600),
                   (int)(sod / 60 % 60), (int)(sod % 60), (int)frac);
  return n > 0 && (size_t)n < outsize;
}

bool fastepost__time_parse_iso(int64_t *us_out, const char *s) {
  int Y, M, D, h = 0, mi = 0, sec = 0;
  long us = 0;
  size_t n = strlen(s);
  if (n < 10 || !fastepost__parse_digits(s, 4, &Y) || s[4] != '-' || !fastepost__parse_digits(s + 5, 2, &M) || s[7] != '-' ||
      !fastepost__parse_digits(s + 8, 2, &D))
    return false;
  const char *p = s + 10;
  if (*p == ' ' || *p == 'T') {
    if (strlen(p) < 9 || !fastepost__parse_digits(p + 1, 2, &h) || p[3] != ':' || !fastepost__parse_digits(p + 4, 2, &mi) ||
        p[6] != ':' || !fastepost__parse_digits(p + 7, 2, &sec))
      return false;
    p += 9;
    if (*p == '.') {
      p++;
      int nd = 0;
      long scale = 100000;
      while (fastepost__ascii_isdigit((unsigned char)*p)) {
        if (nd < 6) {
          us += (*p - '0') * scale;
          scale /= 10;
        }
        nd++;
        p++;
      }
      if (!nd)
        return false;
    }
  } else if (*p) {
    return false;
  }
  int offset_min = 0;
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    int oh, om = 0;
    int sign = *p == '-' ? -1 : 1;
    p++;
    if (!fastepost__parse_digits(p, 2, &oh))
      return false;
    p += 2;
    if (*p == ':')
      p++;
    if (*p) {
      if (!fastepost__parse_digits(p, 2, &om))
        return false;
      p += 2;
    }
    offset_min = sign * (oh * 60 + om);
  }
  if (*p)
    return false;
  static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (M < 1 || M > 12 || D < 1 || D > mdays[M - 1] || h > 23 || mi > 59 || sec > 60)
    return false;
  /* Four-digit years keep secs within +-3e11, far from overflowing when scaled to microseconds. */
  int64_t secs = fastepost__days_from_civil(Y, (unsigned)M, (unsigned)D) * 86400 + h * 3600 + mi * 60 + sec -
                 (int64_t)offset_min * 60;
  *us_out = secs * 1000000 + us;
  return true;
}
