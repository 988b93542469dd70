/* SPDX-License-Identifier: MIT */
/* Test support: Salesforce outbound messages built in the tests (the shape of the samples in
 * tests/fixtures/salesforce/), for the unit and the database suites. */
#ifndef FASTEPOST_TEST_SALESFORCE_MESSAGE_H
#define FASTEPOST_TEST_SALESFORCE_MESSAGE_H

#include "internal.h"

/* A message of organization org around the notifications' XML (malloc'd). */
static inline char *fptest_sf_envelope(const char *org, const char *notifications) {
  fastepost__buf b = FASTEPOST__BUF_INIT;
  fastepost__buf_printf(&b,
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                        "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" "
                        "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><soapenv:Body>"
                        "<notifications xmlns=\"http://soap.sforce.com/2005/09/outbound\">"
                        "<OrganizationId>%s</OrganizationId><ActionId>04k000000000001AAA</ActionId>"
                        "<SessionId xsi:nil=\"true\"/>%s</notifications></soapenv:Body></soapenv:Envelope>",
                        org, notifications);
  return fastepost__buf_detach(&b);
}

/* Append one notification: its id, the sObject type and the fields' XML (prefix sf:). */
static inline void fptest_sf_notification(fastepost__buf *b, const char *nid, const char *type, const char *fields) {
  fastepost__buf_printf(b,
                        "<Notification><Id>%s</Id><sObject xsi:type=\"sf:%s\" "
                        "xmlns:sf=\"urn:sobject.enterprise.soap.sforce.com\">%s</sObject></Notification>",
                        nid, type, fields);
}

#endif
