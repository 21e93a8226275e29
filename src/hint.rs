//! How to write a pgssl command in a hint, so that what pgssl suggests can be pasted as
//! is: under `--demo` every suggested command carries `--demo` too.

use std::sync::atomic::{AtomicBool, Ordering};

static DEMO: AtomicBool = AtomicBool::new(false);

/// From now on, suggested commands run against the demo (`demo::start` calls this).
pub fn set_demo() {
    DEMO.store(true, Ordering::Relaxed);
}

/// `pgssl`, or `pgssl --demo`.
pub fn pgssl() -> &'static str {
    if DEMO.load(Ordering::Relaxed) {
        "pgssl --demo"
    } else {
        "pgssl"
    }
}
