"""A WSGI app (stdlib only) that receives the Odoo and HubSpot webhooks and hands them to
libfastepost:

    POST /api/v1/integrations/odoo      key in X-Odoo-Api-Key or ?api_key=, optional ?event=
    POST /api/v1/integrations/hubspot   X-HubSpot-Signature-v3 + X-HubSpot-Request-Timestamp

It answers with the HTTP status the library chose (200, 400, 401, 409, 413, 503 ...) and a
small JSON body. Run it with wsgiref (one thread per request; the requests share a bounded
`fastepost.Pool` of FASTEPOST_POOL connections, and one that finds none free within
FASTEPOST_POOL_TIMEOUT seconds is answered 503, `PoolTimeout`, so the sender delivers again):

    DATABASE_URL=postgres:///app ODOO_API_KEY=... HUBSPOT_CLIENT_SECRET=... \\
        python3 webhooks.py --port 8000

or mount `make_app()` in any WSGI server. Configuration is described in README.md.
"""

import argparse
import json
import os
import socketserver
import sys
from http import HTTPStatus
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.util import application_uri, request_uri

import fastepost

ODOO_PATH = "/api/v1/integrations/odoo"
HUBSPOT_PATH = "/api/v1/integrations/hubspot"
# Read at most this much of a body: one byte over the library's limit is enough for it to
# answer 413, and a huge upload is never held in memory.
MAX_BODY = 1024 * 1024


class WebhookApp:
    """The WSGI callable. `dsn` is a libpq connection string or URL; `odoo_api_keys` the keys
    Odoo may present (several while rotating; empty: every Odoo request is refused with 401;
    None: the library reads ODOO_API_KEY); `hubspot_secrets` the app's
    client secret(s), newest first; `public_url` the scheme://host[:port] HubSpot signs with
    when behind a proxy (None: the URL as this server received it); `spool_dir` where Odoo
    deliveries that cannot reach PostgreSQL are kept (answered 202; replay them with
    `fastepost spool replay --dir ...`), None for no spool; `pool_size` and `pool_timeout`
    size the connection pool and bound the wait for a free connection (seconds), or `pool` is
    a ready :class:`fastepost.Pool` (anything with ``connection()``)."""

    def __init__(self, dsn="", *, odoo_api_keys=None, hubspot_secrets=(), public_url=None,
                 spool_dir=None, pool_size=4, pool_timeout=5.0, pool=None):
        # One pool for all request threads: at most pool_size connections whatever the number
        # of threads (wsgiref starts one per request), reused across requests.
        self.pool = pool if pool is not None else fastepost.Pool(dsn, size=pool_size,
                                                                 timeout=pool_timeout)
        # Odoo never retries: without a spool a delivery during a database outage is lost.
        self.spool = fastepost.Spool(spool_dir) if spool_dir else None
        self.odoo_api_keys = None if odoo_api_keys is None else list(odoo_api_keys)
        self.hubspot_secrets = list(hubspot_secrets)
        self.public_url = public_url.rstrip("/") if public_url else None

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        handler = {ODOO_PATH: self.odoo, HUBSPOT_PATH: self.hubspot}.get(path)
        if handler is None:
            return self.json(start_response, 404, {"error": "not found"})
        if environ["REQUEST_METHOD"] != "POST":
            return self.json(start_response, 405, {"error": "use POST"})
        try:
            return handler(environ, start_response)
        except fastepost.Error as e:
            # The library refused: answer its status and say why (messages never contain
            # secrets or payloads). A result, when there is one, says which event was logged.
            # PoolTimeout (no connection free in time) is a fastepost.Error too: 503.
            fields = e.result.to_dict() if e.result is not None else {}
            fields.update(error=type(e).__name__, message=e.message)
            return self.json(start_response, e.http_status or 500, fields)

    def odoo(self, environ, start_response):
        # The library checks the key itself, before it writes or spools anything: a missing
        # (None), empty or wrong one is 401 AuthError, and with no key configured every
        # request is 401 NoKeyError. The header wins when present, even empty.
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        key = environ.get("HTTP_X_ODOO_API_KEY")
        if key is None:
            key = query.get("api_key", [None])[0]
        body = self.body(environ)
        options = dict(spool=self.spool, api_key=key, expected_keys=self.odoo_api_keys,
                       event=query.get("event", [None])[0],
                       content_type=environ.get("CONTENT_TYPE") or None)
        try:
            with self.pool.connection() as conn:
                result = fastepost.odoo_process(body, conn, **options)
        except (fastepost.ConnectionError, fastepost.PoolTimeout) as e:
            # Connecting failed or no connection was free in time (no result: nothing was
            # processed): with a spool, the library keeps the delivery without a connection and
            # it is answered 202. Odoo never redelivers, so a 503 here would lose it.
            if self.spool is None or e.result is not None:
                raise
            result = fastepost.odoo_process(body, None, **options)
        return self.json(start_response, result.http_status, result.to_dict())

    def hubspot(self, environ, start_response):
        uri = request_uri(environ)  # what HubSpot signed: the full URL as sent
        if self.public_url:  # behind a proxy: the public scheme and host, this path and query
            uri = self.public_url + uri[len(application_uri_root(environ)):]
        body = self.body(environ)
        with self.pool.connection() as conn:
            batch = conn.hubspot_process(
                body, secrets=self.hubspot_secrets, method=environ["REQUEST_METHOD"],
                uri=uri, timestamp=environ.get("HTTP_X_HUBSPOT_REQUEST_TIMESTAMP"),
                signature=environ.get("HTTP_X_HUBSPOT_SIGNATURE_V3"))
        return self.json(start_response, batch.http_status, batch.to_dict())

    @staticmethod
    def body(environ):
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        return environ["wsgi.input"].read(min(length, MAX_BODY + 1)) if length > 0 else b""

    @staticmethod
    def json(start_response, status, fields):
        body = json.dumps({"http_status": status, **fields}, default=str).encode()
        start_response(f"{status} {HTTPStatus(status).phrase}",
                       [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


def split_list(value):
    """"a, b" -> ["a", "b"]: comma-separated while a key or secret is rotated; unset -> []."""
    return [s.strip() for s in (value or "").split(",") if s.strip()]


def make_app(environ=os.environ):
    return WebhookApp(environ.get("DATABASE_URL", ""),
                      odoo_api_keys=split_list(environ.get("ODOO_API_KEY")),
                      hubspot_secrets=split_list(environ.get("HUBSPOT_CLIENT_SECRET")),
                      public_url=environ.get("PUBLIC_URL"),
                      spool_dir=environ.get("FASTEPOST_SPOOL_DIR") or "tmp/spool",
                      pool_size=int(environ.get("FASTEPOST_POOL") or 4),
                      pool_timeout=float(environ.get("FASTEPOST_POOL_TIMEOUT") or 5))


def application_uri_root(environ):
    """scheme://host[:port] of the request, without the path."""
    url = application_uri(environ)
    return url[:url.index("/", url.index("//") + 2)]


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # one line per request is noise in tests
        if os.environ.get("WEBHOOKS_ACCESS_LOG"):
            super().log_message(format, *args)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
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
