"""The emulator's identity services, held to Tencent's official Python SDK (issue 12).

- STS answers (AssumeRole, AssumeRoleWithWebIdentity, GetCallerIdentity) parse into the
  SDK's own models (tencentcloud-sdk-python-sts, `sts/v20180813/models.py`), and its errors
  carry codes from the SDK's `sts/v20180813/errorcodes.py`.
- The SDK's own credential providers, pointed at the emulator, hand out keys the postgres
  actions accept: `CVMRoleCredential` (its metadata URL moved to the emulator),
  `STSAssumeRoleCredential` and `OIDCRoleArnCredential` (their STS endpoint moved to the
  emulator, over plain http on loopback).
- A temporary key works only with its token.

Nothing here leaves 127.0.0.1.
"""

import json
import os
import tempfile
import time
import unittest
from urllib.parse import quote

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.postgres.v20170312 import models as pg_models
from tencentcloud.sts.v20180813 import errorcodes as sts_errors
from tencentcloud.sts.v20180813 import models as sts_models
from tencentcloud.sts.v20180813 import sts_client

from test_sdk import SECRET_ID, SECRET_KEY, Emulator, make_client

ACCOUNT = "100000000001"
CVM_ROLE = "pgssl-bastion"
ROLE = "pgssl-dba"
ROLE_ARN = "qcs::cam::uin/%s:roleName/%s" % (ACCOUNT, ROLE)
OIDC_PROVIDER = "pgssl-demo-oidc"
OIDC_TOKEN = "eyJhbGciOiJSUzI1NiJ9.conformance-web-identity.c2lnbmF0dXJl"

SDK_STS_CODES = {v for k, v in vars(sts_errors).items() if k.isupper() and isinstance(v, str)}


def sts(emu, secret_id=SECRET_ID, secret_key=SECRET_KEY, token=None):
    profile = ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=emu.clean_host, reqTimeout=10))
    return sts_client.StsClient(credential.Credential(secret_id, secret_key, token), "ap-guangzhou", profile)


def assume_role_request(arn=ROLE_ARN, duration=None):
    req = sts_models.AssumeRoleRequest()
    req.RoleArn = arn
    req.RoleSessionName = "conformance"
    req.DurationSeconds = duration
    return req


class _PlainHttpProfile(HttpProfile):
    """The SDK's credential classes build `HttpProfile()` with only an endpoint (https):
    this stands in for it so they reach the emulator over http on loopback."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("protocol", "http")
        super(_PlainHttpProfile, self).__init__(*args, **kwargs)


class IdentityCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emu = Emulator("--cvm-role", CVM_ROLE, "--oidc-token", OIDC_TOKEN).start()

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()

    def setUp(self):
        # Point the SDK's providers at the emulator for this test only.
        saved = (credential.HttpProfile, credential.CVMRoleCredential._role_endpoint)
        credential.HttpProfile = _PlainHttpProfile
        credential.CVMRoleCredential._role_endpoint = (
            "http://%s/latest/meta-data/cam/security-credentials/" % self.emu.clean_host)

        def restore():
            credential.HttpProfile, credential.CVMRoleCredential._role_endpoint = saved
        self.addCleanup(restore)

    def assertPostgresAccepts(self, secret_id, secret_key, token):
        client = make_client(self.emu, secret_id=secret_id, secret_key=secret_key, token=token)
        resp = client.DescribeDBInstances(pg_models.DescribeDBInstancesRequest())
        self.assertGreaterEqual(resp.TotalCount, 1)
        self.assertTrue(resp.RequestId)
        return client

    def assertStsError(self, exc, code):
        self.assertEqual(exc.code, code, exc.message)
        self.assertIn(code, SDK_STS_CODES, "a code the SDK's errorcodes.py lists")
        self.assertTrue(exc.requestId)


class StsAnswersParse(IdentityCase):
    def test_assume_role_parses_into_the_sdk_model(self):
        resp = sts(self.emu).AssumeRole(assume_role_request(duration=900))
        self.assertIsInstance(resp, sts_models.AssumeRoleResponse)
        c = resp.Credentials
        self.assertTrue(c.TmpSecretId and c.TmpSecretKey and c.Token)
        self.assertNotEqual(c.TmpSecretId, SECRET_ID)
        self.assertIsInstance(resp.ExpiredTime, int)
        # Expiration is the same instant in ISO 8601 (models.py: "RFC3339 格式").
        self.assertRegex(resp.Expiration, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertTrue(resp.RequestId)
        # The key is the role's: GetCallerIdentity says so, and postgres accepts it.
        who = sts(self.emu, c.TmpSecretId, c.TmpSecretKey, c.Token).GetCallerIdentity(
            sts_models.GetCallerIdentityRequest())
        self.assertEqual(who.AccountId, ACCOUNT)
        self.assertEqual(who.Type, "CAMRole")
        # tccli's GetCallerIdentity example for a role: qcs::sts:ACCOUNT:assumed-role/ROLEID,
        # UserId ROLEID:SESSION.
        self.assertRegex(who.Arn, r"^qcs::sts:%s:assumed-role/\d+$" % ACCOUNT)
        self.assertEqual(who.UserId, who.Arn.rsplit("/", 1)[1] + ":conformance")
        self.assertPostgresAccepts(c.TmpSecretId, c.TmpSecretKey, c.Token)

    def test_get_caller_identity_of_the_users_key(self):
        who = sts(self.emu).GetCallerIdentity(sts_models.GetCallerIdentityRequest())
        self.assertIsInstance(who, sts_models.GetCallerIdentityResponse)
        self.assertEqual(who.AccountId, ACCOUNT)
        self.assertEqual(who.Type, "CAMUser")
        # tccli's example for a CAM user: qcs::cam:ACCOUNT:uin/UIN.
        self.assertRegex(who.Arn, r"^qcs::cam:%s:uin/\d+$" % ACCOUNT)
        self.assertTrue(who.UserId and who.PrincipalId)

    def test_assume_role_with_web_identity_unsigned(self):
        req = sts_models.AssumeRoleWithWebIdentityRequest()
        req.ProviderId = OIDC_PROVIDER
        req.WebIdentityToken = OIDC_TOKEN
        req.RoleArn = ROLE_ARN
        req.RoleSessionName = "conformance-oidc"
        client = sts(self.emu)
        # The SDK's own way: Authorization SKIP, no X-TC-Token (sts_client.py's docstring).
        body = client.call_json("AssumeRoleWithWebIdentity", json.loads(req.to_json_string()),
                                options={"SkipSign": True})
        resp = sts_models.AssumeRoleWithWebIdentityResponse()
        resp._deserialize(body["Response"])
        self.assertTrue(resp.Credentials.TmpSecretId and resp.Credentials.Token)
        self.assertIsInstance(resp.ExpiredTime, int)
        self.assertPostgresAccepts(resp.Credentials.TmpSecretId, resp.Credentials.TmpSecretKey,
                                   resp.Credentials.Token)

    def test_errors_carry_the_sdks_codes(self):
        for req, code in [
            (assume_role_request("qcs::cam::uin/%s:roleName/no-such-role" % ACCOUNT),
             "ResourceNotFound.RoleNotFound"),
            (assume_role_request(duration=43201), "InvalidParameter.OverTimeError"),
        ]:
            with self.assertRaises(TencentCloudSDKException) as e:
                sts(self.emu).AssumeRole(req)
            self.assertStsError(e.exception, code)

        req = sts_models.AssumeRoleWithWebIdentityRequest()
        req.ProviderId = OIDC_PROVIDER
        req.WebIdentityToken = "not-the-token"
        req.RoleArn = ROLE_ARN
        req.RoleSessionName = "conformance-oidc"
        with self.assertRaises(TencentCloudSDKException) as e:
            sts(self.emu).call_json("AssumeRoleWithWebIdentity", json.loads(req.to_json_string()),
                                    options={"SkipSign": True})
        self.assertStsError(e.exception, "InvalidParameter.WebIdentityTokenError")


class SdkProvidersAgainstTheEmulator(IdentityCase):
    def test_cvm_role_credential(self):
        cred = credential.CVMRoleCredential()
        self.assertEqual(cred.get_role_name(), CVM_ROLE)
        secret_id, secret_key, token = cred.get_credential_info()
        self.assertTrue(secret_id and secret_key and token, "the SDK read the metadata answer")
        self.assertGreater(cred._expired_ts, 0)
        self.assertPostgresAccepts(secret_id, secret_key, token)
        who = sts(self.emu, secret_id, secret_key, token).GetCallerIdentity(
            sts_models.GetCallerIdentityRequest())
        self.assertEqual(who.Type, "CAMRole")
        self.assertRegex(who.Arn, r"^qcs::sts:%s:assumed-role/\d+$" % ACCOUNT)
        # Another role than pgssl-dba's.
        dba = sts(self.emu).AssumeRole(assume_role_request()).Credentials
        other = sts(self.emu, dba.TmpSecretId, dba.TmpSecretKey, dba.Token).GetCallerIdentity(
            sts_models.GetCallerIdentityRequest())
        self.assertNotEqual(other.Arn, who.Arn)

    def test_a_temporary_key_needs_its_token(self):
        secret_id, secret_key, _ = credential.CVMRoleCredential().get_credential_info()
        client = make_client(self.emu, secret_id=secret_id, secret_key=secret_key, token=None)
        with self.assertRaises(TencentCloudSDKException) as e:
            client.DescribeDBInstances(pg_models.DescribeDBInstancesRequest())
        self.assertTrue(e.exception.code.startswith("AuthFailure."), e.exception.code)

    def test_sts_assume_role_credential(self):
        cred = credential.STSAssumeRoleCredential(SECRET_ID, SECRET_KEY, ROLE_ARN, "conformance",
                                                  duration_seconds=900, endpoint=self.emu.clean_host)
        secret_id, secret_key, token = cred.get_credential_info()
        self.assertNotEqual(secret_id, SECRET_ID)
        self.assertPostgresAccepts(secret_id, secret_key, token)

    def test_oidc_role_arn_credential(self):
        cred = credential.OIDCRoleArnCredential("ap-guangzhou", OIDC_PROVIDER, OIDC_TOKEN, ROLE_ARN,
                                                "conformance-oidc", duration_seconds=900,
                                                endpoint=self.emu.clean_host)
        secret_id, secret_key, token = cred.get_credential_info()
        self.assertTrue(token)
        self.assertPostgresAccepts(secret_id, secret_key, token)

    def test_tke_environment_through_the_sdks_default_provider(self):
        with tempfile.NamedTemporaryFile("w", suffix=".jwt", delete=False) as f:
            f.write(OIDC_TOKEN)
        self.addCleanup(os.unlink, f.name)
        env = {"TKE_REGION": "ap-guangzhou", "TKE_PROVIDER_ID": OIDC_PROVIDER,
               "TKE_WEB_IDENTITY_TOKEN_FILE": f.name, "TKE_ROLE_ARN": ROLE_ARN}
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)

        def restore():
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        self.addCleanup(restore)
        provider = credential.DefaultTkeOIDCRoleArnProvider()
        cred = provider.get_credentials()
        cred.endpoint = self.emu.clean_host
        secret_id, secret_key, token = cred.get_credential_info()
        self.assertPostgresAccepts(secret_id, secret_key, token)


class Issue20Shapes(unittest.TestCase):
    """Issue 20, item 6, in the shapes of tccli's STS examples (`examples/sts/v20180813/`)
    and sts `models.go`: the role ARN by role id, AssumeRole's optional parameters,
    DurationSeconds as a string, and GetCallerIdentity's PrincipalId for a role."""

    @classmethod
    def setUpClass(cls):
        cls.emu = Emulator("--role", "readOnlyRole", "--role", "OneLogin-Role",
                           "--oidc-token", OIDC_TOKEN).start()

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()

    def assume(self, params, client=None):
        body = (client or sts(self.emu)).call_json("AssumeRole", params)
        resp = sts_models.AssumeRoleResponse()
        resp._deserialize(body["Response"])
        self.assertTrue(resp.Credentials.TmpSecretId and resp.Credentials.Token)
        return resp

    def who(self, creds):
        return sts(self.emu, creds.TmpSecretId, creds.TmpSecretKey, creds.Token).GetCallerIdentity(
            sts_models.GetCallerIdentityRequest())

    def test_assume_role_as_the_example_then_by_role_id(self):
        # AssumeRole.md: --RoleArn qcs::cam::uin/ID:roleName/readOnlyRole --RoleSessionName cts
        by_name = self.assume({"RoleArn": "qcs::cam::uin/%s:roleName/readOnlyRole" % ACCOUNT,
                               "RoleSessionName": "cts"})
        role_id = self.who(by_name.Credentials).Arn.rsplit("/", 1)[1]
        # models.go: qcs::cam::uin/12345678:role/4611686018427397919 names the same role.
        self.assertRegex(role_id, r"^4611686\d{12}$")
        by_id = self.assume({"RoleArn": "qcs::cam::uin/%s:role/%s" % (ACCOUNT, role_id),
                             "RoleSessionName": "cts"})
        self.assertEqual(self.who(by_id.Credentials).Arn, self.who(by_name.Credentials).Arn)
        with self.assertRaises(TencentCloudSDKException) as e:
            self.assume({"RoleArn": "qcs::cam::uin/%s:role/4611686000000000000" % ACCOUNT,
                         "RoleSessionName": "cts"})
        self.assertEqual(e.exception.code, "ResourceNotFound.RoleNotFound")

    def test_assume_role_takes_every_documented_optional_parameter(self):
        policy = quote(json.dumps({"version": "2.0", "statement": [
            {"effect": "allow", "action": ["postgres:DescribeDBInstances"], "resource": ["*"]}]}))
        params = {
            "RoleArn": "qcs::cam::uin/%s:roleName/readOnlyRole" % ACCOUNT,
            "RoleSessionName": "cts", "DurationSeconds": 900, "Policy": policy,
            "ExternalId": "pgssl-ext:1", "Tags": [{"Key": "team", "Value": "dba"}],
            "SourceIdentity": "100000000002",
            "SerialNumber": "qcs::cam:uin/100000000002::mfa/softToken", "TokenCode": "123456",
        }
        resp = self.assume(params)
        self.assertPostgresAccepts(resp.Credentials)
        sts_codes = SDK_STS_CODES | {"FailedOperation.CheckMFAError",
                                     "FailedOperation.MFATypeNotSupported"}
        for change, code in [
            ({"Policy": quote('{"statement": [{"principal": {"qcs": ["*"]}}]}')},
             "InvalidParameter.StrategyInvalid"),
            ({"Policy": "not json"}, "InvalidParameter.StrategyFormatError"),
            ({"Tags": [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]},
             "InvalidParameter.ParamError"),
            ({"TokenCode": "12"}, "FailedOperation.CheckMFAError"),
        ]:
            with self.assertRaises(TencentCloudSDKException) as e:
                self.assume(dict(params, **change))
            self.assertEqual(e.exception.code, code, e.exception.message)
            self.assertIn(code, sts_codes)

    def assertPostgresAccepts(self, creds):
        client = make_client(self.emu, secret_id=creds.TmpSecretId, secret_key=creds.TmpSecretKey,
                             token=creds.Token)
        self.assertGreaterEqual(
            client.DescribeDBInstances(pg_models.DescribeDBInstancesRequest()).TotalCount, 1)

    def test_web_identity_with_duration_seconds_as_a_string(self):
        # AssumeRoleWithWebIdentity.md: --DurationSeconds 1800 --RoleSessionName test_OIDC
        # --RoleArn qcs::cam::uin/ID:roleName/OneLogin-Role --ProviderId OIDC, the number
        # sent as a string (as from the command line, or a GET request).
        params = {"DurationSeconds": "1800", "RoleSessionName": "test_OIDC",
                  "WebIdentityToken": OIDC_TOKEN,
                  "RoleArn": "qcs::cam::uin/%s:roleName/OneLogin-Role" % ACCOUNT,
                  "ProviderId": "OIDC"}
        before = int(time.time())
        body = sts(self.emu).call_json("AssumeRoleWithWebIdentity", params,
                                       options={"SkipSign": True})
        resp = sts_models.AssumeRoleWithWebIdentityResponse()
        resp._deserialize(body["Response"])
        self.assertTrue(before + 1800 - 5 <= resp.ExpiredTime <= int(time.time()) + 1800 + 5)
        for bad in ("18x", "", "-5"):
            with self.assertRaises(TencentCloudSDKException) as e:
                sts(self.emu).call_json("AssumeRoleWithWebIdentity",
                                        dict(params, DurationSeconds=bad), options={"SkipSign": True})
            self.assertEqual(e.exception.code, "InvalidParameter", e.exception.message)

    def test_principal_id_of_a_role_is_who_asked_for_its_key(self):
        # GetCallerIdentity.md, example 2: a role's key answers PrincipalId with the CAM
        # user's uin (1000261****), AccountId with the account's (1000262***).
        user = sts(self.emu).GetCallerIdentity(sts_models.GetCallerIdentityRequest())
        resp = self.assume({"RoleArn": "qcs::cam::uin/%s:roleName/readOnlyRole" % ACCOUNT,
                            "RoleSessionName": "roleSessionName"})
        who = self.who(resp.Credentials)
        self.assertEqual(who.Type, "CAMRole")
        self.assertEqual(who.AccountId, ACCOUNT)
        self.assertEqual(who.PrincipalId, user.UserId)
        self.assertNotEqual(who.PrincipalId, ACCOUNT)
        self.assertTrue(who.UserId.endswith(":roleSessionName"))


if __name__ == "__main__":
    unittest.main()
