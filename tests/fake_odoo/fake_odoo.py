#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A stand-in Odoo server for the test suite: NOT Odoo, but a small server built from Odoo's
documented behaviour (../../docs/odoo-sync.md lists the sources), because Odoo itself cannot be
installed where the tests run.

It speaks JSON-RPC (POST /jsonrpc: common.version, common.login, object.execute_kw) and JSON-2
(POST /json/2/<model>/<method>, Authorization: bearer), answers GET /web/version, and keeps
records in memory:
  - write_date / create_date are stamped with the time the (simulated) transaction STARTED and
    are answered without microseconds ("YYYY-MM-DD HH:MM:SS"), as Odoo does;
  - searches hide archived records unless context.active_test is false or the domain names
    `active` (Odoo's default active_test);
  - order "write_date asc, id asc" (or any "field [asc|desc]" list), limit and offset;
  - Odoo's error shapes: JSON-RPC {"error": {"code": 200, "message": "Odoo Server Error",
    "data": {"name", "message", ...}}}, code 100 for an expired session, JSON-2 4xx/5xx
    {"name", "message", "arguments", "context", "debug"}; 401 "Invalid apikey" on a bad key.

It also takes `write` (ids, vals) and `create` (vals_list) on res.partner from a client, as a
push does: write_date is stamped with the request's start (its transaction's), write_uid with
the caller (the bot user, uid 7); unknown fields are refused (422) and missing ids raise
MissingError; a contact without a name is refused with a ValidationError.

Tests drive it through POST /__admin/<command> (JSON body), see handle_admin() below: reset,
write (a record with an explicit transaction-start time, e.g. one that commits late with an
older write_date), bulk, unlink, fail (the next N requests get a status, e.g. 429 with
Retry-After), slow (the next N requests wait), log (the requests seen: path and header names),
race (a change another Odoo user makes to a record just before the client's next `read` of it is
answered: the record changed between the client's last sync and its write, so a push that
compares write_date first sees a conflict), record (one record as stored, write_date with its
microseconds, as Odoo's native webhook would carry it).

Searches page the way a database with an index does, not by filtering and sorting the whole
store for every page: each model keeps sorted indexes on (write_date, id) and (id), dropped by
every change to its records (write, create, admin write/bulk/unlink, reset) and rebuilt on the
next search. A search ordered by one of them ("write_date asc, id asc", "id asc", or no order)
whose domain is a list of range leaves on the leading field (>=, >, <=, <) bisects to its window
and renders only the page it returns; anything else (other orders, '|', '!', other fields) takes
the general path: filter everything, sort, slice. Both paths return the same records in the same
order (the pull's tests run through the first, the push's and most others through the second),
so the shortcut changes only the time a page takes, as an index does in a real Odoo.

Every URL may start with /t/<tenant>/: each tenant has its own store and settings, so that tests
running in parallel share one server without seeing each other's records.

Start: fake_odoo.py PORT_FILE  (listens on 127.0.0.1, a free port written to PORT_FILE; exits
after 30 s without a request).
"""
import bisect
import datetime as dt
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
TENANTS = {}  # "/t/<name>" URL prefix -> its own server state: tests run in parallel on one server
STATE = {}    # the current request's tenant (requests are handled under LOCK)
LAST_SEEN = [time.time()]


def reset(cfg=None):
    cfg = cfg or {}
    STATE.clear()
    STATE.update({
        "db": cfg.get("db", "fake"),
        "login": cfg.get("login", "bot"),
        "key": cfg.get("key", "fake-api-key"),
        "uid": 7,
        "version": cfg.get("version", [19, 0, 0, "final", 0, ""]),
        "json2": cfg.get("json2", True),      # JSON-2 routes exist (19.0+)
        "jsonrpc": cfg.get("jsonrpc", True),  # /jsonrpc exists (until 22.0)
        "web_version": cfg.get("web_version", True),
        "need_db_header": cfg.get("need_db_header", False),
        "records": {},  # model -> id -> dict
        "next_id": {},
        "fail": [],     # [{"status", "retry_after", "count", "body"}]
        "slow": [],     # [{"seconds", "count", "skip"?}]
        "log": [],
        "race": [],     # [{"model", "id", "values"}]: applied at the next read of that record
        "index": {},    # (model, field) -> sorted [(field value, id)]: see search_indexed()
    })


def now():
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def parse_dt(s):
    s = s.replace("T", " ").rstrip("Z")
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(s, fmt)
        except ValueError:
            pass
    raise ValueError("not a datetime: %r" % s)


def out_value(v):
    # Odoo serialises datetimes without microseconds.
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    return v


def write_record(model, rid, values, tx_start=None, uid=None):
    recs = STATE["records"].setdefault(model, {})
    stamp = parse_dt(tx_start) if tx_start else now()
    if rid is None:
        rid = STATE["next_id"].get(model, 0) + 1
    STATE["next_id"][model] = max(STATE["next_id"].get(model, 0), rid)
    drop_indexes(model)
    rec = recs.get(rid)
    if rec is None:
        rec = {"id": rid, "active": True, "create_date": stamp, "write_uid": [STATE["uid"], "Bot"]}
        recs[rid] = rec
    rec.update(values)
    if uid is not None:
        rec["write_uid"] = [uid, "Bot" if uid == STATE["uid"] else "User %d" % uid]
    rec["write_date"] = stamp  # the transaction's start, microseconds kept internally
    return rid


class OdooError(Exception):
    def __init__(self, name, message, status=200, code=200):
        super().__init__(message)
        self.name, self.message, self.status, self.code = name, message, status, code


def matches(rec, domain):
    """A subset of Odoo domains: implicit '&', prefix '|' and '&', leaves [field, op, value]."""
    def leaf(f, op, val):
        v = rec.get(f)
        if isinstance(v, list) and v and f != "id":
            v = v[0]
        if isinstance(v, dt.datetime):
            val = parse_dt(val)  # compared at full precision, as in PostgreSQL
        if op == "=":
            return v == val
        if op == "!=":
            return v != val
        if op == "in":
            return v in val
        if op == "not in":
            return v not in val
        if v is None or v is False:
            return False
        return {">": v > val, ">=": v >= val, "<": v < val, "<=": v <= val}[op]

    def ev(items):
        tok = items.pop(0)
        if tok == "|":
            a, b = ev(items), ev(items)
            return a or b
        if tok == "&":
            a, b = ev(items), ev(items)
            return a and b
        if tok == "!":
            return not ev(items)
        return leaf(*tok)

    items = list(domain)
    result = True
    while items:
        result = ev(items) and result
    return result


def drop_indexes(model):
    """Every change to a model's records invalidates its indexes (rebuilt by the next search)."""
    for key in [k for k in STATE["index"] if k[0] == model]:
        del STATE["index"][key]


def index_of(model, field):
    """The model's records as a sorted list of (field value, id), built on first use."""
    key = (model, field)
    if key not in STATE["index"]:
        recs = STATE["records"].get(model, {})
        if field == "id":
            STATE["index"][key] = [(rid,) for rid in sorted(recs)]
        else:
            STATE["index"][key] = sorted((r[field], r["id"]) for r in recs.values())
    return STATE["index"][key]


# The orders an index serves, as search() would parse them: (leading field, full order).
INDEXED_ORDERS = {"write_date asc, id asc": "write_date", "write_date, id": "write_date",
                  "id asc": "id", "id": "id"}
AFTER = float("inf")  # sorts after every id: (v, AFTER) follows every (v, id)


def search_indexed(model, domain, kw, active_test):
    """The records search() would return, from an index; None when the query needs the general path.

    Only for range leaves on the index's leading field: the matching records are then one
    contiguous run of the index, and [offset:offset+limit] of that run is the page."""
    order = " ".join((kw.get("order") or "id asc").split()).lower()
    field = INDEXED_ORDERS.get(order)
    if field is None or not isinstance(domain, list):
        return None
    lo_key, hi_key = None, None  # the run is index[bisect_left(lo_key) : bisect_left(hi_key)]
    for t in domain:
        if not (isinstance(t, list) and len(t) == 3 and t[0] == field and t[1] in (">=", ">", "<=", "<")):
            return None
        _, op, val = t
        if field == "id":
            if not isinstance(val, int) or isinstance(val, bool):
                return None
        else:
            if not isinstance(val, str):
                return None
            val = parse_dt(val)  # compared at full precision, as matches() does
        if op in (">=", ">"):
            k = (val,) if op == ">=" else (val, AFTER)
            lo_key = k if lo_key is None else max(lo_key, k)
        else:
            k = (val, AFTER) if op == "<=" else (val,)
            hi_key = k if hi_key is None else min(hi_key, k)
    index = index_of(model, field)
    lo = bisect.bisect_left(index, lo_key) if lo_key is not None else 0
    hi = bisect.bisect_left(index, hi_key) if hi_key is not None else len(index)
    offset = int(kw.get("offset") or 0)
    limit = int(kw.get("limit") or 0)
    recs = STATE["records"][model] if model in STATE["records"] else {}
    if not active_test:
        start = lo + offset
        stop = hi if not limit else min(hi, start + limit)
        return [recs[entry[-1]] for entry in index[start:stop]]
    # Archived records hidden: walk the run, as a database filters an index scan.
    out, skipped = [], 0
    for entry in index[lo:hi]:
        rec = recs[entry[-1]]
        if not rec.get("active", True):
            continue
        if skipped < offset:
            skipped += 1
            continue
        out.append(rec)
        if limit and len(out) >= limit:
            break
    return out


def search(model, domain, kw):
    ctx = kw.get("context") or {}
    names_active = any(isinstance(t, list) and t and t[0] == "active" for t in domain)
    active_test = ctx.get("active_test", True) and not names_active
    fast = search_indexed(model, domain, kw, active_test)
    if fast is not None:
        return fast
    recs = list(STATE["records"].get(model, {}).values())
    if active_test:
        recs = [r for r in recs if r.get("active", True)]
    recs = [r for r in recs if matches(r, domain)]
    order = kw.get("order") or "id asc"
    for part in reversed([p.strip() for p in order.split(",") if p.strip()]):
        bits = part.split()
        field, desc = bits[0], len(bits) > 1 and bits[1].lower() == "desc"
        recs.sort(key=lambda r: (r.get(field) is None, r.get(field)), reverse=desc)
    offset = int(kw.get("offset") or 0)
    limit = kw.get("limit")
    recs = recs[offset:]
    if limit:
        recs = recs[:int(limit)]
    return recs


def project(rec, fields):
    keys = fields or list(rec.keys())
    return {k: out_value(rec.get(k, False)) for k in ["id"] + [k for k in keys if k != "id"]}


# The fields each model has here: Odoo 19's res.partner has no `mobile` any more, so a client
# that asks for it unconditionally fails as it would against Odoo.
FIELDS = {
    "res.partner": ["id", "write_date", "create_date", "write_uid", "active", "name", "email", "phone",
                    "street", "city", "zip", "country_id", "comment", "is_company", "parent_id",
                    "company_name", "commercial_company_name", "ref", "barcode"],
    "crm.lead": ["id", "write_date", "create_date", "write_uid", "active", "name", "email_from", "phone",
                 "partner_id", "partner_name", "contact_name", "description", "type", "street", "city",
                 "zip", "country_id"],
}


def check_fields(model, fields):
    for f in fields or []:
        if f not in FIELDS.get(model, []):
            raise OdooError("builtins.ValueError", "Invalid field %r on model %r" % (f, model), status=422)


def apply_races(model, ids):
    """Another Odoo user's change of a record the client is about to read (admin `race`)."""
    keep = []
    for race in STATE["race"]:
        if race.get("model", "res.partner") == model and race["id"] in ids:
            write_record(model, race["id"], race.get("values", {}), None, race.get("uid", 2))
        else:
            keep.append(race)
    STATE["race"] = keep


def client_write(model, args, kw, tx_start):
    ids = args[0] if args else kw.get("ids", [])
    vals = args[1] if len(args) > 1 else kw.get("vals", {})
    check_fields(model, list(vals))
    recs = STATE["records"].get(model, {})
    missing = [i for i in ids if i not in recs]
    if missing:
        raise OdooError("odoo.exceptions.MissingError",
                        "Record does not exist or has been deleted.\n(Record: %s(%s,), User: 7)"
                        % (model, missing[0]), status=404)
    for i in ids:
        write_record(model, i, vals, tx_start, STATE["uid"])
    return True


def client_create(model, args, kw, tx_start):
    vals_list = args[0] if args else kw.get("vals_list", [])
    single = isinstance(vals_list, dict)
    if single:
        vals_list = [vals_list]
    for vals in vals_list:
        check_fields(model, list(vals))
        if model == "res.partner" and not vals.get("name"):
            raise OdooError("odoo.exceptions.ValidationError", "Contacts require a name", status=422)
    ids = []
    for vals in vals_list:
        rid = write_record(model, None, vals, tx_start, STATE["uid"])
        STATE["records"][model][rid]["create_uid"] = [STATE["uid"], "Bot"]
        ids.append(rid)
    return ids[0] if single else ids


def execute(model, method, args, kw, tx_start=None):
    if model not in FIELDS:
        raise OdooError("builtins.KeyError", model, status=404)
    if method == "fields_get":
        return {f: {"type": "char"} for f in FIELDS[model]}
    check_fields(model, kw.get("fields"))
    if method == "search_read":
        domain = args[0] if args else kw.get("domain", [])
        return [project(r, kw.get("fields")) for r in search(model, domain, kw)]
    if method == "search":
        domain = args[0] if args else kw.get("domain", [])
        return [r["id"] for r in search(model, domain, kw)]
    if method == "write":
        return client_write(model, args, kw, tx_start)
    if method == "create":
        return client_create(model, args, kw, tx_start)
    if method == "read":
        ids = args[0] if args else kw.get("ids", [])
        apply_races(model, ids)
        recs = STATE["records"].get(model, {})
        missing = [i for i in ids if i not in recs]
        if missing:
            raise OdooError("odoo.exceptions.MissingError",
                            "Record does not exist or has been deleted.\n(Record: %s(%s,), User: 7)"
                            % (model, missing[0]), status=404)
        return [project(recs[i], kw.get("fields")) for i in ids]
    if method == "crash":
        raise OdooError("builtins.ZeroDivisionError", "division by zero", status=500)
    raise OdooError("builtins.AttributeError", "The method '%s' does not exist on the model '%s'"
                    % (method, model), status=404)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def answer(self, status, obj, headers=None):
        data = json.dumps(obj).encode() if not isinstance(obj, bytes) else obj
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        return json.loads(raw) if raw else {}

    def injected(self):
        """A failure or delay the test asked for; True when the request was answered."""
        global STATE
        with LOCK:
            STATE = self.state
            slow = STATE["slow"].pop(0) if STATE["slow"] else None
            if slow and slow.get("skip", 0) > 0:  # let this many requests through first
                STATE["slow"].insert(0, dict(slow, skip=slow["skip"] - 1))
                slow = None
            elif slow and slow["count"] > 1:
                STATE["slow"].insert(0, dict(slow, count=slow["count"] - 1))
            fail = STATE["fail"].pop(0) if STATE["fail"] else None
            if fail and fail.get("skip", 0) > 0:  # let this many requests through first
                STATE["fail"].insert(0, dict(fail, skip=fail["skip"] - 1))
                fail = None
            elif fail and fail["count"] > 1:
                STATE["fail"].insert(0, dict(fail, count=fail["count"] - 1))
        if slow:
            time.sleep(slow["seconds"])
        if fail:
            headers = {"Retry-After": str(fail["retry_after"])} if "retry_after" in fail else {}
            self.answer(fail["status"], fail.get("body", {"name": "werkzeug.exceptions.HTTPException",
                                                          "message": "injected %d" % fail["status"]}),
                        headers)
            return True
        return False

    def route(self):
        """Strip the /t/<tenant> prefix and select that tenant's state."""
        LAST_SEEN[0] = time.time()
        global STATE
        tenant = "default"
        if self.path.startswith("/t/"):
            tenant, _, rest = self.path[3:].partition("/")
            self.path = "/" + rest
        if tenant not in TENANTS:
            TENANTS[tenant] = {}
            STATE = TENANTS[tenant]
            reset()
        STATE = TENANTS[tenant]

    def do_GET(self):
        with LOCK:
            self.route()
            state = STATE
            state["log"].append({"method": "GET", "path": self.path, "headers": list(self.headers.keys())})
        if self.path == "/web/version" and state["web_version"]:
            v = state["version"]
            self.answer(200, {"version_info": v, "version": "%s.%s" % (v[0], v[1])})
        else:
            self.answer(404, b"<html>404 Not Found</html>")

    def do_POST(self):
        with LOCK:
            self.route()
            state = STATE
        if self.path.startswith("/__admin/"):
            return self.handle_admin(self.path[len("/__admin/"):], self.body(), state)
        with LOCK:
            state["log"].append({"method": "POST", "path": self.path, "headers": list(self.headers.keys()),
                                 "authorization": self.headers.get("Authorization", "")[:7]})
        self.state = state
        if self.injected():
            return
        try:
            req = self.body()
        except ValueError:
            return self.answer(400, {"name": "werkzeug.exceptions.BadRequest", "message": "not JSON"})
        if self.path == "/jsonrpc" and state["jsonrpc"]:
            return self.handle_rpc(req)
        if self.path.startswith("/json/2/") and state["json2"]:
            return self.handle_json2(self.path[len("/json/2/"):], req)
        self.answer(404, b"<html>404 Not Found</html>")

    def handle_rpc(self, req):
        global STATE
        tx_start = now().strftime("%Y-%m-%d %H:%M:%S.%f")  # the request's transaction starts here
        rid = req.get("id")
        p = req.get("params", {})
        try:
            with LOCK:
                STATE = self.state
                if p.get("service") == "common" and p.get("method") == "version":
                    v = STATE["version"]
                    res = {"server_version": "%s.%s" % (v[0], v[1]), "server_version_info": v,
                           "protocol_version": 1}
                elif p.get("service") == "common" and p.get("method") == "login":
                    db, login, key = p["args"]
                    ok = db == STATE["db"] and login == STATE["login"] and key == STATE["key"]
                    res = STATE["uid"] if ok else False
                elif p.get("service") == "object" and p.get("method") == "execute_kw":
                    args = p["args"]
                    db, uid, key, model, method = args[:5]
                    if db != STATE["db"] or uid != STATE["uid"] or key != STATE["key"]:
                        raise OdooError("odoo.exceptions.AccessDenied", "Access Denied")
                    res = execute(model, method, args[5] if len(args) > 5 else [],
                                  args[6] if len(args) > 6 else {}, tx_start)
                elif p.get("service") == "session":
                    raise OdooError("odoo.http.SessionExpiredException", "Session expired", code=100)
                else:
                    raise OdooError("builtins.Exception", "unknown service", code=200)
            self.answer(200, {"jsonrpc": "2.0", "id": rid, "result": res})
        except OdooError as e:
            message = "Odoo Session Expired" if e.code == 100 else "Odoo Server Error"
            self.answer(200, {"jsonrpc": "2.0", "id": rid, "error": {
                "code": e.code, "message": message,
                "data": {"name": e.name, "debug": "Traceback (most recent call last): ...",
                         "message": e.message, "arguments": [e.message], "context": {}}}})

    def handle_json2(self, rest, req):
        global STATE
        tx_start = now().strftime("%Y-%m-%d %H:%M:%S.%f")  # the request's transaction starts here
        state = self.state
        auth = self.headers.get("Authorization", "")
        if not auth.lower().startswith("bearer ") or auth[7:] != state["key"]:
            return self.answer(401, {"name": "werkzeug.exceptions.Unauthorized", "message": "Invalid apikey",
                                     "arguments": ["Invalid apikey", 401], "context": {}, "debug": ""})
        if state["need_db_header"] and self.headers.get("X-Odoo-Database") != state["db"]:
            return self.answer(404, {"name": "werkzeug.exceptions.NotFound", "message": "database not found",
                                     "arguments": [], "context": {}, "debug": ""})
        model, _, method = rest.partition("/")
        try:
            with LOCK:
                STATE = state
                res = execute(model, method, [], req, tx_start)
            self.answer(200, res)
        except OdooError as e:
            status = e.status if e.status != 200 else 500
            self.answer(status, {"name": e.name, "message": e.message, "arguments": [e.message],
                                 "context": {}, "debug": "Traceback ..."})

    def handle_admin(self, cmd, req, state):
        global STATE
        with LOCK:
            STATE = state
            if cmd == "reset":
                reset(req)
                res = True
            elif cmd == "write":  # {"model", "id"?, "values", "tx_start"?}
                res = write_record(req.get("model", "res.partner"), req.get("id"), req.get("values", {}),
                                   req.get("tx_start"))
            elif cmd == "bulk":  # {"model", "count", "tx_start"?}: partners n@bulk.example
                model, start = req.get("model", "res.partner"), req.get("tx_start")
                first = STATE["next_id"].get(model, 0) + 1
                for i in range(first, first + int(req["count"])):
                    write_record(model, i, {"name": "Partner %d" % i, "email": "p%d@bulk.example" % i,
                                            "phone": "+49 30 %07d" % i, "is_company": False}, start)
                res = int(req["count"])
            elif cmd == "unlink":
                model = req.get("model", "res.partner")
                drop_indexes(model)
                recs = STATE["records"].get(model, {})
                res = [recs.pop(i, None) is not None for i in req["ids"]]
            elif cmd == "fail":  # {"status", "count", "retry_after"?, "skip"?, "body"?}
                STATE["fail"].append(req)
                res = True
            elif cmd == "slow":  # {"seconds", "count", "skip"?}
                STATE["slow"].append(req)
                res = True
            elif cmd == "log":
                res = STATE["log"]
            elif cmd == "race":  # {"model"?, "id", "values", "uid"?}
                STATE["race"].append(req)
                res = True
            elif cmd == "record":  # {"model"?, "id"}: as stored, microseconds kept
                rec = STATE["records"].get(req.get("model", "res.partner"), {}).get(req["id"])
                res = None if rec is None else {
                    k: (v.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, dt.datetime) else v)
                    for k, v in rec.items()}
            else:
                return self.answer(404, {"error": "unknown admin command " + cmd})
        self.answer(200, {"result": res})


def exit_when_idle(srv, seconds, port_file):
    """Shared by every test of a run, the server goes once nobody has used it for a while, and
    takes its port file with it (a later run must not find a port that nobody serves)."""
    while time.time() - LAST_SEEN[0] < seconds:
        time.sleep(1)
    try:
        os.unlink(port_file)
    except OSError:
        pass
    srv.shutdown()


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    threading.Thread(target=exit_when_idle, args=(srv, 30, sys.argv[1]), daemon=True).start()
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
