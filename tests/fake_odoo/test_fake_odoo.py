# SPDX-License-Identifier: MIT
"""The stand-in's indexed search returns what its general path (filter, sort, slice) returns.

fake_odoo.search() answers range queries ordered by (write_date, id) or id from a sorted index
(search_indexed); every other query filters and sorts the whole store. These tests run the same
queries both ways over a store with equal write_dates, archived records, creates, writes and
unlinks between the queries, so that the shortcut cannot change what a client sees."""
import datetime as dt
import random
import unittest

import fake_odoo as fo


def general(model, domain, kw):
    """search() with the index shortcut switched off."""
    saved = fo.search_indexed
    fo.search_indexed = lambda *a: None
    try:
        return fo.search(model, domain, kw)
    finally:
        fo.search_indexed = saved


class IndexedSearch(unittest.TestCase):
    def setUp(self):
        fo.STATE = {}
        fo.reset()
        self.rng = random.Random(16)
        self.base = dt.datetime(2026, 1, 1, 10, 0, 0)
        for _ in range(300):
            self.write(None)

    def write(self, rid):
        # few distinct seconds and microseconds: many equal write_dates, ties broken by id
        stamp = self.base + dt.timedelta(seconds=self.rng.randrange(20), microseconds=self.rng.choice([0, 500000]))
        return fo.write_record("res.partner", rid, {"name": "P", "active": self.rng.random() > 0.2},
                               stamp.strftime("%Y-%m-%d %H:%M:%S.%f"))

    def moment(self):
        return (self.base + dt.timedelta(seconds=self.rng.randrange(-1, 22))).strftime("%Y-%m-%d %H:%M:%S")

    def query(self):
        order = self.rng.choice(["write_date asc, id asc", "id asc", None])
        field = "id" if order in ("id asc", None) else "write_date"
        domain = []
        for _ in range(self.rng.randrange(3)):
            op = self.rng.choice([">=", ">", "<=", "<"])
            domain.append([field, op, self.rng.randrange(-5, 320) if field == "id" else self.moment()])
        kw = {"offset": self.rng.choice([0, 0, 1, 7, 150, 400]), "limit": self.rng.choice([0, 1, 10, 100])}
        if order:
            kw["order"] = order
        if self.rng.random() < 0.5:
            kw["context"] = {"active_test": False}
        return domain, kw

    def assert_same(self, domain, kw):
        fast = fo.search_indexed("res.partner", domain, kw,
                                 (kw.get("context") or {}).get("active_test", True))
        self.assertIsNotNone(fast, "the query should have used the index: %r %r" % (domain, kw))
        want = [r["id"] for r in general("res.partner", domain, kw)]
        self.assertEqual([r["id"] for r in fo.search("res.partner", domain, kw)], want, (domain, kw))

    def test_same_records_in_the_same_order(self):
        for _ in range(400):
            self.assert_same(*self.query())

    def test_changes_between_queries_are_seen(self):
        for step in range(200):
            self.assert_same(*self.query())
            action = step % 3
            if action == 0:
                self.write(self.rng.randrange(1, 300))  # a change moves the record in the order
            elif action == 1:
                self.write(None)  # a new record
            else:
                fo.STATE["records"]["res.partner"].pop(self.rng.randrange(1, 300), None)
                fo.drop_indexes("res.partner")  # as the admin unlink does

    def test_the_pull_page_query(self):
        """The query src/odoo_pull.c sends, paged with offsets, sees every record once."""
        kw = {"order": "write_date asc, id asc", "context": {"active_test": False}, "limit": 37}
        domain = [["write_date", ">=", self.moment()], ["write_date", "<=", self.moment()]]
        seen, offset = [], 0
        while True:
            self.assert_same(domain, dict(kw, offset=offset))
            page = fo.search("res.partner", domain, dict(kw, offset=offset))
            seen += [r["id"] for r in page]
            offset += len(page)
            if len(page) < kw["limit"]:
                break
        self.assertEqual(seen, [r["id"] for r in general("res.partner", domain, dict(kw, limit=0))])

    def test_other_queries_take_the_general_path(self):
        for domain, kw in [([["name", "=", "P"]], {}), (["|", ["id", "<", 3], ["id", ">", 290]], {}),
                           ([["write_date", ">=", self.moment()]], {"order": "write_date desc"}),
                           ([["write_date", ">=", self.moment()]], {"order": "id asc"})]:
            self.assertIsNone(fo.search_indexed("res.partner", domain, kw, True), (domain, kw))


if __name__ == "__main__":
    unittest.main()
