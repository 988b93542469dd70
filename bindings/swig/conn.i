/* SPDX-License-Identifier: MIT */
/* conn.h: Conn objects own a fastepost_conn and free it when garbage collected. */

/* Connecting and every statement wait on the server. (Blocking declarations come first, so
 * that the %extend code below calls the unlocked versions too.) */
%fastepost_blocking(2, fastepost_conn_open, fastepost_conn **, const char *)
%fastepost_blocking(1, fastepost_conn_reset, fastepost_conn *)
%fastepost_blocking(1, fastepost_conn_ping, fastepost_conn *)
%fastepost_blocking(1, fastepost_conn_cancel, fastepost_conn *)

%rename(Conn) fastepost_conn;
%fastepost_handle(fastepost_conn, fastepost_conn_free)

%extend fastepost_conn {
  /* Conn(conninfo): connects, or raises. */
  fastepost_conn(const char *conninfo) {
    fastepost_conn *conn = NULL;
    fastepost_status rc = fastepost_conn_open(&conn, conninfo);
    if (rc != FASTEPOST_OK)
      FP_CTOR_FAILED(rc);
    return conn;
  }
}

%include "fastepost/conn.h"
