"""pgssl's own client, held to Tencent's official Python SDK.

- The request `pgssl ssl disable ... --dry-run` prints is re-signed with the SDK's own
  `Sign.sign_tc3`, from the canonical request the SDK would build for those bytes: the
  Authorization pgssl sends must be exactly the one the SDK computes.
- `pgssl ssl disable postgres-5gevh7gr --region ap-guangzhou --endpoint http://127.0.0.1:PORT
  --yes` with TENCENTCLOUD_SECRET_ID/KEY set sends one request the emulator accepts and prints
  the TaskId; the SDK then sees the task through DescribeTasks.
"""

import hashlib
import json
import os
import re
import subprocess
import tempfile
import unittest

from tencentcloud.common.sign import Sign

from test_sdk import (  # shared harness: the emulator process and SDK clients
    GZ_SSL_ON,
    SECRET_ID,
    SECRET_KEY,
    Emulator,
    make_client,
    pgssl_bin,
)


def pgssl(args, env_extra=None, home=None):
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": home,
        "PGSSL_CONFIG_DIR": os.path.join(home, "config"),
        "PGSSL_DATA_DIR": os.path.join(home, "data"),
        "TENCENTCLOUD_SECRET_ID": SECRET_ID,
        "TENCENTCLOUD_SECRET_KEY": SECRET_KEY,
        "NO_PROXY": "127.0.0.1",
    }
    env.update(env_extra or {})
    return subprocess.run([pgssl_bin()] + args, env=env, capture_output=True, text=True, timeout=60)


def parse_dry_run(text):
    lines = text.split("\n")
    method, url = lines[0].split(" ", 1)
    headers = {}
    i = 1
    while lines[i]:
        name, value = lines[i].split(": ", 1)
        headers[name] = value
        i += 1
    body = "\n".join(lines[i + 1:]).rstrip("\n")
    return method, url, headers, body


class PgsslSignatureMatchesTheSdk(unittest.TestCase):
    # A dry run reads the instance as a real run does (and sends no change), so it talks
    # to the emulator on loopback, never to a Tencent host.
    @classmethod
    def setUpClass(cls):
        cls.emu = Emulator(task_seconds=1).start()
        cls.endpoint = "http://" + cls.emu.clean_host

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()

    def setUp(self):
        self._home = tempfile.TemporaryDirectory(prefix="pgssl-conf-")
        self.home = self._home.name

    def tearDown(self):
        self._home.cleanup()

    def check(self, endpoint, args):
        run = pgssl(["--endpoint", endpoint, "--region", "ap-guangzhou"] + args + ["--dry-run"], home=self.home)
        self.assertEqual(run.returncode, 0, run.stderr)
        method, url, headers, body = parse_dry_run(run.stdout)
        self.assertEqual(method, "POST")
        self.assertEqual(headers["Content-Type"], "application/json")
        self.assertEqual(headers["X-TC-Version"], "2017-03-12")
        self.assertEqual(headers["X-TC-Action"], "ModifyDBInstanceSSLConfig")
        self.assertEqual(headers["X-TC-Region"], "ap-guangzhou")
        self.assertTrue(headers["X-TC-RequestClient"].startswith("pgssl/"))
        auth = headers["Authorization"]
        m = re.fullmatch(
            r"TC3-HMAC-SHA256 Credential=([^/]+)/(\d{4}-\d{2}-\d{2})/postgres/tc3_request, "
            r"SignedHeaders=content-type;host, Signature=([0-9a-f]{8})\.\.\. \(not shown whole: [^)]*\)",
            auth,
        )
        self.assertIsNotNone(m, auth)
        secret_id, date, signature = m.groups()
        # The printout masks the SecretId and shows the signature's first 8 hex digits
        # only, so it cannot be replayed by whoever sees it; those 8 digits are the SDK's.
        self.assertEqual(secret_id, SECRET_ID[:4] + "****" + SECRET_ID[-4:])
        self.assertNotIn(SECRET_ID, run.stdout + run.stderr)
        timestamp = headers["X-TC-Timestamp"]
        # The canonical request exactly as abstract_client._get_tc3_signature builds it.
        canonical = "\n".join([
            "POST", "/", "",
            "content-type:%s\nhost:%s\n" % (headers["Content-Type"], headers["Host"]),
            "content-type;host",
            hashlib.sha256(body.encode("utf-8")).hexdigest(),
        ])
        string_to_sign = "TC3-HMAC-SHA256\n%s\n%s/postgres/tc3_request\n%s" % (
            timestamp, date, hashlib.sha256(canonical.encode("utf-8")).hexdigest())
        full = Sign.sign_tc3(SECRET_KEY, date, "postgres", string_to_sign)
        self.assertEqual(full[:8], signature)
        self.assertNotIn(full, run.stdout + run.stderr)
        self.assertNotIn(SECRET_KEY, run.stdout + run.stderr)
        return headers, json.loads(body)

    def test_enable_request_is_signed_as_the_sdk_signs(self):
        headers, body = self.check(self.endpoint,
                                   ["ssl", "enable", "postgres-6bwgamo3", "--address", "private"])
        self.assertEqual(headers["Host"], self.emu.clean_host)
        self.assertEqual(body, {"DBInstanceId": "postgres-6bwgamo3", "SSLEnabled": True, "ConnectAddress": "10.6.0.4"})

    def test_disable_request_over_loopback_is_signed_as_the_sdk_signs(self):
        headers, body = self.check(self.endpoint, ["ssl", "disable", GZ_SSL_ON])
        self.assertEqual(headers["Host"], self.emu.clean_host)
        self.assertEqual(body, {"DBInstanceId": GZ_SSL_ON, "SSLEnabled": False})


class PgsslAgainstTheEmulator(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emu = Emulator(task_seconds=1).start()
        cls.endpoint = "http://" + cls.emu.clean_host

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()

    def test_disable_sends_one_request_and_prints_the_task_id(self):
        tmp = tempfile.TemporaryDirectory(prefix="pgssl-conf-")
        self.addCleanup(tmp.cleanup)
        home = tmp.name
        run = pgssl(["ssl", "disable", GZ_SSL_ON, "--region", "ap-guangzhou",
                     "--endpoint", self.endpoint, "--yes"], home=home)
        self.assertEqual(run.returncode, 0, run.stderr)
        m = re.search(r"TaskId (\d+), RequestId ([0-9a-f-]{36})", run.stdout)
        self.assertIsNotNone(m, run.stdout)
        task_id = int(m.group(1))
        # The official SDK sees the task pgssl started.
        from tencentcloud.postgres.v20170312 import models
        client = make_client(self.emu)
        req = models.DescribeTasksRequest()
        req.TaskId = task_id
        resp = client.DescribeTasks(req)
        self.assertEqual(resp.TaskSet[0].DBInstanceId, GZ_SSL_ON)
        journal = open(os.path.join(home, "data", "journal.jsonl")).read().splitlines()
        self.assertEqual(json.loads(journal[1])["TaskId"], task_id)


if __name__ == "__main__":
    unittest.main()
