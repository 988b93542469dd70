# SPDX-License-Identifier: MIT
"""HubSpot signature verification: known vectors, every refusal, secrets rotation, bytes and
str bodies, GC of verifiers."""

import gc
import unittest

import fastepost

SDK_SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
SDK_BODY = "{'example_field':'example_value'}"
SDK_URL = "https://www.example.com/webhook_uri"
SDK_V3 = "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw="
SDK_V2 = "4fe4e3a7d3cf09db53be39d0a58130e2aaba074ec123a9e355b876a689a1c383"
NOW = 15000000


class HubSpot(unittest.TestCase):
    def verifier(self, **kw):
        kw.setdefault("now_ms", NOW)
        return fastepost.HubSpotVerifier([SDK_SECRET], **kw)

    def test_known_vectors(self):
        self.assertEqual(fastepost.hubspot_sign(SDK_SECRET, method="POST", uri=SDK_URL,
                                                timestamp=NOW, body=SDK_BODY), SDK_V3)
        self.assertEqual(fastepost.hubspot_sign(SDK_SECRET, method="POST", uri=SDK_URL,
                                                body=SDK_BODY.encode(), version="v2"), SDK_V2)
        v = self.verifier()
        self.assertEqual(v.verify(method="POST", uri=SDK_URL, body=SDK_BODY.encode(),
                                  signature=SDK_V3, timestamp=str(NOW)), 0)
        self.assertEqual(fastepost.hubspot_verify(SDK_SECRET, method="POST", uri=SDK_URL,
                                                  body=SDK_BODY, signature=SDK_V2, version="v2"), 0)

    def test_refusals(self):
        v = self.verifier()
        ok = dict(method="POST", uri=SDK_URL, body=SDK_BODY, signature=SDK_V3, timestamp=str(NOW))
        for change, needle in [({"signature": SDK_V3[:-2] + "A="}, "mismatch"),
                               ({"body": SDK_BODY + " "}, "mismatch"),
                               ({"signature": None}, "missing"),
                               ({"timestamp": None}, "missing"),
                               ({"timestamp": "1.5e7"}, "whole number"),
                               ({"timestamp": str(NOW - 300001)}, "stale"),
                               ({"timestamp": str(NOW + 300001)}, "future")]:
            with self.subTest(change=change):
                with self.assertRaises(fastepost.AuthError) as ctx:
                    v.verify(**dict(ok, **change))
                self.assertIn(needle, ctx.exception.message)
                self.assertNotIn(SDK_SECRET, ctx.exception.message)
        with self.assertRaises(fastepost.AuthError):  # v2 not enabled by default
            v.verify(method="POST", uri=SDK_URL, body=SDK_BODY, signature=SDK_V2, version="v2")
        with self.assertRaises(fastepost.InvalidError):
            v.verify(**dict(ok, version="v9"))
        with self.assertRaises(fastepost.TooBigError):
            self.verifier(max_body=8).verify(**ok)
        with self.assertRaises(TypeError):
            v.verify(**dict(ok, body=12))
        v.clear_secrets()
        with self.assertRaises(fastepost.NoKeyError):
            v.verify(**ok)
        with self.assertRaises(ValueError):
            self.verifier(versions=["v4"])
        with self.assertRaises(fastepost.InvalidError):
            self.verifier(tolerance_ms=0)

    def test_rotation_and_tolerance(self):
        v = fastepost.HubSpotVerifier(["old-secret", SDK_SECRET], now_ms=NOW + 400000,
                                      tolerance_ms=500000, versions=("v2", "v3"))
        self.assertEqual(v.verify(method="POST", uri=SDK_URL, body=SDK_BODY, signature=SDK_V3,
                                  timestamp=str(NOW)), 1)
        for i in range(6):
            v.add_secret(f"s{i}")
        with self.assertRaises(fastepost.TooBigError):
            v.add_secret("one too many")

    def test_utf8_and_binary_bodies(self):
        body = "{\"name\":\"Zoë 山田\"}"
        sig = fastepost.hubspot_sign("sëcret", method="POST", uri=SDK_URL, timestamp=NOW, body=body)
        v = fastepost.HubSpotVerifier("sëcret", now_ms=NOW)
        self.assertEqual(v.verify(method="POST", uri=SDK_URL, body=body.encode(), signature=sig,
                                  timestamp=str(NOW)), 0)
        raw = b"\x00\xff\xfe binary"
        sig = fastepost.hubspot_sign("s", method="POST", uri=SDK_URL, timestamp=NOW, body=raw)
        self.assertEqual(fastepost.HubSpotVerifier("s", now_ms=NOW).verify(
            method="POST", uri=SDK_URL, body=bytearray(raw), signature=sig, timestamp=str(NOW)), 0)

    def test_decode_uri(self):
        self.assertEqual(fastepost.hubspot_decode_uri("https://x/a%3Ab%20c?d=%2F"),
                         "https://x/a:b%20c?d=/")

    def test_gc(self):
        verifiers = [self.verifier() for _ in range(5)]
        for i in (3, 0, 4, 1, 2):
            verifiers[i] = None
            gc.collect()


if __name__ == "__main__":
    unittest.main()
