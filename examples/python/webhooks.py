# SPDX-License-Identifier: MIT
"""A WSGI app (stdlib only) that receives the webhooks of every CRM and hands them to
libfastepost:

    POST /api/v1/integrations/<source>  odoo, hubspot, pipedrive, monday, salesforce or zoho,
                                        verified as the webhook configuration says (the JSON
                                        of `fastepost webhook process --config`) and answered
                                        with the library's status, content type and body
                                        (Salesforce's SOAP acknowledgement, monday.com's
                                        challenge echo ...)

The configuration comes from FASTEPOST_WEBHOOK_CONFIG (a JSON file) or
FASTEPOST_WEBHOOK_CONFIG_JSON (the JSON itself); a source without a section there is refused
(401). Odoo and HubSpot without a section keep their 1.0 routes, configured by ODOO_API_KEY
and HUBSPOT_CLIENT_SECRET, which answer a small JSON body of their own:

    POST /api/v1/integrations/odoo      key in X-Odoo-Api-Key or ?api_key=, optional ?event=
    POST /api/v1/integrations/hubspot   X-HubSpot-Signature-v3 + X-HubSpot-Request-Timestamp

Every answer has the HTTP status the library chose (200, 202, 400, 401, 409, 413, 503 ...). Run it with wsgiref (one thread per request; the requests share a bounded
`fastepost.Pool` of FASTEPOST_POOL connections, and one that finds none free within
FASTEPOST_POOL_TIMEOUT seconds is answered 503, `PoolTimeout`, so the sender delivers again):

    DATABASE_URL=postgres:///app ODOO_API_KEY=... HUBSPOT_CLIENT_SECRET=... \\
        python3 webhooks.py --port 8000

or mount `make_app()` in any WSGI server. Configuration is described in README.md.
"""

from __future__ import annotations  # the WSGI types below exist for type checkers only

import argparse
import functools
import hmac
import json
import os
import socketserver
import sys
from http import HTTPStatus
from typing import (TYPE_CHECKING, Any, Callable, ContextManager, Dict, Iterable, List, Mapping,
                    Optional, Protocol, Union)
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.util import application_uri, request_uri

import fastepost

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    #: A WSGI handler of this app: the body to send, in one piece.
    Handler = Callable[[WSGIEnvironment, StartResponse], List[bytes]]

PREFIX = "/api/v1/integrations/"
ODOO_PATH = PREFIX + "odoo"
HUBSPOT_PATH = PREFIX + "hubspot"
# Read at most this much of a body: one byte over the library's limit is enough for it to
# answer 413, and a huge upload is never held in memory.
MAX_BODY = 1024 * 1024


class ConnectionPool(Protocol):
    """What the app needs of a pool: :class:`fastepost.Pool`, or anything with ``connection()``."""

    def connection(self) -> ContextManager[fastepost.Connection]: ...


class WebhookApp:
    """The WSGI callable. `dsn` is a libpq connection string or URL; `odoo_api_keys` the keys
    Odoo may present (several while rotating; empty: every Odoo request is refused with 401;
    None: the library reads ODOO_API_KEY); `hubspot_secrets` the app's
    client secret(s), newest first; `public_url` the scheme://host[:port] HubSpot signs with
    when behind a proxy (None: the URL as this server received it); `spool_dir` where Odoo
    deliveries that cannot reach PostgreSQL are kept (answered 202; replay them with
    `fastepost spool replay --dir ...`), None for no spool; `pool_size` and `pool_timeout`
    size the connection pool and bound the wait for a free connection (seconds), or `pool` is
    a ready :class:`fastepost.Pool` (anything with ``connection()``); `webhook_config` the
    configuration of every source (a dict, JSON text or a :class:`fastepost.WebhookConfig`,
    parsed once here and shared by all threads; None: no source but the 1.0 Odoo and HubSpot
    routes)."""

    def __init__(self, dsn: str = "", *, odoo_api_keys: Optional[Iterable[str]] = None,
                 hubspot_secrets: Iterable[str] = (), public_url: Optional[str] = None,
                 spool_dir: Optional[str] = None, pool_size: int = 4, pool_timeout: float = 5.0,
                 pool: Optional[ConnectionPool] = None,
                 webhook_config: Union[fastepost.WebhookConfig, Dict[str, Any], str, bytes,
                                       None] = None,
                 metrics_token: Optional[str] = None) -> None:
        # One pool for all request threads: at most pool_size connections whatever the number
        # of threads (wsgiref starts one per request), reused across requests.
        self.pool: ConnectionPool = pool if pool is not None else fastepost.Pool(dsn, size=pool_size,
                                                                 timeout=pool_timeout)
        # Odoo never retries: without a spool a delivery during a database outage is lost.
        self.spool = fastepost.Spool(spool_dir) if spool_dir else None
        self.odoo_api_keys = None if odoo_api_keys is None else list(odoo_api_keys)
        self.hubspot_secrets = list(hubspot_secrets)
        self.public_url = public_url.rstrip("/") if public_url else None
        if isinstance(webhook_config, fastepost.WebhookConfig):
            self.config = webhook_config
        else:
            self.config = fastepost.WebhookConfig(webhook_config, spool=self.spool)
        self.sources = set(fastepost.webhook_sources())
        # GET /metrics (Prometheus, docs/metrics.md) answers only a scraper presenting this
        # token as "Authorization: Bearer <token>"; without one the route is off (404).
        self.metrics_token = metrics_token or None

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> List[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            return self.metrics(environ, start_response)
        source = path[len(PREFIX):] if path.startswith(PREFIX) else None
        if source is None or source not in self.sources:
            return self.json(start_response, 404, {"error": "not found"})
        if environ["REQUEST_METHOD"] != "POST":
            return self.json(start_response, 405, {"error": "use POST"})
        handler: Handler
        if source in ("odoo", "hubspot") and not self.config.has_source(source):
            handler = self.odoo if source == "odoo" else self.hubspot  # the 1.0 routes
        else:
            handler = functools.partial(self.generic, source)
        try:
            return handler(environ, start_response)
        except fastepost.Error as e:
            # The library refused: answer its status and say why (messages never contain
            # secrets or payloads). A result, when there is one, says which event was logged.
            # PoolTimeout (no connection free in time) is a fastepost.Error too: 503.
            fields = e.result.to_dict() if e.result is not None else {}
            fields.update(error=type(e).__name__, message=e.message)
            return self.json(start_response, e.http_status or 500, fields)

    def metrics(self, environ: WSGIEnvironment, start_response: StartResponse) -> List[bytes]:
        """The CRM figures for Prometheus, for a scraper with the bearer token."""
        if self.metrics_token is None:
            return self.json(start_response, 404, {"error": "not found"})
        presented = environ.get("HTTP_AUTHORIZATION", "")
        if not hmac.compare_digest(presented.encode(), f"Bearer {self.metrics_token}".encode()):
            return self.json(start_response, 401, {"error": "unauthorized"})
        try:
            with self.pool.connection() as conn:
                text = conn.crm_metrics(sources=self.config,
                                        spool=self.spool.dir if self.spool else None).encode()
        except fastepost.Error as e:
            return self.json(start_response, e.http_status or 500, {"error": type(e).__name__})
        start_response("200 OK", [("Content-Type", "text/plain; version=0.0.4; charset=utf-8"),
                                  ("Content-Length", str(len(text)))])
        return [text]

    def generic(self, source: str, environ: WSGIEnvironment,
                start_response: StartResponse) -> List[bytes]:
        """Any source: the library verifies, processes and says what to answer; the answer goes
        out as it is (status, content type, body)."""
        headers, url = request_headers(environ), self.public_uri(environ)
        method: str = environ["REQUEST_METHOD"]
        body = self.body(environ)

        def process(conn: Optional[fastepost.Connection]) -> fastepost.WebhookResponse:
            return fastepost.webhook_process(source, body, conn, headers=headers,
                                             config=self.config, method=method, url=url)

        try:
            with self.pool.connection() as conn:
                response = process(conn)
        except (fastepost.ConnectionError, fastepost.PoolTimeout):
            # No connection: a verified request goes to the configuration's spool (202);
            # without one the answer is 503 (__call__) and the CRM delivers again.
            if self.config.spool is None:
                raise
            response = process(None)
        start_response(f"{response.http_status} {HTTPStatus(response.http_status).phrase}",
                       [("Content-Type", response.content_type),
                        ("Content-Length", str(len(response.body)))])
        return [response.body]

    def public_uri(self, environ: WSGIEnvironment) -> str:
        """The URL the CRM sent to (signatures and monday.com's JWT audience cover it)."""
        uri = request_uri(environ)
        if self.public_url:  # behind a proxy: the public scheme and host, this path and query
            uri = self.public_url + uri[len(application_uri_root(environ)):]
        return uri

    def odoo(self, environ: WSGIEnvironment, start_response: StartResponse) -> List[bytes]:
        # The library checks the key itself, before it writes or spools anything: a missing
        # (None), empty or wrong one is 401 AuthError, and with no key configured every
        # request is 401 NoKeyError. The header wins when present, even empty.
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        key: Optional[str] = environ.get("HTTP_X_ODOO_API_KEY")
        if key is None:
            key = first(query, "api_key")
        body = self.body(environ)
        event, content_type = first(query, "event"), environ.get("CONTENT_TYPE") or None

        def process(conn: Optional[fastepost.Connection]) -> fastepost.EventResult:
            return fastepost.odoo_process(body, conn, spool=self.spool, api_key=key,
                                          expected_keys=self.odoo_api_keys, event=event,
                                          content_type=content_type)

        try:
            with self.pool.connection() as conn:
                result = process(conn)
        except (fastepost.ConnectionError, fastepost.PoolTimeout) as e:
            # Connecting failed or no connection was free in time (no result: nothing was
            # processed): with a spool, the library keeps the delivery without a connection and
            # it is answered 202. Odoo never redelivers, so a 503 here would lose it.
            if self.spool is None or e.result is not None:
                raise
            result = process(None)
        return self.json(start_response, result.http_status, result.to_dict())

    def hubspot(self, environ: WSGIEnvironment, start_response: StartResponse) -> List[bytes]:
        uri = self.public_uri(environ)  # what HubSpot signed: the full URL as sent
        body = self.body(environ)
        with self.pool.connection() as conn:
            batch = conn.hubspot_process(
                body, secrets=self.hubspot_secrets, method=environ["REQUEST_METHOD"],
                uri=uri, timestamp=environ.get("HTTP_X_HUBSPOT_REQUEST_TIMESTAMP"),
                signature=environ.get("HTTP_X_HUBSPOT_SIGNATURE_V3"))
        return self.json(start_response, batch.http_status, batch.to_dict())

    @staticmethod
    def body(environ: WSGIEnvironment) -> bytes:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        body: bytes = environ["wsgi.input"].read(min(length, MAX_BODY + 1)) if length > 0 else b""
        return body

    @staticmethod
    def json(start_response: StartResponse, status: int,
             fields: Mapping[str, object]) -> List[bytes]:
        body = json.dumps({"http_status": status, **fields}, default=str).encode()
        start_response(f"{status} {HTTPStatus(status).phrase}",
                       [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


def first(query: Mapping[str, List[str]], name: str) -> Optional[str]:
    """The first value of a query parameter; None when absent."""
    return query[name][0] if name in query else None


def split_list(value: Optional[str]) -> List[str]:
    """"a, b" -> ["a", "b"]: comma-separated while a key or secret is rotated; unset -> []."""
    return [s.strip() for s in (value or "").split(",") if s.strip()]


def request_headers(environ: WSGIEnvironment) -> Dict[str, str]:
    """The request's headers by their HTTP names (WSGI keeps them as HTTP_X_ODOO_API_KEY ...)."""
    headers: Dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:]
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = key
        else:
            continue
        if isinstance(value, str) and value:
            headers["-".join(p.capitalize() for p in name.split("_"))] = value
    return headers


def webhook_config_from_env(environ: Mapping[str, str]) -> Union[str, bytes, None]:
    """The JSON of FASTEPOST_WEBHOOK_CONFIG_JSON, else of the file FASTEPOST_WEBHOOK_CONFIG;
    None."""
    if environ.get("FASTEPOST_WEBHOOK_CONFIG_JSON"):
        return environ["FASTEPOST_WEBHOOK_CONFIG_JSON"]
    if environ.get("FASTEPOST_WEBHOOK_CONFIG"):
        with open(environ["FASTEPOST_WEBHOOK_CONFIG"], "rb") as f:
            return f.read()
    return None


def make_app(environ: Mapping[str, str] = os.environ) -> WebhookApp:
    return WebhookApp(environ.get("DATABASE_URL", ""),
                      webhook_config=webhook_config_from_env(environ),
                      odoo_api_keys=split_list(environ.get("ODOO_API_KEY")),
                      hubspot_secrets=split_list(environ.get("HUBSPOT_CLIENT_SECRET")),
                      public_url=environ.get("PUBLIC_URL"),
                      spool_dir=environ.get("FASTEPOST_SPOOL_DIR") or "tmp/spool",
                      pool_size=int(environ.get("FASTEPOST_POOL") or 4),
                      pool_timeout=float(environ.get("FASTEPOST_POOL_TIMEOUT") or 5),
                      metrics_token=environ.get("FASTEPOST_METRICS_TOKEN"))


def application_uri_root(environ: WSGIEnvironment) -> str:
    """scheme://host[:port] of the request, without the path."""
    url = application_uri(environ)
    return url[:url.index("/", url.index("//") + 2)]


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # one line per request is noise in tests
        if os.environ.get("WEBHOOKS_ACCESS_LOG"):
            super().log_message(format, *args)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    args = parser.parse_args(argv)
    with make_server(args.host, args.port, make_app(), server_class=ThreadingWSGIServer,
                     handler_class=QuietHandler) as server:
        print(f"listening on http://{args.host}:{server.server_port}", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
