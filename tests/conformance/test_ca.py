"""Issue 20 item 2, the CA as Tencent ships it: the official Python SDK (and Python's own
ssl, zipfile and hashlib, never pgssl's code) over each new emulator behaviour.

- DescribeDBInstanceSSLConfig's cloud-disk fields CACert, CAJKS, CAP7B (tencentcloud-sdk-go
  v1.3.164, 2026-08-19; the Python SDK's models carry them too), answered with
  `--ca-inline pem|base64`, and absent by default as the official examples show.
- CAUrl serving the console's zip (TencentDB-PG-SSL-CA.zip: pem, p7b, jks with the
  password tencentdb_pg) or one DER certificate (`--ca-form zip|der`).
- CAUrl advertised under a host name (`--ca-host`), plain http as the official example.
"""

import base64
import hashlib
import io
import ssl
import unittest
import urllib.parse
import zipfile

from test_sdk import (  # noqa: F401  (the harness)
    EmulatorCase, GZ_PRIMARY, GZ_SSL_ON, fetch, typed,
)

JKS_PASSWORD = "tencentdb_pg"


def jks_certificates(data):
    """Read a JKS (v2, trusted-cert entries) independently of pgssl: check its keyed
    SHA-1 ("Mighty Aphrodite" over the UTF-16BE password) and return each DER."""
    body, digest = data[:-20], data[-20:]
    want = hashlib.sha1(JKS_PASSWORD.encode("utf-16-be") + b"Mighty Aphrodite" + body).digest()
    if digest != want:
        raise ValueError("the JKS digest does not check with tencentdb_pg")
    if body[:8] != b"\xfe\xed\xfe\xed\x00\x00\x00\x02":
        raise ValueError("not a JKS v2")
    count = int.from_bytes(body[8:12], "big")
    at, certs = 12, []
    for _ in range(count):
        tag = int.from_bytes(body[at:at + 4], "big")
        if tag != 2:
            raise ValueError("not a trusted-certificate entry")
        at += 4
        alias_len = int.from_bytes(body[at:at + 2], "big")
        at += 2 + alias_len + 8
        kind_len = int.from_bytes(body[at:at + 2], "big")
        if body[at + 2:at + 2 + kind_len] != b"X.509":
            raise ValueError("not X.509")
        at += 2 + kind_len
        length = int.from_bytes(body[at:at + 4], "big")
        certs.append(body[at + 4:at + 4 + length])
        at += 4 + length
    if at != len(body):
        raise ValueError("data after the last entry")
    return certs


def pkcs7_certificates(der):
    """The certificates of a degenerate PKCS#7 SignedData, walked with a tiny DER reader."""
    def tlv(b, at):
        tag, n = b[at], b[at + 1]
        at += 2
        if n & 0x80:
            k = n & 0x7F
            n = int.from_bytes(b[at:at + k], "big")
            at += k
        return tag, at, at + n

    tag, start, end = tlv(der, 0)             # ContentInfo
    assert tag == 0x30
    tag, s, e = tlv(der, start)               # OID signedData
    assert der[s:e] == bytes.fromhex("2a864886f70d010702"), der[s:e].hex()
    tag, s, _ = tlv(der, e)                   # [0] EXPLICIT
    tag, s, _ = tlv(der, s)                   # SignedData
    at = s
    for _ in range(3):                        # version, digestAlgorithms, contentInfo
        _, _, at = tlv(der, at)
    tag, s, e = tlv(der, at)                  # [0] IMPLICIT certificates
    assert tag == 0xA0, hex(tag)
    certs = []
    while s < e:
        _, _, stop = tlv(der, s)
        certs.append(der[s:stop])
        s = stop
    return certs


def one_ca(test, pem_text):
    """PEM text that OpenSSL loads as exactly one CA certificate, as DER."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cadata=pem_text)
    test.assertEqual(len(ctx.get_ca_certs()), 1, pem_text[:80])
    return ssl.PEM_cert_to_DER_cert(pem_text)


class InlineAbsentByDefault(EmulatorCase):
    """No official example shows the cloud-disk fields: by default they are not sent."""

    def test_the_sdk_reads_none(self):
        on = self.ssl_config(self.client(), GZ_SSL_ON)
        self.assertEqual((on.CACert, on.CAJKS, on.CAP7B), (None, None, None))
        doc = self.client().call_json("DescribeDBInstanceSSLConfig", {"DBInstanceId": GZ_SSL_ON})
        self.assertFalse({"CACert", "CAJKS", "CAP7B"} & set(doc["Response"]))


class InlinePem(EmulatorCase):
    """`--ca-inline pem`: CACert and CAP7B as PEM text, CAJKS as base64."""
    EMULATOR_ARGS = ("--ca-inline", "pem")

    def test_the_three_fields_hold_the_ca_behind_caurl(self):
        on = self.ssl_config(self.client(), GZ_SSL_ON)
        for field in (on.CACert, on.CAJKS, on.CAP7B):
            self.assertIsInstance(field, str)
        der = one_ca(self, on.CACert)
        _, _, served = fetch(on.CAUrl)
        self.assertEqual(der, ssl.PEM_cert_to_DER_cert(served.decode("ascii")))
        self.assertTrue(on.CAP7B.startswith("-----BEGIN PKCS7-----"), on.CAP7B[:40])
        p7b = base64.b64decode("".join(on.CAP7B.strip().splitlines()[1:-1]))
        self.assertEqual(pkcs7_certificates(p7b), [der])
        self.assertEqual(jks_certificates(base64.b64decode(on.CAJKS)), [der])

    def test_ssl_off_answers_empty_strings(self):
        off = self.ssl_config(self.client(), GZ_PRIMARY)
        self.assertEqual((off.CAUrl, off.CACert, off.CAJKS, off.CAP7B), ("", "", "", ""))


class InlineBase64(EmulatorCase):
    """`--ca-inline base64`: CACert and CAP7B as base64 DER."""
    EMULATOR_ARGS = ("--ca-inline", "base64")

    def test_base64_der(self):
        on = self.ssl_config(self.client(), GZ_SSL_ON)
        der = base64.b64decode(on.CACert)
        one_ca(self, ssl.DER_cert_to_PEM_cert(der))
        self.assertEqual(pkcs7_certificates(base64.b64decode(on.CAP7B)), [der])
        self.assertEqual(jks_certificates(base64.b64decode(on.CAJKS)), [der])


class ConsoleZip(EmulatorCase):
    """`--ca-form zip`: CAUrl serves TencentDB-PG-SSL-CA.zip with the pem, p7b and jks."""
    EMULATOR_ARGS = ("--ca-form", "zip")

    def test_the_zip_holds_three_forms_of_one_ca(self):
        on = self.ssl_config(self.client(), GZ_SSL_ON)
        self.assertTrue(on.CAUrl.endswith("/TencentDB-PG-SSL-CA.zip"), on.CAUrl)
        status, headers, body = fetch(on.CAUrl)
        self.assertEqual((status, headers.get("Content-Type")), (200, "application/zip"))
        with zipfile.ZipFile(io.BytesIO(body)) as z:
            self.assertIsNone(z.testzip())
            names = sorted(z.namelist())
            self.assertEqual(names, ["TencentDB-PG-SSL-CA.jks", "TencentDB-PG-SSL-CA.p7b",
                                     "TencentDB-PG-SSL-CA.pem"])
            der = one_ca(self, z.read("TencentDB-PG-SSL-CA.pem").decode("ascii"))
            self.assertEqual(pkcs7_certificates(z.read("TencentDB-PG-SSL-CA.p7b")), [der])
            self.assertEqual(jks_certificates(z.read("TencentDB-PG-SSL-CA.jks")), [der])


class DerAndHostName(EmulatorCase):
    """`--ca-form der --ca-host NAME`: one DER certificate, CAUrl under a host name."""
    EMULATOR_ARGS = ("--ca-form", "der", "--ca-host", "pgssl-emulator.invalid")

    def test_caurl_names_the_host_and_serves_der(self):
        on = self.ssl_config(self.client(), GZ_SSL_ON)
        url = urllib.parse.urlsplit(on.CAUrl)
        self.assertEqual((url.scheme, url.hostname, url.port), ("http", "pgssl-emulator.invalid",
                                                                self.emu.port))
        # The name resolves nowhere: fetched from the emulator's own address instead.
        local = on.CAUrl.replace("pgssl-emulator.invalid", "127.0.0.1")
        status, headers, der = fetch(local)
        self.assertEqual((status, headers.get("Content-Type")), (200, "application/pkix-cert"))
        one_ca(self, ssl.DER_cert_to_PEM_cert(der))


class RotatedWithoutNotice(EmulatorCase):
    """`--ca-rotate-after 1` (a fault): the CA changes, as Tencent's may, with nothing in
    the reply saying so; the SDK reads the same fields, and only the certificate differs."""
    EMULATOR_ARGS = ("--ca-rotate-after", "1")

    def test_the_second_download_is_another_valid_ca(self):
        on = self.ssl_config(self.client(), GZ_SSL_ON)
        _, _, first = fetch(on.CAUrl)
        again = self.ssl_config(self.client(), GZ_SSL_ON)
        self.assertEqual(again.CAUrl, on.CAUrl, "the same URL: nothing announces the change")
        _, _, second = fetch(again.CAUrl)
        a = one_ca(self, first.decode("ascii"))
        b = one_ca(self, second.decode("ascii"))
        self.assertNotEqual(hashlib.sha256(a).digest(), hashlib.sha256(b).digest())


if __name__ == "__main__":
    unittest.main()
