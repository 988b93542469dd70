/* SPDX-License-Identifier: MIT */
/*
 * What the dashboard says about each CRM (fastepost/report.h): its name as it writes it and
 * what to set up on its side. One table, so that the HTML page, the CLI and the bindings say
 * the same; a CRM added to the adapter registry gets its line here.
 */
#include <string.h>

#include "internal.h"

static const struct {
  const char *source, *title, *instructions;
} crms[] = {
    {"odoo", "Odoo",
     "In Odoo, an automation rule on Contacts (Settings > Technical > Automation Rules) with the action "
     "\"Send Webhook Notification\" to this URL + ?api_key=<key> (Odoo's webhooks cannot set headers; "
     "other senders use the X-Odoo-Api-Key header); the keys are odoo.api_keys."},
    {"hubspot", "HubSpot",
     "In the HubSpot developer account, the app's Webhooks page: this target URL and the contact "
     "subscriptions; requests are signed (X-HubSpot-Signature-v3) with the app's client secret "
     "(hubspot.client_secrets)."},
    {"pipedrive", "Pipedrive",
     "In Pipedrive, Settings > Tools and apps > Webhooks > Create new webhook: this URL, objects person, "
     "organization, note and deal, version 2.0, and an HTTP Basic user and password from "
     "pipedrive.basic_auth. Answers must come within 10 s (they do: failed writes are spooled)."},
    {"monday", "monday.com",
     "On the board, Integrate > Webhooks (or the create_webhook API) with this URL: monday.com sends a "
     "challenge that is echoed at once. Map the board's column ids under monday.boards; with an app token, "
     "set monday.signing_secrets and monday.url to this URL to require the JWT."},
    {"salesforce", "Salesforce",
     "In Salesforce Setup, Outbound Messages: a message on Contact and on Lead with the fields to sync "
     "and this endpoint URL, sent by a flow or workflow rule; list the org's id (15 or 18 characters) in "
     "salesforce.organization_ids. Every notification is acknowledged after it is stored."},
    {"zoho", "Zoho CRM",
     "Either a notification channel (POST /crm/v7/actions/watch with notify_url = this URL, a channel_id "
     "and a token: zoho.channels) for Contacts and Leads, or a workflow rule webhook to this URL with a "
     "token parameter (zoho.workflow_tokens) and the contact's fields as parameters."},
};
#define NCRMS (sizeof crms / sizeof crms[0])

static int find(const char *source) {
  for (size_t i = 0; source && i < NCRMS; i++)
    if (strcmp(crms[i].source, source) == 0)
      return (int)i;
  return -1;
}

const char *fastepost_report_source_title(const char *source) {
  int i = find(source);
  return i >= 0 ? crms[i].title : source ? source : "";
}

const char *fastepost_report_source_instructions(const char *source) {
  int i = find(source);
  return i >= 0 ? crms[i].instructions : "";
}
