//! A hostile fleet (escape sequences, bidi overrides, C1 controls, 300-character names,
//! empty fields) goes through the emulator, the CLI, the saved files and the TUI: nothing
//! unsafe reaches stdout, stderr, the saved files or the screen, and nothing panics.

use crate::common::{Emu, Sandbox, assert_safe};
use pgssl::store::{ConfigFile, InventoryFile};
use pgssl::tui::app::{App, Msg};
use pgssl_emulator::{FaultArgs, Fleet};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

#[test]
fn a_hostile_fleet_is_harmless_everywhere() {
    let fleet = Fleet::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/hostile-fleet.json"
    )))
    .expect("the hostile fleet is a valid fleet");
    let emu = Emu::start_with(fleet, FaultArgs::default(), 1, None);
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    for args in [
        vec!["--endpoint", &ep, "instances", "import", "ap-guangzhou"],
        vec!["instances", "list"],
        vec!["--output", "json", "instances", "list"],
        vec![
            "--endpoint",
            &ep,
            "--region",
            "ap-guangzhou",
            "instances",
            "list",
            "--remote",
        ],
        vec![
            "--endpoint",
            &ep,
            "--region",
            "ap-guangzhou",
            "ssl",
            "show",
            "postgres-h0st1le0",
        ],
        vec![
            "--endpoint",
            &ep,
            "--region",
            "ap-guangzhou",
            "ssl",
            "show",
            "postgres-h0st1le1",
        ],
    ] {
        let r = sb.run(&args);
        r.ok();
        assert_safe(&format!("stdout of {args:?}"), &r.stdout);
        assert_safe(&format!("stderr of {args:?}"), &r.stderr);
    }
    let config = std::fs::read_to_string(sb.config_file()).expect("config");
    assert_safe("config.toml", &config);
    let inventory = sb.dir.path().join("data/inventory.json");
    let learned = std::fs::read_to_string(&inventory).expect("inventory");
    assert_safe("inventory.json", &learned);
    assert!(
        learned.contains("\\x1b[2J"),
        "escapes are kept visible, not dropped"
    );

    // Every instance renders, at both sizes, with the long name cut to fit.
    let loaded = ConfigFile::new(sb.config_file())
        .load()
        .expect("config loads");
    assert_eq!(loaded.instances().len(), 7);
    let learned = InventoryFile::new(inventory)
        .load()
        .expect("inventory loads")
        .into_map();
    assert_eq!(learned.len(), 7);
    let mut app = App::new(loaded.instances().to_vec(), learned, vec![], false);
    for (w, h) in [(80u16, 24u16), (120, 40)] {
        app.update(Msg::Resize(w, h));
        for _ in 0..7 {
            let mut t = Terminal::new(TestBackend::new(w, h)).expect("terminal");
            t.draw(|f| pgssl::tui::view::draw(f, &app)).expect("draw");
            let buf = t.backend().buffer();
            let screen: String = buf
                .content()
                .iter()
                .map(ratatui::buffer::Cell::symbol)
                .collect();
            assert_safe("the screen", &screen);
            app.update(Msg::Key(crossterm::event::KeyEvent::new(
                crossterm::event::KeyCode::Down,
                crossterm::event::KeyModifiers::NONE,
            )));
        }
    }
}
