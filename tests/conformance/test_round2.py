"""Issue 20, the real API round 2: the official Python SDK over each new emulator behaviour.

A protected address that is a public domain name, PostgreSQL 10 refused, regions beyond the
documented 18 (one UNAVAILABLE) answered per the emulator's own region policy, a task at
WaitSwitch leaving its instance in `waitSwitch`, and the cloud-disk CA fields.
"""

import unittest

from test_sdk import (  # noqa: F401  (the harness)
    EmulatorCase, GZ_PRIMARY, GZ_PRIMARY_PRIVATE, FRA_PRIMARY, FRA_DOMAIN, FRA_PUBLIC, make_client,
    typed,
)

GZ_PRIMARY_DOMAIN = "gz-postgres-6bwgamo3.sql.tencentcdb.com"
GZ_PG10 = "postgres-m9t4e2xd"             # PostgreSQL 10.23, SSL off


class ProtectedDomainName(EmulatorCase):
    """Tencent's SSL page: each enable protects one VIP or one public domain name."""
    EMULATOR_KW = {"task_seconds": 1}

    def test_the_public_domain_is_accepted_and_read_back(self):
        c = self.client()
        task_id = self.modify_ssl(c, GZ_PRIMARY, True, GZ_PRIMARY_DOMAIN)
        final, seen = self.wait_task(c, task_id)
        self.assertEqual(final.Status, "Success", seen)
        resp = self.ssl_config(c, GZ_PRIMARY)
        self.assertEqual((resp.SSLEnabled, resp.ConnectAddress), (True, GZ_PRIMARY_DOMAIN))

    def test_another_domain_is_refused(self):
        c = self.client()
        self.assertApiError(c, "InvalidParameterValue.InvalidParameterValueError",
                            self.modify_ssl, c, GZ_PRIMARY, True, "other.sql.tencentcdb.com")

    def test_a_fleet_instance_protects_its_domain(self):
        fra = self.ssl_config(self.client(region="eu-frankfurt"), FRA_PRIMARY)
        self.assertEqual(fra.ConnectAddress, FRA_DOMAIN)
        inst = typed(self.client(region="eu-frankfurt"), "DescribeDBInstanceAttribute",
                     DBInstanceId=FRA_PRIMARY).DBInstance
        public = [n for n in inst.DBInstanceNetInfo if n.NetType == "public"][0]
        self.assertEqual((public.Address, public.Ip), (FRA_DOMAIN, FRA_PUBLIC))
        # Numbered network statuses, as the SDK numbers its list: "2" is opened.
        private = [n for n in inst.DBInstanceNetInfo if n.NetType == "private"][0]
        self.assertEqual(private.Status, "2")


class OldPostgres(EmulatorCase):
    """SSL needs PostgreSQL 11 or later (409/115986)."""

    def test_an_enable_on_10_is_refused_and_a_disable_is_not(self):
        c = self.client()
        inst = typed(c, "DescribeDBInstanceAttribute", DBInstanceId=GZ_PG10).DBInstance
        self.assertEqual((inst.DBMajorVersion, inst.DBVersion), ("10", "10.23"))
        self.assertApiError(c, "FailedOperation.FailedOperationError",
                            self.modify_ssl, c, GZ_PG10, True, "10.6.3.15")
        self.assertIsInstance(self.modify_ssl(c, GZ_PG10, False), int)


class RegionPolicy(EmulatorCase):
    """DescribeRegions lists more than the 18; the emulator serves per its own list."""

    def test_unavailable_serves_nothing_and_the_newer_region_serves_ssl(self):
        toronto = self.client(region="na-toronto")
        self.assertApiError(toronto, "UnsupportedRegion", typed, toronto, "DescribeDBInstances")
        riyadh = self.client(region="me-saudi-arabia")
        self.assertEqual(typed(riyadh, "DescribeDBInstances").TotalCount, 0)
        self.assertEqual(typed(riyadh, "DescribeTasks").TotalCount, 0)

    def test_region_info_has_the_sdk_fields(self):
        regions = typed(self.client(), "DescribeRegions").RegionSet
        toronto = [r for r in regions if r.Region == "na-toronto"][0]
        self.assertEqual((toronto.RegionId, toronto.SupportInternational), (6, 1))


class WaitSwitchStatus(EmulatorCase):
    """A task waiting for its switch window leaves the instance in `waitSwitch`."""
    EMULATOR_ARGS = ("--task-status", "waitswitch")
    EMULATOR_KW = {"task_seconds": 1}

    def test_instance_status_is_wait_switch(self):
        c = self.client()
        task_id = self.modify_ssl(c, GZ_PRIMARY, True, GZ_PRIMARY_PRIVATE)
        final, seen = self.wait_task(c, task_id)
        self.assertEqual(final.Status, "WaitSwitch", seen)
        self.assertEqual(self.status_of(c, GZ_PRIMARY), "waitSwitch")


if __name__ == "__main__":
    unittest.main()
