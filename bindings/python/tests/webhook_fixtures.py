# SPDX-License-Identifier: MIT
"""One request per CRM source that verifies and creates one customer, for the tests of
Connection.webhook_process and of the HTTP examples (examples/python/tests).

odoo and hubspot are built here (HubSpot's signature holds the current time, so it cannot be a
file); the other sources come from tests/fixtures/<source>/ as their adapters left them:
config.json (a whole config object), ok.<json|xml|form> (the body), ok.headers (one
"Name: value" per line), ok.query (optional, one "k=v" per line) and ok.expect (the crm_id of
the customer it creates). A source without its fixture is missing: the tests say which, so a
missing adapter fails rather than passes."""

import copy
import glob
import json
import os
import time

import fastepost

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
SOURCES = ("odoo", "hubspot", "pipedrive", "monday", "salesforce", "zoho")
BASE_URL = "https://app.example.com"

ODOO_KEY = "odoo-generic-test-key"
HUBSPOT_SECRET = "hubspot-generic-test-secret"

# Where each section keeps its credentials: a request made with other values must be refused.
# monday.com without require_jwt has none (only the URL's secrecy): it is not listed then.
_SECRETS = {"odoo": ("api_keys",), "hubspot": ("client_secrets",), "pipedrive": ("basic_auth",),
            "monday": ("signing_secrets",), "salesforce": ("organization_ids",),
            "zoho": ("channels", "workflow_tokens")}


class Request:
    """What a CRM sends: config (the dict a host would load), body (bytes), headers (a dict),
    path ("/api/v1/integrations/<source>?..."), url (the public URL) and expect (the crm_id)."""

    def __init__(self, source, config, body, headers, query, expect):
        self.source, self.config, self.body, self.headers = source, config, body, headers
        self.expect = expect
        self.path = f"/api/v1/integrations/{source}" + (f"?{query}" if query else "")
        # monday.com's JWT audience is the configured URL: the request is sent there.
        base = config.get("monday", {}).get("url") if source == "monday" else None
        self.url = (base + (f"?{query}" if query else "")) if base else BASE_URL + self.path

    def wrong_config(self):
        """The config with every credential of the source changed, or None when the source has
        none to change (monday.com without a required JWT)."""
        section = copy.deepcopy(self.config[self.source])
        if self.source == "monday" and not section.get("require_jwt"):
            return None
        for key in _SECRETS[self.source]:
            if key in section:
                section[key] = _mangle(section[key])
        return {self.source: section}


def _mangle(value):
    if isinstance(value, list):
        return [_mangle(v) for v in value]
    if isinstance(value, dict):  # zoho channels: the id stays, the token changes
        return {k: (v if k == "channel_id" else _mangle(v)) for k, v in value.items()}
    if isinstance(value, str):
        if len(value) in (15, 18) and value[:3].isalnum() and ":" not in value:
            return value[:-1] + ("9" if value[-1] != "9" else "8")  # another Salesforce org id
        return "wrong-" + value
    return value


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _lines(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\r\n") for line in f if line.strip()]


def odoo():
    body = json.dumps({"_model": "res.partner", "_id": 4711, "id": 4711, "name": "Olga Odoo",
                       "email": "olga@example.com", "write_date": "2026-01-05 10:00:00"}).encode()
    return Request("odoo", {"odoo": {"api_keys": [ODOO_KEY]}}, body,
                   {"Content-Type": "application/json", "X-Odoo-Api-Key": ODOO_KEY}, "",
                   "res.partner:4711")


def hubspot(url=None):
    """HubSpot signs the URL it sends to with the current time: sign for url (default: the
    public URL of the generic route)."""
    now = int(time.time() * 1000)
    event = {"subscriptionId": 7, "portalId": 62515, "appId": 9, "attemptNumber": 0,
             "objectId": 5150, "changeSource": "CRM"}
    body = json.dumps([
        dict(event, eventId=1001, occurredAt=now, subscriptionType="contact.creation"),
        dict(event, eventId=1002, occurredAt=now + 1, subscriptionType="contact.propertyChange",
             propertyName="lastname", propertyValue="Hubbard")]).encode()
    req = Request("hubspot", {"hubspot": {"client_secrets": [HUBSPOT_SECRET]}}, body, {}, "",
                  "5150")
    if url:
        req.url = url
    sig = fastepost.hubspot_sign(HUBSPOT_SECRET, method="POST", uri=req.url, timestamp=now, body=body)
    req.headers = {"Content-Type": "application/json", "X-HubSpot-Signature-v3": sig,
                   "X-HubSpot-Request-Timestamp": str(now)}
    return req


def from_fixture(source):
    """The request of tests/fixtures/<source>/, or None when its adapter left none."""
    d = os.path.join(FIXTURES, source)
    bodies = [p for p in glob.glob(os.path.join(d, "ok.*"))
              if os.path.splitext(p)[1] in (".json", ".xml", ".form")]
    if len(bodies) != 1 or not os.path.exists(os.path.join(d, "config.json")):
        return None
    with open(os.path.join(d, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    headers = {}
    for line in _lines(os.path.join(d, "ok.headers")):
        name, _, value = line.partition(":")
        headers[name.strip()] = value.strip()
    query = "&".join(_lines(os.path.join(d, "ok.query")))
    expect = _lines(os.path.join(d, "ok.expect"))[0]
    return Request(source, config, _read(bodies[0]), headers, query, expect)


def ok_request(source, **kw):
    if source == "odoo":
        return odoo()
    if source == "hubspot":
        return hubspot(**kw)
    return from_fixture(source)


def available():
    """(requests of the sources that have one, names of those that have none)."""
    have, missing = [], []
    for source in SOURCES:
        req = ok_request(source)
        (have if req else missing).append(req or source)
    return have, missing


def challenge():
    """monday.com's URL verification: its config and a challenge body."""
    req = from_fixture("monday")
    config = req.config if req else {"monday": {"signing_secrets": ["s"], "require_jwt": False,
                                                "url": BASE_URL, "boards": {}}}
    return config, b'{"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}'
