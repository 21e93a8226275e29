"""Conformance suite: drive a running `pgssl emulator` through Tencent's OFFICIAL Python SDK
(tencentcloud-sdk-python-common + tencentcloud-sdk-python-postgres) and check that the emulator
behaves like the TencentDB for PostgreSQL API (postgres, 2017-03-12).

Run it with tests/conformance/run.sh (it builds the binary and prepares the venv), or directly:

    PGSSL_BIN=target/debug/pgssl .venv/bin/python -m unittest discover -s tests/conformance -v

Standard library only, besides the SDK. Each test class starts its own emulator process
(per test where a test needs special flags) and stops it afterwards.
"""

import collections
import concurrent.futures
import hashlib
import hmac
import http.client
import json
import os
import re
import select
import signal
import ssl
import subprocess
import tempfile
import threading
import time
import types
import unittest
import urllib.request
import warnings

# Loopback only: never let a proxy from the environment sit between the SDK and the emulator.
for _var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
    os.environ.pop(_var, None)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

from tencentcloud.common import abstract_client  # noqa: E402
from tencentcloud.common import credential  # noqa: E402
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException  # noqa: E402
from tencentcloud.common.http.request import RequestInternal  # noqa: E402
from tencentcloud.common.profile.client_profile import ClientProfile  # noqa: E402
from tencentcloud.common.profile.http_profile import HttpProfile  # noqa: E402
from tencentcloud.postgres.v20170312 import models, postgres_client  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
MUMBAI_FLEET = os.path.join(HERE, "fleet-mumbai.json")

SECRET_ID = "AKIDconformanceSuite0000000000000000"
SECRET_KEY = "conformanceSecretKey000000000000"
TOKEN = "conformance-session-token-0001"
UUID_RE = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"

SSL_REGIONS = [
    "ap-bangkok", "ap-beijing", "ap-chengdu", "ap-chongqing", "ap-guangzhou", "ap-hongkong",
    "ap-jakarta", "ap-nanjing", "ap-seoul", "ap-shanghai", "ap-shanghai-fsi", "ap-shenzhen-fsi",
    "ap-singapore", "ap-tokyo", "eu-frankfurt", "na-ashburn", "na-siliconvalley", "sa-saopaulo",
]

# The demo fleet (crates/emulator/assets/demo-fleet.json): six instances in ap-guangzhou,
# one of them on PostgreSQL 10 (postgres-m9t4e2xd).
GZ_PRIMARY = "postgres-6bwgamo3"          # private 10.6.0.4, public 203.0.113.17, SSL off
GZ_PRIMARY_PRIVATE = "10.6.0.4"
GZ_PRIMARY_PUBLIC = "203.0.113.17"
GZ_RO1 = "pgro-ro9x2k1q"                  # own IP 10.6.0.9, group pgrogrp-4t9mxl3a
GZ_RO1_IP = "10.6.0.9"
GZ_RO2 = "pgro-ro4m7c2z"                  # own IP 10.6.0.11
GZ_RO2_IP = "10.6.0.11"
GZ_GROUP = "pgrogrp-4t9mxl3a"
GZ_GROUP_IP = "10.6.0.20"
GZ_SSL_ON = "postgres-5gevh7gr"           # SSL on at 10.6.1.21
GZ_SSL_ON_IP = "10.6.1.21"
GZ_ISOLATED = "postgres-k3j9w2qa"
SH_PRIMARY = "postgres-p8d4x1ve"
SH_RESTARTING = "postgres-w2c6r9tm"
FRA_PRIMARY = "postgres-f4q8z3lu"         # SSL on at its public domain, private 10.80.0.12
FRA_PUBLIC = "192.0.2.44"
FRA_DOMAIN = "fra-postgres-f4q8z3lu.sql.tencentcdb.com"
FRA_PRIVATE = "10.80.0.12"


def pgssl_bin():
    path = os.environ.get("PGSSL_BIN") or os.path.join(REPO, "target", "debug", "pgssl")
    if not os.access(path, os.X_OK):
        raise RuntimeError("pgssl binary not found at %s: build it (cargo build) or set PGSSL_BIN" % path)
    return path


# --------------------------------------------------------------------------- the emulator process

DEMO_FLEET = os.path.join(REPO, "crates", "emulator", "assets", "demo-fleet.json")
_QUIET_FLEET = []


def quiet_fleet():
    """The demo fleet without the tasks other operations left (its TaskSet), so counts of
    tasks in most tests are the tests' own; RealApiShapes runs on the whole demo fleet."""
    if not _QUIET_FLEET:
        with open(DEMO_FLEET) as f:
            fleet = json.load(f)
        fleet.pop("TaskSet", None)
        handle = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
        json.dump(fleet, handle)
        handle.close()
        _QUIET_FLEET.append(handle.name)
    return _QUIET_FLEET[0]


class Emulator(object):
    """One `pgssl emulator` process on 127.0.0.1 with an OS-chosen port."""

    def __init__(self, *extra, token=None, task_seconds=None, fleet=None, demo=False, tls=False):
        self.args = [pgssl_bin(), "emulator", "--listen", "127.0.0.1:0",
                     "--secret-id", SECRET_ID, "--secret-key", SECRET_KEY]
        if token is not None:
            self.args += ["--token", token]
        if task_seconds is not None:
            self.args += ["--task-seconds", str(task_seconds)]
        if fleet is not None:
            self.args += ["--fleet", fleet]
        elif not demo:
            self.args += ["--fleet", quiet_fleet()]
        self.ca_file = None
        if tls:
            handle = tempfile.NamedTemporaryFile(suffix=".pem", delete=False)
            handle.close()
            self.ca_file = handle.name
            self.args += ["--tls", "--tls-ca-out", self.ca_file]
        self.args += [str(a) for a in extra]
        self.proc = None
        self.port = None
        self.log = None

    def start(self, deadline=30.0):
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self.log)
        end = time.monotonic() + deadline
        line = b""
        while not line.endswith(b"\n"):
            left = end - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                break
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 1)
                if not chunk:
                    break
                line += chunk
        m = re.match(rb"^pgssl emulator listening on https?://127\.0\.0\.1:(\d+)\n$", line)
        if not m:
            self.stop()
            raise RuntimeError("emulator did not start (%r); first stdout line %r; stderr:\n%s"
                               % (self.args, line, self.stderr_text()))
        self.port = int(m.group(1))
        return self

    def stderr_text(self):
        if self.log is None:
            return ""
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        if self.log is not None:
            self.log.close()
            self.log = None

    @property
    def clean_host(self):
        return "127.0.0.1:%d" % self.port

    @property
    def verbatim_host(self):
        return "http://127.0.0.1:%d" % self.port


# --------------------------------------------------------------------------- pacing

class Pacer(object):
    """Keeps the suite's own traffic under the emulator's 20 requests/s per action, so that
    only the rate-limit test ever sees RequestLimitExceeded."""

    LIMIT = 15

    def __init__(self):
        self._sent = collections.defaultdict(collections.deque)
        self._lock = threading.Lock()

    def wait(self, key, action):
        if key is None:
            return
        with self._lock:
            q = self._sent[(key, action)]
            while True:
                now = time.monotonic()
                while q and now - q[0] >= 1.05:
                    q.popleft()
                if len(q) < self.LIMIT:
                    q.append(now)
                    return
                time.sleep(1.05 - (now - q[0]) + 0.01)


PACER = Pacer()


# --------------------------------------------------------------------------- SDK clients

class ConformanceClient(postgres_client.PostgresClient):
    """The official PostgresClient, plus: pacing, a record of every HTTP exchange
    (requests.Response objects, whose .request is what went on the wire) and an optional
    hook that may change a request after the SDK signed it."""

    pace_key = None
    tamper = None

    def _call(self, action, params, options=None, headers=None):
        PACER.wait(self.pace_key, action)
        return super(ConformanceClient, self)._call(action, params, options, headers)


def make_client(emu, host_form="clean", region="ap-guangzhou", secret_id=SECRET_ID,
                secret_key=SECRET_KEY, token=None, timeout=10, paced=True, customize=None):
    if host_form == "clean":
        # HttpProfile(protocol="http", endpoint="HOST:PORT"): Host header and signed host are HOST:PORT.
        http_profile = HttpProfile(protocol="http", endpoint=emu.clean_host, reqTimeout=timeout)
    elif host_form == "https":
        # The production path: https, the emulator's certificate trusted through its CA.
        http_profile = HttpProfile(protocol="https", endpoint=emu.clean_host, reqTimeout=timeout,
                                   certification=emu.ca_file)
    elif host_form == "verbatim":
        # tccli --endpoint http://HOST:PORT: the scheme stays in the endpoint, so the SDK sends and
        # signs the literal Host header "http://HOST:PORT".
        http_profile = HttpProfile(endpoint=emu.verbatim_host, reqTimeout=timeout)
    else:
        raise ValueError(host_form)
    profile = ClientProfile(httpProfile=http_profile, language="en-US")
    if customize is not None:
        customize(profile)
    cred = credential.Credential(secret_id, secret_key, token)
    client = ConformanceClient(cred, region, profile)
    client.pace_key = emu.port if paced else None
    client.exchanges = []
    session = client.request.conn._session
    send = session.request

    def recording_request(method=None, url=None, **kwargs):
        if client.tamper is not None:
            client.tamper(kwargs)
        try:
            resp = send(method=method, url=url, **kwargs)
        except Exception:
            client.exchanges.append(None)
            raise
        client.exchanges.append(resp)
        return resp

    session.request = recording_request
    return client


def typed(client, action, params=None, **fields):
    """PostgresClient.<Action>(models.<Action>Request()): the typed path application code uses.
    Fails if the SDK warns that the reply has fields its models do not know."""
    if isinstance(params, getattr(models, action + "Request")):
        req = params
    else:
        req = getattr(models, action + "Request")()
        if params:
            req.from_json_string(json.dumps(params))
    for name, value in fields.items():
        setattr(req, name, value)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        resp = getattr(client, action)(req)
    useless = [str(w.message) for w in caught if "useless" in str(w.message)]
    if useless:
        raise AssertionError("%s: the reply has fields the SDK models do not know: %s" % (action, useless))
    return resp


def filt(name, *values):
    f = models.Filter()
    f.Name = name
    f.Values = list(values)
    return f


# --------------------------------------------------------------------------- raw HTTP

def raw_post(port, headers, body, timeout=10):
    """POST / with exactly these headers (Host included, verbatim). Returns (status, headers, body)."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.putrequest("POST", "/", skip_host=True, skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name, value)
        if not any(n.lower() == "content-length" for n in headers):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    finally:
        conn.close()


def sdk_signed_request(client, action, params, body=None, scope_date=None):
    """Headers and body exactly as the SDK would send them, built and signed by the SDK's own
    code. With `body`, the body is replaced; with `scope_date`, the credential scope's date is;
    either way the request is re-signed with the SDK's own TC3 signer."""
    req = RequestInternal(client._get_endpoint(), "POST", "/", header={})
    client._build_req_inter(action, params, req)
    if body is not None or scope_date is not None:
        if body is not None:
            req.data = body
        auth = req.header["Authorization"]
        date = re.search(r"Credential=[^/]+/(\d{4}-\d{2}-\d{2})/", auth).group(1)
        if scope_date is not None:
            auth = auth.replace("/%s/" % date, "/%s/" % scope_date)
            date = scope_date
        _, key, _ = client.credential.get_credential_info()
        sig = client._get_tc3_signature(None, req, date, client._service, key)
        req.header["Authorization"] = re.sub(r"Signature=[0-9a-f]+$", "Signature=" + sig, auth)
    data = req.data.encode("utf-8") if isinstance(req.data, str) else req.data
    return dict(req.header), data


def tc3_sign(headers, body, signed_headers, secret_id=SECRET_ID, secret_key=SECRET_KEY):
    """An independent TC3-HMAC-SHA256 signer (checked against the SDK's by a test), for
    requests the SDK cannot make, such as ones that sign more headers than content-type;host."""
    lower = {k.lower(): v for k, v in headers.items()}
    ts = int(lower["x-tc-timestamp"])
    date = time.strftime("%Y-%m-%d", time.gmtime(ts))
    canonical = "POST\n/\n\n%s\n%s\n%s" % (
        "".join("%s:%s\n" % (h, lower[h]) for h in signed_headers),
        ";".join(signed_headers), hashlib.sha256(body).hexdigest())
    scope = "%s/postgres/tc3_request" % date
    to_sign = "TC3-HMAC-SHA256\n%d\n%s\n%s" % (ts, scope, hashlib.sha256(canonical.encode()).hexdigest())

    def mac(key, msg):
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    k = mac(mac(mac(("TC3" + secret_key).encode(), date), "postgres"), "tc3_request")
    sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    return "TC3-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        secret_id, scope, ";".join(signed_headers), sig)


def fetch(url, timeout=10, cafile=None):
    handlers = [urllib.request.ProxyHandler({})]
    if cafile:
        handlers.append(urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=cafile)))
    opener = urllib.request.build_opener(*handlers)
    with opener.open(url, timeout=timeout) as r:
        return r.status, r.headers, r.read()


# --------------------------------------------------------------------------- base test case

class EmulatorCase(unittest.TestCase):
    EMULATOR_ARGS = ()
    EMULATOR_KW = {}
    HOST_FORM = "clean"

    @classmethod
    def setUpClass(cls):
        cls.emu = Emulator(*cls.EMULATOR_ARGS, **cls.EMULATOR_KW).start()

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()

    def client(self, **kw):
        kw.setdefault("host_form", self.HOST_FORM)
        return make_client(self.emu, **kw)

    def start_emulator(self, *args, **kw):
        """An extra emulator for one test, stopped when the test ends."""
        emu = Emulator(*args, **kw).start()
        self.addCleanup(emu.stop)
        return emu

    # ---- assertions

    def assertEnvelope(self, resp, success):
        """HTTP 200, Content-Type exactly application/json, a RequestId, Error only on failure."""
        self.assertIsNotNone(resp, "no HTTP response was recorded")
        self.assertEqual(resp.status_code, 200)
        self.assertEqual(resp.headers.get("Content-Type"), "application/json")
        doc = json.loads(resp.content)
        self.assertEqual(list(doc.keys()), ["Response"])
        self.assertRegex(doc["Response"].get("RequestId", ""), UUID_RE)
        self.assertEqual("Error" in doc["Response"], not success, doc)
        return doc["Response"]

    def assertApiError(self, client, code, fn, *args, **kwargs):
        """fn raises TencentCloudSDKException(code) that came from an API error envelope."""
        before = len(client.exchanges)
        with self.assertRaises(TencentCloudSDKException) as cm:
            fn(*args, **kwargs)
        e = cm.exception
        self.assertEqual(e.code, code, "expected %s, got %s" % (code, e))
        self.assertTrue(e.message, "an API error carries a message")
        self.assertEqual(len(client.exchanges), before + 1)
        body = self.assertEnvelope(client.exchanges[-1], success=False)
        self.assertEqual(body["Error"]["Code"], code)
        self.assertEqual(e.requestId, body["RequestId"])
        return e

    def assertRawError(self, status, headers, body, code):
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("content-type"), "application/json")
        doc = json.loads(body)
        self.assertEqual(doc["Response"]["Error"]["Code"], code, doc)
        self.assertTrue(doc["Response"]["Error"]["Message"])
        self.assertRegex(doc["Response"]["RequestId"], UUID_RE)
        return doc["Response"]

    # ---- task helpers

    def modify_ssl(self, client, instance, enabled, address=None):
        req = models.ModifyDBInstanceSSLConfigRequest()
        req.DBInstanceId = instance
        req.SSLEnabled = enabled
        if address is not None:
            req.ConnectAddress = address
        resp = typed(client, "ModifyDBInstanceSSLConfig", req)
        self.assertIsInstance(resp.TaskId, int)
        self.assertNotIsInstance(resp.TaskId, bool)
        self.assertGreater(resp.TaskId, 0)
        self.assertRegex(resp.RequestId, UUID_RE)
        return resp.TaskId

    def task(self, client, task_id):
        resp = typed(client, "DescribeTasks", TaskId=task_id)
        self.assertEqual(resp.TotalCount, 1, "DescribeTasks TaskId=%s" % task_id)
        self.assertEqual(len(resp.TaskSet), 1)
        t = resp.TaskSet[0]
        self.assertEqual(t.TaskId, task_id)
        return t

    def wait_task(self, client, task_id, deadline=20.0, interval=0.1):
        """Poll DescribeTasks until the task leaves Running; returns (final task, [(status, progress)])."""
        seen = []
        end = time.monotonic() + deadline
        while True:
            t = self.task(client, task_id)
            seen.append((t.Status, t.Progress))
            if t.Status != "Running":
                return t, seen
            if time.monotonic() > end:
                self.fail("task %s still Running after %.0f s: %s" % (task_id, deadline, seen))
            time.sleep(interval)

    def ssl_config(self, client, instance):
        return typed(client, "DescribeDBInstanceSSLConfig", DBInstanceId=instance)

    def status_of(self, client, instance):
        return typed(client, "DescribeDBInstanceAttribute", DBInstanceId=instance).DBInstance.DBInstanceStatus


# --------------------------------------------------------------------------- success paths

class SuccessPaths(object):
    """Every action's success path through the typed models; run once per Host form."""

    def test_describe_regions(self):
        c = self.client()
        resp = typed(c, "DescribeRegions")
        self.assertEqual(resp.TotalCount, len(resp.RegionSet))
        regions = [r.Region for r in resp.RegionSet]
        self.assertEqual(len(set(regions)), len(regions))
        self.assertTrue(set(SSL_REGIONS) <= set(regions), regions)
        gz = [r for r in resp.RegionSet if r.Region == "ap-guangzhou"][0]
        self.assertIsInstance(gz.RegionId, int)
        self.assertTrue(gz.RegionName)
        # As tccli's example: a region Tencent no longer serves is listed UNAVAILABLE.
        self.assertEqual({r.RegionState for r in resp.RegionSet}, {"AVAILABLE", "UNAVAILABLE"})
        states = {r.Region: r.RegionState for r in resp.RegionSet}
        self.assertEqual(states["na-toronto"], "UNAVAILABLE")
        self.assertEqual(states["me-saudi-arabia"], "AVAILABLE")
        self.assertEnvelope(c.exchanges[-1], success=True)

    def test_describe_regions_needs_no_region(self):
        c = self.client(region=None)
        resp = typed(c, "DescribeRegions")
        self.assertGreaterEqual(resp.TotalCount, 18)
        self.assertNotIn("X-TC-Region", c.exchanges[-1].request.headers)

    def test_host_header_form(self):
        c = self.client()
        typed(c, "DescribeRegions")
        sent = c.exchanges[-1].request.headers["Host"]
        expected = self.emu.verbatim_host if self.HOST_FORM == "verbatim" else self.emu.clean_host
        self.assertEqual(sent, expected)

    def test_describe_instances_parses_primary(self):
        c = self.client()
        resp = typed(c, "DescribeDBInstances", Filters=[filt("db-instance-id", GZ_PRIMARY)])
        self.assertEqual(resp.TotalCount, 1)
        self.assertEqual(len(resp.DBInstanceSet), 1)
        i = resp.DBInstanceSet[0]
        self.assertIsInstance(i, models.DBInstance)
        self.assertEqual(i.DBInstanceId, GZ_PRIMARY)
        self.assertEqual(i.DBInstanceName, "orders-db")
        self.assertEqual(i.Region, "ap-guangzhou")
        self.assertEqual(i.Zone, "ap-guangzhou-3")
        self.assertEqual(i.DBInstanceStatus, "running")
        self.assertEqual(i.DBInstanceType, "primary")
        self.assertEqual(i.DBInstanceMemory, 4)
        self.assertIsInstance(i.DBInstanceMemory, int)
        self.assertEqual(i.ReadOnlyInstanceNum, 2)
        self.assertIs(i.DeletionProtection, False)
        self.assertIsInstance(i.DBInstanceNetInfo[0], models.DBInstanceNetInfo)
        self.assertEqual(i.DBInstanceNetInfo[0].Ip, GZ_PRIMARY_PRIVATE)
        self.assertEqual(i.DBInstanceNetInfo[0].Port, 5432)
        self.assertEqual(i.DBInstanceNetInfo[0].NetType, "private")
        self.assertEqual(i.DBInstanceNetInfo[1].Ip, GZ_PRIMARY_PUBLIC)
        self.assertEqual(i.DBInstanceNetInfo[1].NetType, "public")
        self.assertEqual(i.DBInstanceNetInfo[1].Port, 21032)
        self.assertEqual(i.DBInstanceNetInfo[1].Address, "gz-postgres-6bwgamo3.sql.tencentcdb.com")
        self.assertEqual([(t.TagKey, t.TagValue) for t in i.TagList], [("team", "checkout")])
        self.assertEqual([n.Role for n in i.DBNodeSet], ["Primary", "Standby"])
        self.assertEnvelope(c.exchanges[-1], success=True)

    def test_describe_instances_filter_by_ids(self):
        c = self.client()
        resp = typed(c, "DescribeDBInstances",
                     {"Filters": [{"Name": "db-instance-id", "Values": [GZ_PRIMARY, GZ_RO1]}],
                      "Limit": 20, "Offset": 0})
        self.assertEqual(resp.TotalCount, 2)
        self.assertEqual(sorted(i.DBInstanceId for i in resp.DBInstanceSet), sorted([GZ_PRIMARY, GZ_RO1]))
        ro = [i for i in resp.DBInstanceSet if i.DBInstanceId == GZ_RO1][0]
        self.assertEqual(ro.DBInstanceType, "readonly")
        self.assertEqual(ro.MasterDBInstanceId, GZ_PRIMARY)
        self.assertEqual(ro.DBInstanceNetInfo[0].Ip, GZ_RO1_IP)

    def test_describe_instances_other_filters(self):
        c = self.client()
        by_name = typed(c, "DescribeDBInstances", Filters=[filt("db-instance-name", "orders")])
        self.assertEqual(by_name.TotalCount, 3)
        self.assertEqual(sorted(i.DBInstanceId for i in by_name.DBInstanceSet),
                         sorted([GZ_PRIMARY, GZ_RO1, GZ_RO2]))
        by_name2 = typed(c, "DescribeDBInstances", Filters=[filt("db-instance-name", "db-ro-")])
        self.assertEqual(sorted(i.DBInstanceId for i in by_name2.DBInstanceSet), sorted([GZ_RO1, GZ_RO2]))
        by_ip = typed(c, "DescribeDBInstances", Filters=[filt("db-private-ip", GZ_SSL_ON_IP)])
        self.assertEqual([i.DBInstanceId for i in by_ip.DBInstanceSet], [GZ_SSL_ON])
        # a public IP is not a private IP
        self.assertEqual(typed(c, "DescribeDBInstances",
                               Filters=[filt("db-private-ip", GZ_PRIMARY_PUBLIC)]).TotalCount, 0)
        by_public = typed(c, "DescribeDBInstances", Filters=[filt("db-public-address", GZ_PRIMARY_PUBLIC)])
        self.assertEqual([i.DBInstanceId for i in by_public.DBInstanceSet], [GZ_PRIMARY])
        # filters are ANDed
        both = typed(c, "DescribeDBInstances", Filters=[filt("db-instance-name", "orders"),
                                                         filt("db-private-ip", GZ_RO2_IP)])
        self.assertEqual([i.DBInstanceId for i in both.DBInstanceSet], [GZ_RO2])

    def test_describe_instances_is_region_scoped(self):
        gz = typed(self.client(), "DescribeDBInstances")
        self.assertEqual(gz.TotalCount, 6)
        self.assertEqual({i.Region for i in gz.DBInstanceSet}, {"ap-guangzhou"})
        statuses = {i.DBInstanceId: i.DBInstanceStatus for i in gz.DBInstanceSet}
        self.assertEqual(statuses[GZ_ISOLATED], "isolated")
        sh = typed(self.client(region="ap-shanghai"), "DescribeDBInstances")
        self.assertEqual(sh.TotalCount, 3)
        self.assertEqual({i.DBInstanceId: i.DBInstanceStatus for i in sh.DBInstanceSet}[SH_RESTARTING],
                         "restarting")
        # the same id asked for in another region is not there
        self.assertEqual(typed(self.client(region="ap-shanghai"), "DescribeDBInstances",
                               Filters=[filt("db-instance-id", GZ_PRIMARY)]).TotalCount, 0)
        empty = typed(self.client(region="ap-tokyo"), "DescribeDBInstances")
        self.assertEqual(empty.TotalCount, 0)
        self.assertEqual(empty.DBInstanceSet or [], [])

    def test_describe_instances_paging_141_in_singapore(self):
        c = self.client(region="ap-singapore")
        first = typed(c, "DescribeDBInstances", Limit=100, Offset=0)
        self.assertEqual(first.TotalCount, 141)
        self.assertEqual(len(first.DBInstanceSet), 100)
        second = typed(c, "DescribeDBInstances", Limit=100, Offset=100)
        self.assertEqual(second.TotalCount, 141)
        self.assertEqual(len(second.DBInstanceSet), 41)
        ids = [i.DBInstanceId for i in first.DBInstanceSet + second.DBInstanceSet]
        self.assertEqual(len(set(ids)), 141, "pages overlap or repeat instances")
        self.assertIn("postgres-h6v1b8yn", ids)
        self.assertTrue(all(re.match(r"^postgres-[a-z0-9]{8}$", i) for i in ids))
        # Limit 0 and no Limit both mean the default page of 10
        self.assertEqual(len(typed(c, "DescribeDBInstances", Limit=0).DBInstanceSet), 10)
        default = typed(c, "DescribeDBInstances")
        self.assertEqual((default.TotalCount, len(default.DBInstanceSet)), (141, 10))
        # an offset past the end: empty page, same total
        past = typed(c, "DescribeDBInstances", Limit=100, Offset=200)
        self.assertEqual((past.TotalCount, past.DBInstanceSet or []), (141, []))
        # pages of the default order agree with one big page
        small = typed(c, "DescribeDBInstances", Limit=7, Offset=93)
        self.assertEqual([i.DBInstanceId for i in small.DBInstanceSet], ids[93:100])

    def test_describe_instances_order_by_name_desc(self):
        c = self.client(region="ap-guangzhou")
        resp = typed(c, "DescribeDBInstances", OrderBy="Name", OrderByType="desc")
        names = [i.DBInstanceName for i in resp.DBInstanceSet]
        self.assertEqual(len(names), 6)
        self.assertEqual(names, sorted(names, reverse=True))

    def test_describe_instance_attribute(self):
        c = self.client()
        resp = typed(c, "DescribeDBInstanceAttribute", DBInstanceId=GZ_PRIMARY)
        self.assertIsInstance(resp.DBInstance, models.DBInstance)
        self.assertEqual(resp.DBInstance.DBInstanceId, GZ_PRIMARY)
        self.assertEqual(resp.DBInstance.DBInstanceNetInfo[0].Ip, GZ_PRIMARY_PRIVATE)
        self.assertEqual(resp.DBInstance.DBInstanceNetInfo[1].Ip, GZ_PRIMARY_PUBLIC)
        ro = typed(c, "DescribeDBInstanceAttribute", DBInstanceId=GZ_RO2).DBInstance
        self.assertEqual((ro.DBInstanceType, ro.MasterDBInstanceId, ro.StatusInReadonlyGroup),
                         ("readonly", GZ_PRIMARY, "ok"))
        self.assertEqual(ro.DBInstanceNetInfo[0].Ip, GZ_RO2_IP)
        self.assertEnvelope(c.exchanges[-1], success=True)

    def test_describe_read_only_groups(self):
        c = self.client()
        resp = typed(c, "DescribeReadOnlyGroups", Filters=[filt("db-master-instance-id", GZ_PRIMARY)],
                     PageSize=10, PageNumber=1)
        self.assertEqual(len(resp.ReadOnlyGroupList), 1)
        g = resp.ReadOnlyGroupList[0]
        self.assertIsInstance(g, models.ReadOnlyGroup)
        self.assertEqual(g.ReadOnlyGroupId, GZ_GROUP)
        self.assertEqual(g.MasterDBInstanceId, GZ_PRIMARY)
        self.assertEqual(g.DBInstanceNetInfo[0].Ip, GZ_GROUP_IP)
        self.assertEqual(g.MaxReplayLag, 30.0)
        self.assertEqual(g.Status, "ok")
        self.assertEqual(sorted(m.DBInstanceId for m in g.ReadOnlyDBInstanceList), sorted([GZ_RO1, GZ_RO2]))
        self.assertTrue(all(isinstance(m, models.DBInstance) for m in g.ReadOnlyDBInstanceList))
        self.assertTrue(all(m.MasterDBInstanceId == GZ_PRIMARY for m in g.ReadOnlyDBInstanceList))
        # the second page is empty; a primary without groups has none; group-id filter narrows
        page2 = typed(c, "DescribeReadOnlyGroups", Filters=[filt("db-master-instance-id", GZ_PRIMARY)],
                      PageSize=1, PageNumber=2)
        self.assertEqual(page2.ReadOnlyGroupList or [], [])
        none = typed(c, "DescribeReadOnlyGroups", Filters=[filt("db-master-instance-id", GZ_SSL_ON)])
        self.assertEqual(none.ReadOnlyGroupList or [], [])
        other = typed(c, "DescribeReadOnlyGroups", Filters=[filt("db-master-instance-id", GZ_PRIMARY),
                                                             filt("read-only-group-id", "pgrogrp-00000000")])
        self.assertEqual(other.ReadOnlyGroupList or [], [])
        self.assertEnvelope(c.exchanges[-1], success=True)

    def test_describe_ssl_config(self):
        c = self.client()
        on = self.ssl_config(c, GZ_SSL_ON)
        self.assertIs(on.SSLEnabled, True)
        self.assertEqual(on.ConnectAddress, GZ_SSL_ON_IP)
        self.assertRegex(on.RequestId, UUID_RE)
        off = self.ssl_config(c, GZ_PRIMARY)
        self.assertIs(off.SSLEnabled, False)
        self.assertFalse(off.ConnectAddress)
        fra = self.ssl_config(self.client(region="eu-frankfurt"), FRA_PRIMARY)
        self.assertEqual((fra.SSLEnabled, fra.ConnectAddress), (True, FRA_DOMAIN))
        self.assertEnvelope(c.exchanges[-1], success=True)

    def test_ca_url_serves_a_pem_ca_certificate(self):
        resp = self.ssl_config(self.client(), GZ_SSL_ON)
        self.assertTrue(resp.CAUrl)
        scheme = "https" if self.emu.ca_file else "http"
        self.assertTrue(resp.CAUrl.startswith("%s://127.0.0.1:%d/" % (scheme, self.emu.port)), resp.CAUrl)
        status, _, pem = fetch(resp.CAUrl, cafile=self.emu.ca_file)
        self.assertEqual(status, 200)
        text = pem.decode("ascii")
        self.assertTrue(text.startswith("-----BEGIN CERTIFICATE-----"), text[:60])
        self.assertEqual(text.strip().splitlines()[-1], "-----END CERTIFICATE-----")
        der = ssl.PEM_cert_to_DER_cert(text)
        self.assertEqual(der[0], 0x30)  # an ASN.1 SEQUENCE
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(cadata=text)
        cas = ctx.get_ca_certs()  # OpenSSL lists only certificates that are CAs
        self.assertEqual(len(cas), 1, "the PEM is not one CA certificate")
        self.assertGreater(ssl.cert_time_to_seconds(cas[0]["notAfter"]), time.time())

    def test_describe_tasks_empty(self):
        c = self.client()
        resp = typed(c, "DescribeTasks")
        self.assertEqual(resp.TotalCount, 0)
        self.assertEqual(resp.TaskSet or [], [])
        self.assertEqual(typed(c, "DescribeTasks", TaskId=999999).TotalCount, 0)
        self.assertEnvelope(c.exchanges[-1], success=True)

    def test_request_ids_are_unique(self):
        c = self.client()
        ids = {typed(c, "DescribeRegions").RequestId for _ in range(5)}
        self.assertEqual(len(ids), 5)

    def test_call_json_envelope(self):
        c = self.client()
        doc = c.call_json("DescribeDBInstanceSSLConfig", {"DBInstanceId": GZ_SSL_ON})
        self.assertEqual(set(doc["Response"]), {"SSLEnabled", "CAUrl", "ConnectAddress", "RequestId"})


class SuccessPathsCleanHost(SuccessPaths, EmulatorCase):
    HOST_FORM = "clean"


class SuccessPathsHttps(SuccessPaths, EmulatorCase):
    """The same over https (`pgssl emulator --tls`), the SDK trusting the emulator's CA."""
    HOST_FORM = "https"
    EMULATOR_KW = {"tls": True}

    def test_a_client_that_does_not_trust_the_ca_is_refused(self):
        http_profile = HttpProfile(protocol="https", endpoint=self.emu.clean_host, reqTimeout=5)
        client = postgres_client.PostgresClient(
            credential.Credential(SECRET_ID, SECRET_KEY), "ap-guangzhou",
            ClientProfile(httpProfile=http_profile, language="en-US"))
        with self.assertRaises(TencentCloudSDKException) as cm:
            client.DescribeRegions(models.DescribeRegionsRequest())
        self.assertIn("CERTIFICATE_VERIFY_FAILED", str(cm.exception))


class SuccessPathsVerbatimHost(SuccessPaths, EmulatorCase):
    HOST_FORM = "verbatim"


class FleetCoherence(EmulatorCase):
    """What DescribeDBInstances and DescribeReadOnlyGroups say about networks must hang together
    the way it does on Tencent."""

    def test_instance_network_is_coherent(self):
        # On Tencent an instance's VpcId/SubnetId are those of its private network, a read-only
        # group's are those of its group IP, zones belong to the region, and VPCs and subnets
        # do not cross regions.
        problems = []
        net_regions = collections.defaultdict(set)
        for region in ("ap-guangzhou", "ap-shanghai", "eu-frankfurt", "ap-singapore"):
            c = self.client(region=region)
            instances = typed(c, "DescribeDBInstances", Limit=100).DBInstanceSet
            self.assertTrue(instances)
            for i in instances:
                if not (i.Zone or "").startswith(region + "-"):
                    problems.append("%s: Zone %s is not in %s" % (i.DBInstanceId, i.Zone, region))
                for n in i.DBInstanceNetInfo or []:
                    if n.NetType == "public" or not n.VpcId:
                        continue
                    net_regions[n.VpcId].add(region)
                    net_regions[n.SubnetId].add(region)
                    if i.VpcId is not None and (i.VpcId, i.SubnetId) != (n.VpcId, n.SubnetId):
                        problems.append("%s: VpcId/SubnetId %s/%s, but its private network %s is in %s/%s"
                                        % (i.DBInstanceId, i.VpcId, i.SubnetId, n.Ip, n.VpcId, n.SubnetId))
                    if i.VpcId is not None:
                        net_regions[i.VpcId].add(region)
                        net_regions[i.SubnetId].add(region)
            primaries = {"ap-guangzhou": GZ_PRIMARY, "ap-shanghai": SH_PRIMARY}
            if region in primaries:
                groups = typed(c, "DescribeReadOnlyGroups",
                               Filters=[filt("db-master-instance-id", primaries[region])]).ReadOnlyGroupList
                self.assertTrue(groups)
                for g in groups:
                    for n in g.DBInstanceNetInfo:
                        if (g.VpcId, g.SubnetId) != (n.VpcId, n.SubnetId):
                            problems.append("%s: VpcId/SubnetId %s/%s, but its group IP %s is in %s/%s"
                                            % (g.ReadOnlyGroupId, g.VpcId, g.SubnetId, n.Ip, n.VpcId, n.SubnetId))
        for net, regions in sorted(net_regions.items()):
            if len(regions) > 1:
                problems.append("%s is used in several regions: %s" % (net, ", ".join(sorted(regions))))
        if problems:
            self.fail("incoherent networks:\n  " + "\n  ".join(problems))


# --------------------------------------------------------------------------- request errors

class RequestErrors(EmulatorCase):

    def test_invalid_action(self):
        c = self.client()
        self.assertApiError(c, "InvalidAction", c.call_json, "DescribeNothingAtAll", {})

    def test_no_such_version(self):
        c = self.client()
        c._apiVersion = "2019-01-01"
        self.assertApiError(c, "NoSuchVersion", typed, c, "DescribeRegions")
        self.assertEqual(c.exchanges[-1].request.headers["X-TC-Version"], "2019-01-01")

    def test_missing_parameter(self):
        c = self.client()
        self.assertApiError(c, "MissingParameter", typed, c, "DescribeDBInstanceAttribute")
        self.assertApiError(c, "MissingParameter", typed, c, "DescribeDBInstanceSSLConfig")
        self.assertApiError(c, "MissingParameter", c.call_json, "ModifyDBInstanceSSLConfig",
                            {"DBInstanceId": GZ_PRIMARY})
        self.assertApiError(c, "MissingParameter", c.call_json, "ModifyDBInstanceSSLConfig",
                            {"SSLEnabled": False})

    def test_missing_region(self):
        c = self.client(region=None)
        self.assertApiError(c, "MissingParameter", typed, c, "DescribeDBInstances")

    def test_unknown_parameter(self):
        c = self.client()
        self.assertApiError(c, "UnknownParameter", c.call_json, "DescribeDBInstances", {"Bogus": 1})
        self.assertApiError(c, "UnknownParameter", c.call_json, "DescribeDBInstanceSSLConfig",
                            {"DBInstanceId": GZ_PRIMARY, "InstanceId": GZ_PRIMARY})

    def test_mistyped_parameter(self):
        c = self.client()
        self.assertApiError(c, "InvalidParameter", c.call_json, "DescribeDBInstances", {"Limit": "10"})
        self.assertApiError(c, "InvalidParameter", c.call_json, "DescribeDBInstances",
                            {"Filters": {"Name": "db-instance-id", "Values": [GZ_PRIMARY]}})
        self.assertApiError(c, "InvalidParameter", c.call_json, "DescribeDBInstances",
                            {"Filters": [{"Name": "db-instance-id", "Values": GZ_PRIMARY}]})
        self.assertApiError(c, "InvalidParameter", c.call_json, "ModifyDBInstanceSSLConfig",
                            {"DBInstanceId": GZ_PRIMARY, "SSLEnabled": "true",
                             "ConnectAddress": GZ_PRIMARY_PRIVATE})
        self.assertApiError(c, "InvalidParameter", c.call_json, "DescribeTasks", {"TaskId": "100017"})
        self.assertApiError(c, "InvalidParameter", c.call_json, "DescribeDBInstanceSSLConfig",
                            {"DBInstanceId": 42})
        # the typed model does not stop a mistyped value either: the server must
        req = models.DescribeDBInstancesRequest()
        req.Limit = "ten"
        self.assertApiError(c, "InvalidParameter", c.DescribeDBInstances, req)
        # none of that created a task
        self.assertEqual(typed(c, "DescribeTasks").TotalCount, 0)

    def test_missing_action_or_version_header(self):
        c = self.client()
        headers, body = sdk_signed_request(c, "DescribeRegions", {})
        no_action = {k: v for k, v in headers.items() if k != "X-TC-Action"}
        self.assertRawError(*raw_post(self.emu.port, no_action, body), code="MissingParameter")
        no_version = {k: v for k, v in headers.items() if k != "X-TC-Version"}
        self.assertRawError(*raw_post(self.emu.port, no_version, body), code="MissingParameter")

    def test_body_over_10_mb(self):
        c = self.client()
        big = json.dumps({"DBInstanceId": "x" * (10 * 1024 * 1024)})
        headers, body = sdk_signed_request(c, "DescribeDBInstanceSSLConfig", {}, body=big)
        self.assertRawError(*raw_post(self.emu.port, headers, body, timeout=30),
                            code="RequestSizeLimitExceeded")

    def test_body_not_json(self):
        c = self.client()
        for bad in ("Limit=10&Offset=0", "[1, 2]", '{"Limit": 10'):
            with self.subTest(body=bad):
                headers, body = sdk_signed_request(c, "DescribeDBInstances", {}, body=bad)
                status, rh, data = raw_post(self.emu.port, headers, body)
                doc = json.loads(data)["Response"]
                self.assertIn(doc.get("Error", {}).get("Code"), ("InvalidParameter", "InvalidRequest"), doc)
                self.assertRawError(status, rh, data, doc["Error"]["Code"])

    def test_parameter_values_out_of_range(self):
        c = self.client()
        e = self.assertApiError(c, "InvalidParameterValue.InvalidParameterValueError",
                                typed, c, "DescribeDBInstances", Limit=101)
        self.assertIn("Limit", e.message)
        self.assertApiError(c, "InvalidParameterValue.InvalidParameterValueError",
                            typed, c, "DescribeDBInstances", Offset=-1)
        self.assertApiError(c, "InvalidParameterValue.InvalidParameterValueError",
                            typed, c, "DescribeDBInstances", Filters=[filt("db-nonsense", "x")])
        with self.assertRaises(TencentCloudSDKException) as cm:
            typed(c, "DescribeTasks", Limit=101)
        self.assertTrue(cm.exception.code.startswith("InvalidParameterValue"), cm.exception)

    def test_read_only_groups_need_master_filter(self):
        c = self.client()
        self.assertApiError(c, "MissingParameter", typed, c, "DescribeReadOnlyGroups")
        self.assertApiError(c, "MissingParameter", typed, c, "DescribeReadOnlyGroups",
                            Filters=[filt("read-only-group-id", GZ_GROUP)])

    def test_instance_not_found(self):
        c = self.client()
        for action in ("DescribeDBInstanceAttribute", "DescribeDBInstanceSSLConfig"):
            self.assertApiError(c, "ResourceNotFound.InstanceNotFoundError", typed, c, action,
                                DBInstanceId="postgres-zzzzzzzz")
            # an instance of another region is not found in this one
            self.assertApiError(c, "ResourceNotFound.InstanceNotFoundError", typed, c, action,
                                DBInstanceId=SH_PRIMARY)
        self.assertApiError(c, "ResourceNotFound.InstanceNotFoundError", typed, c,
                            "ModifyDBInstanceSSLConfig", DBInstanceId="postgres-zzzzzzzz", SSLEnabled=False)
        self.assertApiError(c, "ResourceNotFound.InstanceNotFoundError", typed, c,
                            "ModifyDBInstanceSSLConfig", DBInstanceId=SH_PRIMARY, SSLEnabled=True,
                            ConnectAddress="172.16.8.14")

    def test_modify_refused_when_not_running(self):
        c = self.client()
        self.assertApiError(c, "OperationDenied.InstanceStatusLimitError", typed, c,
                            "ModifyDBInstanceSSLConfig", DBInstanceId=GZ_ISOLATED, SSLEnabled=True,
                            ConnectAddress="10.6.2.7")
        sh = self.client(region="ap-shanghai")
        self.assertApiError(sh, "OperationDenied.InstanceStatusLimitError", typed, sh,
                            "ModifyDBInstanceSSLConfig", DBInstanceId=SH_RESTARTING, SSLEnabled=False)
        self.assertEqual(typed(c, "DescribeTasks", DBInstanceId=GZ_ISOLATED).TotalCount, 0)

    def test_modify_refuses_addresses_the_certificate_cannot_protect(self):
        c = self.client()
        bad = "InvalidParameterValue.InvalidParameterValueError"
        cases = [
            (GZ_PRIMARY, None),                 # enabling needs ConnectAddress
            (GZ_PRIMARY, ""),
            (GZ_PRIMARY, "10.6.0.99"),          # not an address of the instance
            (GZ_PRIMARY, GZ_GROUP_IP),          # a primary cannot take its RO group's IP
            (GZ_PRIMARY, GZ_RO1_IP),            # nor its read-only instance's IP
            (GZ_RO1, GZ_PRIMARY_PRIVATE),       # a read-only instance cannot take its primary's IP
            (GZ_RO1, GZ_PRIMARY_PUBLIC),
            (GZ_RO1, GZ_RO2_IP),                # nor its sibling's
            (GZ_SSL_ON, GZ_PRIMARY_PRIVATE),    # nor another primary's
        ]
        for instance, address in cases:
            with self.subTest(instance=instance, address=address):
                fields = {"DBInstanceId": instance, "SSLEnabled": True}
                if address is not None:
                    fields["ConnectAddress"] = address
                self.assertApiError(c, bad, typed, c, "ModifyDBInstanceSSLConfig", **fields)
        # nothing was started, nothing changed
        self.assertEqual(typed(c, "DescribeTasks").TotalCount, 0)
        self.assertEqual(self.status_of(c, GZ_PRIMARY), "running")
        self.assertIs(self.ssl_config(c, GZ_PRIMARY).SSLEnabled, False)
        self.assertEqual(self.ssl_config(c, GZ_SSL_ON).ConnectAddress, GZ_SSL_ON_IP)

    def test_connect_address_too_long(self):
        c = self.client()
        self.assertApiError(c, "InvalidParameterValue.ParameterCharacterLimitError", typed, c,
                            "ModifyDBInstanceSSLConfig", DBInstanceId=GZ_PRIMARY, SSLEnabled=True,
                            ConnectAddress="1" * 256)

    def test_ssl_actions_in_unknown_region(self):
        c = self.client(region="xx-nowhere-1")
        for action, fields in (("DescribeDBInstanceSSLConfig", {"DBInstanceId": GZ_PRIMARY}),
                               ("ModifyDBInstanceSSLConfig", {"DBInstanceId": GZ_PRIMARY, "SSLEnabled": False}),
                               ("DescribeTasks", {})):
            with self.subTest(action=action):
                self.assertApiError(c, "UnsupportedRegion", typed, c, action, **fields)


# --------------------------------------------------------------------------- authentication

class Authentication(EmulatorCase):

    def test_control_raw_request_signed_by_sdk_is_accepted(self):
        # the raw-HTTP path used below works when nothing is wrong with it
        c = self.client()
        headers, body = sdk_signed_request(c, "DescribeDBInstanceSSLConfig", {"DBInstanceId": GZ_SSL_ON})
        status, rh, data = raw_post(self.emu.port, headers, body)
        self.assertEqual((status, rh.get("content-type")), (200, "application/json"))
        doc = json.loads(data)["Response"]
        self.assertNotIn("Error", doc)
        self.assertEqual((doc["SSLEnabled"], doc["ConnectAddress"]), (True, GZ_SSL_ON_IP))

    def test_raw_utf8_compact_body_is_accepted(self):
        # the Go SDK sends compact raw-UTF-8 JSON: the server hashes the bytes it received
        c = self.client()
        body = json.dumps({"Filters": [{"Name": "db-instance-name", "Values": ["订单", "orders"]}]},
                          separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        self.assertIn("订单".encode("utf-8"), body)
        headers, body = sdk_signed_request(c, "DescribeDBInstances", {}, body=body)
        status, rh, data = raw_post(self.emu.port, headers, body)
        doc = json.loads(data)["Response"]
        self.assertNotIn("Error", doc)
        self.assertEqual(doc["TotalCount"], 3)

    def test_verbatim_host_is_verified_as_received(self):
        # signed for Host "http://127.0.0.1:PORT" as tccli does; accepted as is, refused once changed
        c = self.client(host_form="verbatim")
        headers, body = sdk_signed_request(c, "DescribeRegions", {})
        self.assertEqual(headers["Host"], self.emu.verbatim_host)
        status, _, data = raw_post(self.emu.port, headers, body)
        self.assertNotIn("Error", json.loads(data)["Response"])
        headers["Host"] = self.emu.clean_host
        self.assertRawError(*raw_post(self.emu.port, headers, body), code="AuthFailure.SignatureFailure")

    def test_independent_signer_matches_the_sdk(self):
        # control for the next test: tc3_sign() computes what the SDK computes
        c = self.client()
        headers, body = sdk_signed_request(c, "DescribeDBInstances", {"Limit": 1})
        self.assertEqual(tc3_sign(headers, body, ("content-type", "host")), headers["Authorization"])

    def test_more_signed_headers_are_verified(self):
        # SignedHeaders may name more headers than content-type;host; their values are then signed
        c = self.client()
        headers, body = sdk_signed_request(c, "DescribeDBInstances", {"Limit": 1})
        headers["Authorization"] = tc3_sign(headers, body, ("content-type", "host", "x-tc-region"))
        status, _, data = raw_post(self.emu.port, headers, body)
        self.assertEqual(json.loads(data)["Response"].get("TotalCount"), 6)
        moved = dict(headers, **{"X-TC-Region": "ap-shanghai"})
        self.assertRawError(*raw_post(self.emu.port, moved, body), code="AuthFailure.SignatureFailure")
        # with the SDK's SignedHeaders the region is not signed: the same change goes through
        headers, body = sdk_signed_request(c, "DescribeDBInstances", {"Limit": 1})
        headers["X-TC-Region"] = "ap-shanghai"
        status, _, data = raw_post(self.emu.port, headers, body)
        self.assertEqual(json.loads(data)["Response"].get("TotalCount"), 3)

    def test_unknown_secret_id(self):
        c = self.client(secret_id="AKIDnobodyHasThisKey0000000000000000")
        self.assertApiError(c, "AuthFailure.SecretIdNotFound", typed, c, "DescribeRegions")

    def test_wrong_secret_key(self):
        c = self.client(secret_key="notTheRightKey00000000000000000")
        self.assertApiError(c, "AuthFailure.SignatureFailure", typed, c, "DescribeRegions")
        self.assertApiError(c, "AuthFailure.SignatureFailure", typed, c, "ModifyDBInstanceSSLConfig",
                            DBInstanceId=GZ_SSL_ON, SSLEnabled=False)
        self.assertIs(self.ssl_config(self.client(), GZ_SSL_ON).SSLEnabled, True)

    def test_tampered_body(self):
        c = self.client()

        def tamper(kwargs):
            kwargs["data"] = kwargs["data"].replace(GZ_SSL_ON, GZ_PRIMARY)

        c.tamper = tamper
        self.assertApiError(c, "AuthFailure.SignatureFailure", typed, c, "DescribeDBInstanceSSLConfig",
                            DBInstanceId=GZ_SSL_ON)
        self.assertIn(GZ_PRIMARY, c.exchanges[-1].request.body.decode()
                      if isinstance(c.exchanges[-1].request.body, bytes) else c.exchanges[-1].request.body)
        # a tampered change is not carried out
        self.assertApiError(c, "AuthFailure.SignatureFailure", typed, c, "ModifyDBInstanceSSLConfig",
                            DBInstanceId=GZ_SSL_ON, SSLEnabled=False)
        clean = self.client()
        self.assertIs(self.ssl_config(clean, GZ_SSL_ON).SSLEnabled, True)
        self.assertEqual(typed(clean, "DescribeTasks").TotalCount, 0)

    def test_tampered_content_type(self):
        c = self.client()

        def tamper(kwargs):
            kwargs["headers"]["Content-Type"] = "application/json; charset=utf-8"

        c.tamper = tamper
        self.assertApiError(c, "AuthFailure.SignatureFailure", typed, c, "DescribeRegions")

    def test_tampered_host(self):
        c = self.client(host_form="clean")

        def tamper(kwargs):
            kwargs["headers"]["Host"] = "localhost:%d" % self.emu.port

        c.tamper = tamper
        self.assertApiError(c, "AuthFailure.SignatureFailure", typed, c, "DescribeRegions")

    def test_missing_authorization(self):
        c = self.client()
        headers, body = sdk_signed_request(c, "DescribeRegions", {})
        del headers["Authorization"]
        self.assertRawError(*raw_post(self.emu.port, headers, body), code="AuthFailure.InvalidAuthorization")

    def test_malformed_authorization(self):
        c = self.client()
        headers, body = sdk_signed_request(c, "DescribeRegions", {})
        good = headers["Authorization"]
        for bad in ("Basic QUtJRDpzZWNyZXQ=",
                    "TC3-HMAC-SHA256 nonsense",
                    "TC3-HMAC-SHA256 Credential=%s, Signature=abc" % SECRET_ID,
                    good.replace("TC3-HMAC-SHA256", "HMAC-SHA1"),
                    ""):
            with self.subTest(authorization=bad):
                headers["Authorization"] = bad
                self.assertRawError(*raw_post(self.emu.port, headers, body),
                                    code="AuthFailure.InvalidAuthorization")

    def test_signature_expire_both_directions(self):
        for skew in (-400, 400, 3600):
            with self.subTest(skew=skew):
                c = self.client()
                with sdk_clock(skew):
                    self.assertApiError(c, "AuthFailure.SignatureExpire", typed, c, "DescribeRegions")
                    sent = int(c.exchanges[-1].request.headers["X-TC-Timestamp"])
                self.assertAlmostEqual(sent, time.time() + skew, delta=5)

    def test_small_skew_is_tolerated(self):
        for skew in (-240, 240):
            with self.subTest(skew=skew):
                c = self.client()
                with sdk_clock(skew):
                    self.assertGreaterEqual(typed(c, "DescribeRegions").TotalCount, 18)

    def test_signature_for_another_day_is_refused(self):
        # the credential scope's date must be the UTC date of X-TC-Timestamp; a day-old signature fails
        c = self.client()
        yesterday = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400))
        headers, body = sdk_signed_request(c, "DescribeRegions", {}, scope_date=yesterday)
        self.assertIn("/%s/postgres/tc3_request" % yesterday, headers["Authorization"])
        status, rh, data = raw_post(self.emu.port, headers, body)
        self.assertEqual((status, rh.get("content-type")), (200, "application/json"))
        doc = json.loads(data)["Response"]
        self.assertIn("Error", doc)
        self.assertTrue(doc["Error"]["Code"].startswith("AuthFailure."), doc)


class sdk_clock(object):
    """Shift the clock the SDK signs with (its module-level `time`) by `skew` seconds."""

    def __init__(self, skew):
        self.skew = skew

    def __enter__(self):
        self.saved = abstract_client.time
        real = time.time
        abstract_client.time = types.SimpleNamespace(time=lambda: real() + self.skew)
        return self

    def __exit__(self, *exc):
        abstract_client.time = self.saved
        return False


class EmulatorClockOffset(EmulatorCase):
    """--clock-offset: the emulator's clock is 1000 s ahead, so correct SDK requests are expired."""
    EMULATOR_ARGS = ("--clock-offset", "1000")

    def test_every_action_reports_signature_expire(self):
        c = self.client()
        self.assertApiError(c, "AuthFailure.SignatureExpire", typed, c, "DescribeRegions")
        self.assertApiError(c, "AuthFailure.SignatureExpire", typed, c, "DescribeDBInstanceSSLConfig",
                            DBInstanceId=GZ_SSL_ON)

    def test_a_client_on_the_emulators_clock_is_accepted(self):
        c = self.client()
        with sdk_clock(1000):
            self.assertGreaterEqual(typed(c, "DescribeRegions").TotalCount, 18)


class SessionToken(EmulatorCase):
    """--token: the key is a temporary one; X-TC-Token must come with it."""
    EMULATOR_KW = {"token": TOKEN}

    def test_right_token_is_accepted(self):
        c = self.client(token=TOKEN)
        self.assertGreaterEqual(typed(c, "DescribeRegions").TotalCount, 18)
        self.assertEqual(c.exchanges[-1].request.headers["X-TC-Token"], TOKEN)

    def test_missing_token(self):
        c = self.client()
        self.assertApiError(c, "AuthFailure.TokenFailure", typed, c, "DescribeRegions")

    def test_wrong_token(self):
        c = self.client(token="some-other-token")
        self.assertApiError(c, "AuthFailure.TokenFailure", typed, c, "DescribeDBInstances")


# --------------------------------------------------------------------------- regions outside the 18

class RegionOutsideSSLRegions(EmulatorCase):
    """A fleet (tests/conformance/fleet-mumbai.json) with an instance in ap-mumbai, which is not
    one of the 18 regions of the SSL and task APIs."""
    EMULATOR_KW = {"fleet": MUMBAI_FLEET}

    def test_instances_are_listed(self):
        c = self.client(region="ap-mumbai")
        resp = typed(c, "DescribeDBInstances")
        self.assertEqual(resp.TotalCount, 1)
        self.assertEqual(resp.DBInstanceSet[0].DBInstanceId, "postgres-mum1a2b3")
        self.assertEqual(resp.DBInstanceSet[0].DBInstanceNetInfo[0].Ip, "10.90.0.5")
        attr = typed(c, "DescribeDBInstanceAttribute", DBInstanceId="postgres-mum1a2b3")
        self.assertEqual(attr.DBInstance.DBInstanceName, "mumbai-ledger")

    def test_ssl_and_task_actions_are_unsupported(self):
        c = self.client(region="ap-mumbai")
        for action, fields in (("DescribeDBInstanceSSLConfig", {"DBInstanceId": "postgres-mum1a2b3"}),
                               ("ModifyDBInstanceSSLConfig", {"DBInstanceId": "postgres-mum1a2b3",
                                                              "SSLEnabled": True,
                                                              "ConnectAddress": "10.90.0.5"}),
                               ("DescribeTasks", {})):
            with self.subTest(action=action):
                self.assertApiError(c, "UnsupportedRegion", typed, c, action, **fields)

    def test_describe_regions_lists_regions_that_have_instances(self):
        # DescribeRegions lists the regions where the product is sold: ap-mumbai has an instance
        # here, so it is one, even though the SSL and task APIs are not offered there.
        regions = {r.Region for r in typed(self.client(region="ap-mumbai"), "DescribeRegions").RegionSet}
        self.assertIn("ap-mumbai", regions)
        self.assertTrue(set(SSL_REGIONS) <= regions)

    def test_fleet_file_replaces_the_demo_fleet(self):
        c = self.client(region="ap-guangzhou")
        resp = typed(c, "DescribeDBInstances")
        self.assertEqual([i.DBInstanceId for i in resp.DBInstanceSet], ["postgres-fx7gz001"])
        ssl_resp = self.ssl_config(c, "postgres-fx7gz001")
        self.assertIs(ssl_resp.SSLEnabled, False)


# --------------------------------------------------------------------------- other SDK request forms

class SigningVariants(EmulatorCase):
    """Request forms the official SDK can send besides the default signed JSON POST."""

    def test_unsigned_payload(self):
        # ClientProfile.unsignedPayload: X-TC-Content-SHA256: UNSIGNED-PAYLOAD, and the canonical
        # request carries SHA-256("UNSIGNED-PAYLOAD") instead of the body's hash.
        def unsigned(profile):
            profile.unsignedPayload = True

        c = self.client(customize=unsigned)
        resp = typed(c, "DescribeDBInstanceSSLConfig", DBInstanceId=GZ_SSL_ON)
        self.assertEqual(c.exchanges[-1].request.headers["X-TC-Content-SHA256"], "UNSIGNED-PAYLOAD")
        self.assertEqual((resp.SSLEnabled, resp.ConnectAddress), (True, GZ_SSL_ON_IP))

    @unittest.expectedFailure  # not emulated: the emulator answers GET with InvalidRequest
    def test_get_request(self):
        def get(profile):
            profile.httpProfile.reqMethod = "GET"

        c = self.client(customize=get)
        resp = typed(c, "DescribeDBInstances", Filters=[filt("db-instance-id", GZ_PRIMARY)])
        self.assertEqual(c.exchanges[-1].request.method, "GET")
        self.assertEqual(resp.DBInstanceSet[0].DBInstanceNetInfo[0].Ip, GZ_PRIMARY_PRIVATE)

    @unittest.expectedFailure  # not emulated: only TC3-HMAC-SHA256 is verified
    def test_hmac_sha256_v1_signature(self):
        def v1(profile):
            profile.signMethod = "HmacSHA256"

        c = self.client(customize=v1)
        resp = typed(c, "DescribeDBInstanceSSLConfig", DBInstanceId=GZ_SSL_ON)
        self.assertEqual(resp.ConnectAddress, GZ_SSL_ON_IP)


# --------------------------------------------------------------------------- tasks

class TaskLifecycle(EmulatorCase):
    """ModifyDBInstanceSSLConfig -> DescribeTasks Running (rising Progress) -> Success, with
    --task-seconds 2."""
    EMULATOR_KW = {"task_seconds": 2}

    def run_change(self, client, instance, enabled, address, expect_address):
        """One SSL change followed to its end. Returns (TaskId, whether Progress was seen to rise)."""
        before = self.ssl_config(client, instance)
        task_id = self.modify_ssl(client, instance, enabled, address)
        accepted = time.monotonic()
        t = self.task(client, task_id)
        first_progress = t.Progress
        self.assertEqual(t.Status, "Running")
        self.assertEqual(t.DBInstanceId, instance)
        self.assertTrue(0 <= t.Progress < 100, t.Progress)
        self.assertTrue(t.StartTime)
        self.assertFalse(t.EndTime)
        # while the task runs the instance is not running, so a second change is refused
        self.assertNotEqual(self.status_of(client, instance), "running")
        self.assertApiError(client, "OperationDenied.InstanceStatusLimitError", typed, client,
                            "ModifyDBInstanceSSLConfig", DBInstanceId=instance, SSLEnabled=enabled,
                            ConnectAddress=address)
        self.assertEqual(typed(client, "DescribeTasks", DBInstanceId=instance, Limit=100).TaskSet[0].TaskId,
                         task_id, "the refused change created a task")
        # ... and the SSL state is still the old one
        mid = self.ssl_config(client, instance)
        self.assertEqual((mid.SSLEnabled, mid.ConnectAddress), (before.SSLEnabled, before.ConnectAddress))
        final, seen = self.wait_task(client, task_id)
        took = time.monotonic() - accepted
        running = [first_progress] + [p for s, p in seen if s == "Running"]
        self.assertEqual(running, sorted(running), "Progress went down: %s" % seen)
        # --task-seconds 2 on a clock of whole seconds: the task ends 1 to 2 s after it was accepted
        self.assertGreaterEqual(took, 0.9, "the task ended before --task-seconds: %s" % seen)
        self.assertLess(took, 5.0)
        self.assertEqual((final.Status, final.Progress), ("Success", 100))
        self.assertTrue(final.EndTime)
        self.assertGreaterEqual(final.EndTime, final.StartTime)
        self.assertEqual(self.status_of(client, instance), "running")
        after = self.ssl_config(client, instance)
        self.assertIs(after.SSLEnabled, enabled)
        if enabled:
            self.assertEqual(after.ConnectAddress, expect_address)
        else:
            self.assertFalse(after.ConnectAddress)
        return task_id, len(set(running)) > 1

    def test_enable_change_address_disable_primary(self):
        c = self.client()
        t1, rose1 = self.run_change(c, GZ_PRIMARY, True, GZ_PRIMARY_PRIVATE, GZ_PRIMARY_PRIVATE)
        t2, rose2 = self.run_change(c, GZ_PRIMARY, True, GZ_PRIMARY_PUBLIC, GZ_PRIMARY_PUBLIC)
        # disabling ignores ConnectAddress, even one the instance does not have
        t3, rose3 = self.run_change(c, GZ_PRIMARY, False, "203.0.113.9", None)
        # (one task may be first seen after its first second; three in a row cannot all be)
        self.assertTrue(rose1 or rose2 or rose3, "Progress never rose while a task was Running")
        self.assertEqual(len({t1, t2, t3}), 3)
        listed = typed(c, "DescribeTasks", DBInstanceId=GZ_PRIMARY)
        self.assertEqual(listed.TotalCount, 3)
        self.assertEqual(sorted(t.TaskId for t in listed.TaskSet), sorted([t1, t2, t3]))
        self.assertTrue(all(t.Status == "Success" for t in listed.TaskSet))

    def test_read_only_instances_take_own_or_group_ip(self):
        c = self.client()
        # two changes at once on two instances, so the test waits for one task duration only
        a = self.modify_ssl(c, GZ_RO1, True, GZ_GROUP_IP)
        b = self.modify_ssl(c, GZ_RO2, True, GZ_RO2_IP)
        self.assertNotEqual(a, b)
        self.assertEqual([t.TaskId for t in typed(c, "DescribeTasks", DBInstanceId=GZ_RO1).TaskSet], [a])
        self.assertEqual(self.wait_task(c, a)[0].Status, "Success")
        self.assertEqual(self.wait_task(c, b)[0].Status, "Success")
        r1 = self.ssl_config(c, GZ_RO1)
        r2 = self.ssl_config(c, GZ_RO2)
        self.assertEqual((r1.SSLEnabled, r1.ConnectAddress), (True, GZ_GROUP_IP))
        self.assertEqual((r2.SSLEnabled, r2.ConnectAddress), (True, GZ_RO2_IP))
        # the primary is untouched by its read-only instances' changes
        self.assertEqual(self.status_of(c, GZ_PRIMARY), "running")

    def test_change_in_another_region(self):
        fra = self.client(region="eu-frankfurt")
        task_id = self.modify_ssl(fra, FRA_PRIMARY, True, FRA_PRIVATE)
        # tasks are regional
        self.assertEqual(typed(self.client(region="ap-guangzhou"), "DescribeTasks", TaskId=task_id).TotalCount, 0)
        final, _ = self.wait_task(fra, task_id)
        self.assertEqual(final.Status, "Success")
        self.assertEqual(self.ssl_config(fra, FRA_PRIMARY).ConnectAddress, FRA_PRIVATE)

    def test_task_ids_are_integers_in_sdk_models(self):
        c = self.client()
        task_id = self.modify_ssl(c, GZ_SSL_ON, False)
        resp = typed(c, "DescribeTasks", TaskId=task_id)
        t = resp.TaskSet[0]
        self.assertIsInstance(t, models.TaskSet)
        self.assertIsInstance(t.TaskId, int)
        self.assertIsInstance(t.Progress, int)
        self.assertIsInstance(t.TaskDetail, models.TaskDetail)
        self.assertIn(t.Status, ("Running", "Success", "WaitSwitch", "Fail", "Pause"))
        final, _ = self.wait_task(c, task_id)
        self.assertEqual(final.Status, "Success")
        self.assertIs(self.ssl_config(c, GZ_SSL_ON).SSLEnabled, False)


class TaskFailFault(EmulatorCase):
    """--task-fail: the task ends Fail and the SSL state does not change."""
    EMULATOR_ARGS = ("--task-fail",)
    EMULATOR_KW = {"task_seconds": 1}

    def test_task_ends_fail_and_nothing_changes(self):
        c = self.client()
        task_id = self.modify_ssl(c, GZ_PRIMARY, True, GZ_PRIMARY_PRIVATE)
        final, seen = self.wait_task(c, task_id)
        self.assertEqual(final.Status, "Fail", seen)
        self.assertTrue(final.EndTime)
        self.assertLess(final.Progress, 100)
        self.assertIs(self.ssl_config(c, GZ_PRIMARY).SSLEnabled, False)
        # the instance is usable again
        self.assertEqual(self.status_of(c, GZ_PRIMARY), "running")
        again = self.modify_ssl(c, GZ_SSL_ON, False)
        self.assertEqual(self.wait_task(c, again)[0].Status, "Fail")
        self.assertEqual(self.ssl_config(c, GZ_SSL_ON).ConnectAddress, GZ_SSL_ON_IP)


# --------------------------------------------------------------------------- the real API's shapes

def beijing(s):
    """A task time as the API writes it (Beijing time, UTC+8) -> seconds since the epoch."""
    import calendar
    return calendar.timegm(time.strptime(s, "%Y-%m-%d %H:%M:%S")) - 8 * 3600


class RealApiShapes(EmulatorCase):
    """The whole demo fleet, with the shapes the official examples show: tasks of other
    operations, Beijing times, empty strings when SSL is off, refusals by status."""
    EMULATOR_KW = {"task_seconds": 1, "demo": True}

    def test_ssl_off_answers_empty_strings(self):
        c = make_client(self.start_emulator(demo=True))
        off = self.ssl_config(c, GZ_PRIMARY)
        # official example 2: "" for both, not null
        self.assertEqual((off.SSLEnabled, off.CAUrl, off.ConnectAddress), (False, "", ""))
        on = self.ssl_config(c, GZ_SSL_ON)
        self.assertTrue(on.CAUrl.startswith("http://127.0.0.1:"))

    def test_an_isolated_instance_refuses_ssl_reads(self):
        c = self.client()
        self.assertApiError(c, "OperationDenied.InstanceStatusLimitError", typed, c,
                            "DescribeDBInstanceSSLConfig", DBInstanceId=GZ_ISOLATED)

    def test_tasks_of_other_operations_are_listed_with_beijing_times(self):
        c = self.client()
        listed = typed(c, "DescribeTasks", DBInstanceId=GZ_SSL_ON)
        restore = [t for t in listed.TaskSet if t.TaskType == "RestoreDatabase"]
        self.assertEqual(len(restore), 1)
        self.assertEqual(restore[0].Status, "Running")
        self.assertEqual(restore[0].EndTime, "")
        # started when the fleet was loaded: in Beijing time, eight hours ahead of UTC
        self.assertLess(abs(beijing(restore[0].StartTime) - time.time()), 600)
        done = typed(c, "DescribeTasks", DBInstanceId=GZ_PRIMARY).TaskSet
        restart = [t for t in done if t.TaskType == "RestartInstance"][0]
        self.assertEqual(beijing(restart.EndTime) - beijing(restart.StartTime), 72)
        self.assertEqual(json.loads(restart.TaskDetail.AllSteps)[-1]["StepName"], "Task Complete")

    def test_network_entries_as_they_come(self):
        c = self.client()
        nets = typed(c, "DescribeDBInstances", Filters=[filt("db-instance-id", GZ_SSL_ON)]) \
            .DBInstanceSet[0].DBInstanceNetInfo
        public = [n for n in nets if n.NetType == "public"]
        # no public access: the network is still listed, without an IP
        self.assertEqual([(n.Ip, n.Port, n.Status) for n in public], [("", 0, "initing")])
        fra = typed(self.client(region="eu-frankfurt"), "DescribeDBInstances",
                    Filters=[filt("db-instance-id", FRA_PRIMARY)]).DBInstanceSet[0]
        private = [n for n in fra.DBInstanceNetInfo if n.NetType == "private"][0]
        self.assertEqual(private.Status, "2")  # "opened", as the SDK numbers its list
        self.assertTrue([n.Address for n in fra.DBInstanceNetInfo if n.NetType == "public"][0])

    def test_an_ssl_task_is_in_beijing_time_with_json_steps(self):
        c = self.client()
        task_id = self.modify_ssl(c, GZ_PRIMARY, True, GZ_PRIMARY_PRIVATE)
        t = self.task(c, task_id)
        self.assertLess(abs(beijing(t.StartTime) - time.time()), 120)
        final, _ = self.wait_task(c, task_id)
        self.assertEqual(final.Status, "Success")
        steps = json.loads(final.TaskDetail.AllSteps)
        self.assertEqual(final.TaskDetail.CurrentStep, steps[-1]["StepName"])


class TaskStatuses(EmulatorCase):
    """--task-status pause / waitswitch and --task-listed-after: every status the API has,
    and a task that is listed a moment after the change that made it."""
    EMULATOR_KW = {"task_seconds": 1}

    def test_pause_and_waitswitch_parse_and_change_nothing(self):
        for status, want in (("pause", "Pause"), ("waitswitch", "WaitSwitch")):
            emu = self.start_emulator("--task-status", status, task_seconds=1)
            c = make_client(emu)
            task_id = self.modify_ssl(c, GZ_PRIMARY, True, GZ_PRIMARY_PRIVATE)
            final, seen = self.wait_task(c, task_id)
            self.assertEqual(final.Status, want, seen)
            self.assertIs(self.ssl_config(c, GZ_PRIMARY).SSLEnabled, False)

    def test_a_task_is_listed_a_moment_after_the_change(self):
        emu = self.start_emulator("--task-listed-after", "1", task_seconds=3)
        c = make_client(emu)
        task_id = self.modify_ssl(c, GZ_PRIMARY, True, GZ_PRIMARY_PRIVATE)
        self.assertEqual(typed(c, "DescribeTasks", TaskId=task_id).TotalCount, 0)
        time.sleep(1.2)
        self.assertEqual(self.task(c, task_id).TaskId, task_id)


# --------------------------------------------------------------------------- rate limit

class RateLimit(EmulatorCase):
    """More than 20 requests/s for one action and SecretId -> RequestLimitExceeded."""

    def test_burst_is_limited_per_action_and_recovers(self):
        c = self.client(paced=False)
        results = []
        started = time.monotonic()
        for _ in range(30):
            try:
                typed(c, "DescribeDBInstanceSSLConfig", DBInstanceId=GZ_SSL_ON)
                results.append("ok")
            except TencentCloudSDKException as e:
                results.append(e.code)
                self.assertEnvelope(c.exchanges[-1], success=False)
        elapsed = time.monotonic() - started
        self.assertEqual(results[:20], ["ok"] * 20, results)
        self.assertLess(elapsed, 1.0, "the burst was too slow to test the limit: %.2f s" % elapsed)
        self.assertEqual(results[20:], ["RequestLimitExceeded"] * 10, results)
        # another action has its own budget
        self.assertGreaterEqual(typed(c, "DescribeRegions").TotalCount, 18)
        self.assertEqual(typed(c, "DescribeDBInstanceAttribute", DBInstanceId=GZ_SSL_ON).DBInstance.DBInstanceId,
                         GZ_SSL_ON)
        # the window slides: within a couple of seconds the action is served again
        end = time.monotonic() + 3.0
        while True:
            try:
                typed(c, "DescribeDBInstanceSSLConfig", DBInstanceId=GZ_SSL_ON)
                break
            except TencentCloudSDKException as e:
                self.assertEqual(e.code, "RequestLimitExceeded")
                self.assertLess(time.monotonic(), end, "still limited after 3 s")
                time.sleep(0.1)
        self.assertGreaterEqual(time.monotonic() - started, 0.9, "recovered before the one-second window")

    def test_concurrent_burst_is_counted_exactly(self):
        # 25 requests at once from 25 connections: exactly 20 are served
        clients = [self.client(paced=False) for _ in range(25)]
        barrier = threading.Barrier(len(clients))

        def one(c):
            barrier.wait()
            try:
                typed(c, "DescribeReadOnlyGroups", Filters=[filt("db-master-instance-id", GZ_PRIMARY)])
                return "ok"
            except TencentCloudSDKException as e:
                return e.code

        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(len(clients)) as pool:
            results = list(pool.map(one, clients))
        self.assertLess(time.monotonic() - started, 1.0, "the burst was too slow to test the limit")
        self.assertEqual(sorted(results), ["RequestLimitExceeded"] * 5 + ["ok"] * 20)


# --------------------------------------------------------------------------- faults

class Faults(EmulatorCase):
    """Fault options; each test starts its own emulator with the flags it needs."""

    @classmethod
    def setUpClass(cls):
        pass

    @classmethod
    def tearDownClass(cls):
        pass

    def test_fail_with_replaces_every_reply(self):
        self.emu = self.start_emulator("--fail-with", "InternalError")
        c = self.client()
        e = self.assertApiError(c, "InternalError", typed, c, "DescribeRegions")
        self.assertRegex(e.requestId, UUID_RE)
        self.assertApiError(c, "InternalError", typed, c, "DescribeDBInstances")

    def test_fail_with_share_and_action_scope_and_action_not_carried_out(self):
        self.emu = self.start_emulator("--fail-with", "FailedOperation.DatabaseAccessError",
                                       "--fail-share", "0.5", "--fault-action", "ModifyDBInstanceSSLConfig",
                                       task_seconds=60)
        c = self.client()
        changes = [(GZ_PRIMARY, True, GZ_PRIMARY_PRIVATE), (GZ_SSL_ON, False, None),
                   (GZ_RO1, True, GZ_RO1_IP), (GZ_RO2, True, GZ_RO2_IP)]
        failed = []
        for instance, enabled, address in changes:
            fields = {"DBInstanceId": instance, "SSLEnabled": enabled}
            if address:
                fields["ConnectAddress"] = address
            try:
                typed(c, "ModifyDBInstanceSSLConfig", **fields)
                failed.append(False)
            except TencentCloudSDKException:
                failed.append(True)
                body = self.assertEnvelope(c.exchanges[-1], success=False)
                self.assertEqual(body["Error"]["Code"], "FailedOperation.DatabaseAccessError")
            # other actions are not affected, and do not move the share's counter
            self.assertGreaterEqual(typed(c, "DescribeRegions").TotalCount, 18)
        # a share of 0.5: every second matching request
        self.assertEqual(failed.count(True), 2, failed)
        self.assertTrue(all(a != b for a, b in zip(failed, failed[1:])), failed)
        # a failed request was not carried out; the others were
        for (instance, _, _), was_failed in zip(changes, failed):
            with self.subTest(instance=instance):
                tasks = typed(c, "DescribeTasks", DBInstanceId=instance).TotalCount
                self.assertEqual(tasks, 0 if was_failed else 1)
                self.assertEqual(self.status_of(c, instance), "running" if was_failed else "restarting")

    def test_http_status_gives_server_network_error_after_carrying_out(self):
        self.emu = self.start_emulator("--http-status", "503", "--fault-action", "ModifyDBInstanceSSLConfig",
                                       task_seconds=60)
        c = self.client()
        with self.assertRaises(TencentCloudSDKException) as cm:
            typed(c, "ModifyDBInstanceSSLConfig", DBInstanceId=GZ_PRIMARY, SSLEnabled=True,
                  ConnectAddress=GZ_PRIMARY_PRIVATE)
        self.assertEqual(cm.exception.code, "ServerNetworkError")
        self.assertEqual(c.exchanges[-1].status_code, 503)
        # the change was carried out even though the reply was lost
        tasks = typed(c, "DescribeTasks", DBInstanceId=GZ_PRIMARY)
        self.assertEqual(tasks.TotalCount, 1)
        self.assertEqual(tasks.TaskSet[0].Status, "Running")
        self.assertEqual(self.status_of(c, GZ_PRIMARY), "restarting")

    def test_http_status_share(self):
        self.emu = self.start_emulator("--http-status", "502", "--http-status-share", "0.5",
                                       "--fault-action", "DescribeRegions")
        c = self.client()
        statuses = []
        for _ in range(6):
            try:
                self.assertGreaterEqual(typed(c, "DescribeRegions").TotalCount, 18)
            except TencentCloudSDKException as e:
                self.assertEqual(e.code, "ServerNetworkError")
                self.assertIn(b"502", e.message if isinstance(e.message, bytes) else e.message.encode())
            statuses.append(c.exchanges[-1].status_code)
            # DescribeDBInstances is outside --fault-action
            self.assertEqual(typed(c, "DescribeDBInstances").TotalCount, 6)
        self.assertEqual(sorted(statuses), [200] * 3 + [502] * 3)
        self.assertTrue(all(a != b for a, b in zip(statuses, statuses[1:])), statuses)

    def test_non_json_reply(self):
        self.emu = self.start_emulator("--non-json-share", "1", "--fault-action", "DescribeRegions")
        c = self.client()
        with self.assertRaises(TencentCloudSDKException) as cm:
            typed(c, "DescribeRegions")
        self.assertNotIn(cm.exception.code, ("", None))
        self.assertFalse(cm.exception.requestId)
        self.assertEqual(c.exchanges[-1].status_code, 200)
        self.assertNotEqual(c.exchanges[-1].headers.get("Content-Type"), "application/json")
        self.assertTrue(c.exchanges[-1].content.lstrip().startswith(b"<"))
        self.assertEqual(typed(c, "DescribeDBInstances").TotalCount, 6)

    def test_truncated_reply(self):
        self.emu = self.start_emulator("--truncate-share", "1", "--fault-action", "DescribeDBInstanceSSLConfig")
        c = self.client()
        with self.assertRaises(TencentCloudSDKException) as cm:
            typed(c, "DescribeDBInstanceSSLConfig", DBInstanceId=GZ_SSL_ON)
        self.assertEqual(cm.exception.code, "JSONDecodeError")
        raw = c.exchanges[-1].content
        self.assertTrue(raw.startswith(b"{"))
        with self.assertRaises(ValueError):
            json.loads(raw)

    def test_dropped_connection_after_carrying_out(self):
        self.emu = self.start_emulator("--drop-share", "1", "--fault-action", "ModifyDBInstanceSSLConfig",
                                       task_seconds=60)
        c = self.client()
        with self.assertRaises(TencentCloudSDKException) as cm:
            typed(c, "ModifyDBInstanceSSLConfig", DBInstanceId=GZ_SSL_ON, SSLEnabled=False)
        self.assertEqual(cm.exception.code, "ClientNetworkError")
        self.assertEqual(typed(c, "DescribeTasks", DBInstanceId=GZ_SSL_ON).TotalCount, 1)

    def test_latency(self):
        self.emu = self.start_emulator("--latency-ms", "500")
        c = self.client()
        t0 = time.monotonic()
        self.assertGreaterEqual(typed(c, "DescribeRegions").TotalCount, 18)
        self.assertGreaterEqual(time.monotonic() - t0, 0.5)
        impatient = self.client(timeout=0.2)
        with self.assertRaises(TencentCloudSDKException) as cm:
            typed(impatient, "DescribeRegions")
        self.assertEqual(cm.exception.code, "ClientNetworkError")

    def test_bad_fault_options_refuse_to_start(self):
        for args in (("--drop-share", "1.5"), ("--fault-action", "NoSuchAction"), ("--http-status", "42")):
            with self.subTest(args=args):
                with self.assertRaises(RuntimeError):
                    Emulator(*args).start(deadline=20)


if __name__ == "__main__":
    unittest.main()
