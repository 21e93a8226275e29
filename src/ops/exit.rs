//! One exit-code contract for every command, computed from outcomes here and rendered by
//! both faces (the CLI exits with it; the TUI with 0 or 130). docs/cli.md's table is this
//! one, and a test checks the two agree.
//!
//! `TABLE` is the table; docs/cli.md and `--help` show it as is.

/// Done.
pub const DONE: i32 = 0;
/// A change or task failed.
pub const FAILED: i32 = 1;
/// Refused before anything was sent.
pub const REFUSED: i32 = 2;
/// Outcome unknown, or still running when the wait gave up.
pub const UNKNOWN: i32 = 3;
/// Interrupted by the person (Ctrl-C, a hangup).
pub const INTERRUPTED: i32 = 130;

/// Every code, with its meaning: the table docs/cli.md and `--help` show.
pub const TABLE: [(i32, &str); 5] = [
    (
        DONE,
        "done: what was asked succeeded (a change, a task, a check), or there was nothing to do",
    ),
    (
        FAILED,
        "failed: a change or task failed (Fail, Pause, refused by the API, no such task), a check found a problem, or pgssl's own files could not be used",
    ),
    (
        REFUSED,
        "refused before anything was sent: bad input, a guard, no confirmation",
    ),
    (
        UNKNOWN,
        "unknown: a change may or may not have been made, a task was still running when the wait gave up, or something could not be checked",
    ),
    (
        INTERRUPTED,
        "interrupted (Ctrl-C, a hangup): what was sent goes on; `ssl resume` continues a run",
    ),
];

/// The worst of several outcomes, for a command that reports many (a bulk run, an
/// audit): interrupted, then unknown, then failed, then done. Refused never mixes with
/// the others: a refusal stops a command before anything is sent.
pub fn worst(codes: impl IntoIterator<Item = i32>) -> i32 {
    let rank = |c: i32| match c {
        INTERRUPTED => 4,
        UNKNOWN => 3,
        REFUSED => 2,
        FAILED => 1,
        _ => 0,
    };
    codes.into_iter().max_by_key(|c| rank(*c)).unwrap_or(DONE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_outcome_decides() {
        assert_eq!(worst([]), DONE);
        assert_eq!(worst([DONE, FAILED, DONE]), FAILED);
        assert_eq!(worst([FAILED, UNKNOWN]), UNKNOWN);
        assert_eq!(worst([UNKNOWN, INTERRUPTED, FAILED]), INTERRUPTED);
    }
}
