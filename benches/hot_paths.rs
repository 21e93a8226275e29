//! The hot pure paths, timed with divan: `cargo bench --bench hot_paths`.
//! Budgets (README, Performance): sign < 5 us, parse 100 instances < 1 ms,
//! filter 10,000 instances per keystroke < 5 ms, render a 120x40 frame of 10,000 < 2 ms.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use divan::{Bencher, black_box};
use pgssl::addresses::Address;
use pgssl::api::models::{DBInstance, DBInstanceNetInfo, DescribeDBInstancesResponse};
use pgssl::api::sign::{self, RequestParts, SIGNED_HEADERS};
use std::collections::HashMap;

use pgssl::domain::{Instance, InstanceKind, InstanceStatus, SslSeen, SslState};
use pgssl::store::SavedInstance;
use pgssl::tui::app::{App, Msg};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn main() {
    divan::main();
}

#[divan::bench]
fn sign_one_request() -> sign::Signed {
    let body =
        br#"{"DBInstanceId":"postgres-6bwgamo3","SSLEnabled":true,"ConnectAddress":"10.6.0.4"}"#;
    sign::sign(
        sign::SERVICE,
        black_box("AKIDm0JEWnWHkHfjD7P2Go8H2Z0PURRStUWq"),
        black_box("pXh4rwDSx9N6hZArN0tkP5LrbZbJ4ZHX"),
        black_box(1_700_000_000),
        "2023-11-14",
        &RequestParts {
            method: "POST",
            query: "",
            headers: &[
                ("content-type", "application/json"),
                ("host", "postgres.intl.tencentcloudapi.com"),
            ],
            signed_headers: SIGNED_HEADERS,
            payload: black_box(body),
        },
    )
}

/// A reply with `n` fully populated instances, as the emulator (and Tencent) send them.
fn reply(n: usize) -> Vec<u8> {
    let set: Vec<DBInstance> = (0..n)
        .map(|i| DBInstance {
            Region: Some("ap-guangzhou".into()),
            Zone: Some("ap-guangzhou-3".into()),
            VpcId: Some("vpc-e6w23k31".into()),
            SubnetId: Some("subnet-51lcif9y".into()),
            DBInstanceId: Some(format!("postgres-{i:08}")),
            DBInstanceName: Some(format!("tenant-{i:05}")),
            DBInstanceStatus: Some("running".into()),
            DBInstanceMemory: Some(4),
            DBInstanceStorage: Some(100),
            DBInstanceCpu: Some(2),
            DBInstanceClass: Some("cdb.pg.z1.4g".into()),
            DBMajorVersion: Some("15".into()),
            DBVersion: Some("15.4".into()),
            DBKernelVersion: Some("v15.4_r1.10".into()),
            DBInstanceType: Some("primary".into()),
            DBInstanceVersion: Some("standard".into()),
            DBCharset: Some("UTF8".into()),
            CreateTime: Some("2024-05-01 10:00:00".into()),
            UpdateTime: Some("2024-05-01 10:00:00".into()),
            ExpireTime: Some("0000-00-00 00:00:00".into()),
            PayType: Some("postpaid".into()),
            DBInstanceNetInfo: Some(vec![
                DBInstanceNetInfo {
                    Address: Some(String::new()),
                    Ip: Some(format!("10.6.{}.{}", i / 250, i % 250)),
                    Port: Some(5432),
                    NetType: Some("private".into()),
                    Status: Some("opened".into()),
                    VpcId: Some("vpc-e6w23k31".into()),
                    SubnetId: Some("subnet-51lcif9y".into()),
                    ProtocolType: Some("postgresql".into()),
                },
                DBInstanceNetInfo {
                    Address: Some(format!("gz-postgres-{i:08}.sql.tencentcdb.com")),
                    Ip: Some(format!("43.139.{}.{}", i / 250, i % 250)),
                    Port: Some(21032),
                    NetType: Some("public".into()),
                    Status: Some("opened".into()),
                    ..Default::default()
                },
            ]),
            AppId: Some(1250000000),
            Uid: Some(100000000),
            ProjectId: Some(0),
            MasterDBInstanceId: Some(String::new()),
            ReadOnlyInstanceNum: Some(0),
            ..Default::default()
        })
        .collect();
    serde_json::to_vec(
        &serde_json::json!({"Response": DescribeDBInstancesResponse {
            TotalCount: Some(n as u64),
            DBInstanceSet: Some(set),
            RequestId: "0d0c7b6e-3c6a-4f2e-9d2b-1b8a9f0e7c11".into(),
        }}),
    )
    .expect("json")
}

#[divan::bench]
fn parse_describe_db_instances_100(bencher: Bencher) {
    let body = reply(100);
    bencher.bench(|| {
        pgssl::api::client::parse_reply::<DescribeDBInstancesResponse>(
            pgssl::api::Action::DescribeDBInstances,
            200,
            black_box(&body),
            None,
        )
        .expect("parses")
    });
}

fn saved(n: usize) -> (Vec<SavedInstance>, HashMap<String, Box<Instance>>) {
    let saved: Vec<SavedInstance> = (0..n)
        .map(|i| SavedInstance {
            id: format!("postgres-{i:08}"),
            region: ["ap-guangzhou", "ap-shanghai", "ap-singapore"][i % 3].into(),
            name: None,
        })
        .collect();
    let learned = saved
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let instance = Instance {
                id: s.id.clone(),
                region: s.region.clone(),
                name: format!("tenant-{i:05}"),
                kind: InstanceKind::Primary,
                status: InstanceStatus::Running,
                master: None,
                version: None,
                addresses: vec![Address::unverified(
                    std::net::IpAddr::from([
                        10,
                        u8::try_from(i / 62500).expect("fewer than 16 million"),
                        u8::try_from((i / 250) % 250).expect("under 250"),
                        u8::try_from(i % 250).expect("under 250"),
                    ])
                    .into(),
                )],
                unusable: vec![],
                ssl: Some(SslSeen {
                    state: SslState {
                        enabled: i % 2 == 0,
                        protected: None,
                        ca_url: None,
                        inline_ca: None,
                    },
                    read_at: String::new(),
                }),
                read_at: String::new(),
                ca: None,
                tls: None,
            };
            (s.id.clone(), Box::new(instance))
        })
        .collect();
    (saved, learned)
}

fn app(n: usize) -> App {
    let (saved, learned) = saved(n);
    App::new(saved, learned, vec![], false)
}

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

/// One keystroke in the filter with 10,000 saved instances: the visible list is recomputed.
#[divan::bench]
fn filter_10000_one_keystroke(bencher: Bencher) {
    let mut app = app(10_000);
    app.update(key('/'));
    app.update(key('t'));
    app.update(key('e'));
    bencher.bench_local(|| {
        app.update(key('5'));
        app.update(Msg::Key(KeyEvent::new(
            KeyCode::Backspace,
            KeyModifiers::NONE,
        )));
    });
}

/// One frame of the main screen at 120x40 with 10,000 saved instances.
#[divan::bench]
fn render_frame_10000_at_120x40(bencher: Bencher) {
    let mut app = app(10_000);
    app.update(Msg::Resize(120, 40));
    app.update(key('j'));
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    bencher.bench_local(|| {
        terminal
            .draw(|f| pgssl::tui::view::draw(f, &app))
            .expect("draw");
    });
}
