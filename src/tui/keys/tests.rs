//! The key table's lookups.

use super::*;

fn key(code: KeyCode, m: KeyModifiers) -> KeyEvent {
    KeyEvent::new(code, m)
}

#[test]
fn lookups_follow_the_table() {
    assert_eq!(
        lookup(Mode::Browse, &key(Char('j'), NONE)),
        Some(Action::Down)
    );
    assert_eq!(lookup(Mode::Browse, &key(Down, NONE)), Some(Action::Down));
    assert_eq!(
        lookup(Mode::Browse, &key(Char('G'), SHIFT)),
        Some(Action::Bottom)
    );
    assert_eq!(
        lookup(Mode::Browse, &key(Char('R'), SHIFT)),
        Some(Action::Regions)
    );
    assert_eq!(lookup(Mode::Confirm, &key(Esc, NONE)), Some(Action::Back));
    assert_eq!(
        lookup(Mode::TypeConfirm, &key(Char('y'), NONE)),
        None,
        "y is text when the instance id must be typed"
    );
    assert_eq!(
        lookup(Mode::Browse, &key(Char('P'), SHIFT)),
        Some(Action::Profiles)
    );
    assert_eq!(
        lookup(Mode::Confirm, &key(Enter, NONE)),
        None,
        "Enter never confirms a change"
    );
    assert_eq!(
        lookup(Mode::Form, &key(Char('c'), CTRL)),
        Some(Action::ForceQuit)
    );
    assert_eq!(
        lookup(Mode::Filter, &key(Char('q'), NONE)),
        None,
        "q is text while filtering"
    );
}

#[test]
fn no_key_means_two_things_in_one_mode() {
    for mode in MODES {
        let mut seen = std::collections::HashMap::new();
        for b in BINDINGS.iter().filter(|b| b.modes.contains(mode)) {
            for k in b.keys {
                if let Some(prev) = seen.insert(*k, b.action) {
                    assert_eq!(prev, b.action, "{mode:?} {k:?}");
                }
            }
        }
    }
}
