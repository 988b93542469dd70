/* SPDX-License-Identifier: MIT */
/**
 * @file fastepost.h
 * @brief libfastepost: CRM webhook ingestion and PostgreSQL data tools for Fast Epost.
 *
 * Include this one header. See docs/getting-started.md.
 */
#ifndef FASTEPOST_H
#define FASTEPOST_H

#include "fastepost/common.h"
#include "fastepost/version.h"
#include "fastepost/errors.h"
#include "fastepost/conn.h"
#include "fastepost/schema.h"
#include "fastepost/export.h"
#include "fastepost/import.h"
#include "fastepost/hubspot.h"
#include "fastepost/backup.h"
#include "fastepost/stats.h"
#include "fastepost/report.h"
#include "fastepost/events.h"
#include "fastepost/odoo.h"
#include "fastepost/odoo_sync.h"
#include "fastepost/spool.h"
#include "fastepost/retention.h"

#endif
