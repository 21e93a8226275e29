use super::*;
use crate::faults::TaskEnd;

#[test]
fn demo_fleet_is_valid_and_has_what_the_demo_needs() {
    let f = Fleet::parse(DEMO_FLEET).expect("demo fleet parses");
    assert!(f.regions().len() >= 3);
    assert!(f.instances.iter().any(DBInstance::is_readonly));
    assert!(f.instances.iter().any(|i| i.status() != "running"));
    assert!(f.instances.iter().any(|i| {
        i.net_info()
            .iter()
            .any(|n| n.NetType.as_deref() == Some("public"))
    }));
    assert!(!f.groups.is_empty());
    let biggest = f
        .regions()
        .iter()
        .map(|r| {
            f.instances
                .iter()
                .filter(|i| i.Region.as_deref() == Some(r))
                .count()
        })
        .max()
        .unwrap_or(0);
    assert!(biggest > 100, "one region must need paging at Limit 100");
}

#[test]
fn errors_name_the_field() {
    let bad = |text: &str| Fleet::parse(text).expect_err("should fail");
    assert_eq!(
        bad("{\"DBInstanceSet\": 3}").split(':').next(),
        Some("DBInstanceSet")
    );
    let e = bad(
        r#"{"DBInstanceSet":[{"DBInstanceId":"postgres-aaaaaaaa","Region":"ap-guangzhou","DBInstanceType":"primary","DBInstanceStatus":"running","DBInstanceNmae":"x"}]}"#,
    );
    assert!(
        e.starts_with(
            "DBInstanceSet[0].DBInstanceNmae: unknown field (did you mean DBInstanceName?)"
        ),
        "{e}"
    );
    let e = bad(
        r#"{"DBInstanceSet":[{"DBInstanceId":"postgres-aaaaaaaa","Region":"ap-guangzhou","DBInstanceType":"primary","DBInstanceStatus":"running","DBInstanceNetInfo":[{"Port":"x"}]}]}"#,
    );
    assert!(
        e.starts_with("DBInstanceSet[0].DBInstanceNetInfo[0].Port"),
        "{e}"
    );
    let e = bad(
        r#"{"DBInstanceSet":[{"DBInstanceId":"nope","Region":"ap-guangzhou","DBInstanceType":"primary","DBInstanceStatus":"running"}]}"#,
    );
    assert!(e.starts_with("DBInstanceSet[0].DBInstanceId"), "{e}");
    let e = bad(
        r#"{"DBInstanceSet":[{"DBInstanceId":"postgres-aaaaaaaa","Region":"ap-guangzhou","DBInstanceType":"primary","DBInstanceStatus":"running"}],"SSLConfigSet":[{"DBInstanceId":"postgres-aaaaaaaa","SSLEnabled":true,"ConnectAddress":"1.2.3.4"}]}"#,
    );
    assert!(e.starts_with("SSLConfigSet[0].ConnectAddress"), "{e}");
    assert!(bad("{").starts_with("not valid JSON"));
    assert!(bad(r#"{"Extra": 1}"#).contains("Extra"));
}

#[test]
fn a_task_runs_then_applies_its_change() {
    let mut f = Fleet::parse(DEMO_FLEET).expect("demo");
    let inst = f
        .instances
        .iter()
        .find(|i| !i.is_readonly() && i.status() == "running")
        .cloned()
        .expect("a running primary");
    let region = inst.Region.clone().expect("region");
    let addr = f.allowed_addresses(&inst)[0].clone();
    let target = SSLConfig {
        DBInstanceId: inst.id().into(),
        SSLEnabled: true,
        ConnectAddress: Some(addr.clone()),
    };
    let id = f.start_task(&region, target.clone(), 1000, 10, TaskEnd::Success, 0);
    let task = |f: &Fleet| f.tasks.iter().find(|t| t.id == id).expect("task").clone();
    f.advance(1005);
    assert_eq!(
        f.instance(&region, inst.id()).expect("inst").status(),
        "restarting"
    );
    let t = task(&f).to_task_set(1005);
    assert_eq!((t.status(), t.Progress), ("Running", Some(50)));
    f.advance(1010);
    assert_eq!(
        f.instance(&region, inst.id()).expect("inst").status(),
        "running"
    );
    assert_eq!(f.ssl_of(inst.id()), target);
    let t = task(&f).to_task_set(2000);
    assert_eq!(
        (t.TaskId, t.status(), t.Progress),
        (Some(id), "Success", Some(100))
    );
    assert_eq!(parse_time(&fmt_time(1010)), Some(1010));
}

#[test]
fn task_times_are_beijing_time() {
    // The epoch is 08:00 in Beijing, as the API's unset times show it.
    assert_eq!(fmt_time(0), "1970-01-01 08:00:00");
    assert_eq!(parse_time("1970-01-01 08:00:00"), Some(0));
    assert_eq!(fmt_time(1_796_112_000), "2026-12-01 16:00:00");
}

#[test]
fn a_task_can_end_paused_or_wait_for_its_switch_and_change_nothing() {
    for end in [TaskEnd::Pause, TaskEnd::WaitSwitch] {
        let mut f = Fleet::demo();
        let inst = f
            .instances
            .iter()
            .find(|i| !i.is_readonly() && i.status() == "running")
            .cloned()
            .expect("a running primary");
        let region = inst.Region.clone().expect("region");
        let before = f.ssl_of(inst.id());
        let target = SSLConfig {
            DBInstanceId: inst.id().into(),
            SSLEnabled: true,
            ConnectAddress: Some(f.allowed_addresses(&inst)[0].clone()),
        };
        let id = f.start_task(&region, target, 1000, 10, end, 0);
        f.advance(1100);
        let t = f
            .tasks
            .iter()
            .find(|t| t.id == id)
            .expect("task")
            .to_task_set(1100);
        let want = if end == TaskEnd::Pause {
            "Pause"
        } else {
            "WaitSwitch"
        };
        assert_eq!(t.status(), want);
        assert_eq!(f.ssl_of(inst.id()), before, "{want} changes nothing");
    }
}
