//! Keeps each action under the API's budget (`rate` requests in any second) as the API
//! counts it: by when requests arrive. The client cannot see arrivals, only that each
//! arrived between leaving and its reply; so a request holds a place in the budget from
//! when it leaves until `WINDOW` after its reply. Then however the network spreads a burst
//! out, no second at the server ever holds more than `rate`, and on a fast network the
//! ceiling is still used almost fully.
//!
//! The budget belongs to the endpoint, not to one client: every client of this process
//! that talks to the same endpoint (a credential switched in the TUI, a client rebuilt
//! with an observer, a renewal's STS client) shares it.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use super::Action;

/// A second, and 20 ms for the server's clock and ours to disagree on what a second is.
pub const WINDOW: Duration = Duration::from_millis(1020);

pub struct Limiter {
    pub rate: usize,
    /// The endpoint the budget is for.
    pub key: String,
}

/// One (endpoint, action)'s budget.
#[derive(Debug, Default)]
pub struct Budget {
    /// Requests sent and not answered yet.
    in_flight: usize,
    /// When recent replies came (each holds its place for a `WINDOW` more).
    answered: VecDeque<Instant>,
}

/// Whether a request may leave now, and if not, when to look again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Take {
    Now,
    /// When the oldest reply's place is free.
    At(Instant),
    /// Every place is held by a request in flight: when one is answered.
    WhenAnswered,
}

impl Budget {
    /// Take a place if one is free at `now`. Pure, for tests.
    pub fn take(&mut self, now: Instant, rate: usize) -> Take {
        while self.answered.front().is_some_and(|t| *t + WINDOW <= now) {
            self.answered.pop_front();
        }
        if self.in_flight + self.answered.len() < rate.max(1) {
            self.in_flight += 1;
            return Take::Now;
        }
        match self.answered.front() {
            Some(t) => Take::At(*t + WINDOW),
            None => Take::WhenAnswered,
        }
    }

    /// The request that held a place was answered (or failed) at `now`.
    pub fn answered(&mut self, now: Instant) {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.answered.push_back(now);
    }
}

type Key = (String, Action);

struct Shared {
    budget: Budget,
    /// Wakes those waiting when a place frees.
    freed: Arc<Notify>,
}

/// Every budget of this process.
fn budgets() -> &'static Mutex<HashMap<Key, Shared>> {
    static ALL: std::sync::OnceLock<Mutex<HashMap<Key, Shared>>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| Mutex::new(HashMap::new()))
}

fn lock() -> std::sync::MutexGuard<'static, HashMap<Key, Shared>> {
    match budgets().lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// The budget of `key`, made on first use (budgets are never removed).
fn shared<'a>(all: &'a mut HashMap<Key, Shared>, key: &Key) -> &'a mut Shared {
    all.entry(key.clone()).or_insert_with(|| Shared {
        budget: Budget::default(),
        freed: Arc::new(Notify::new()),
    })
}

/// A place in the budget, held while the request is out; given back when dropped.
pub struct Permit {
    key: Key,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut all = lock();
        let s = shared(&mut all, &self.key);
        s.budget.answered(Instant::now());
        s.freed.notify_waiters();
    }
}

impl Limiter {
    pub async fn acquire(&self, action: Action) -> Permit {
        let key = (self.key.clone(), action);
        let freed = shared(&mut lock(), &key).freed.clone();
        loop {
            // Listening before looking: a place freed in between is not missed.
            let notified = freed.notified();
            let take = shared(&mut lock(), &key)
                .budget
                .take(Instant::now(), self.rate);
            match take {
                Take::Now => return Permit { key },
                // A reply may come first and free a place sooner: wake for either.
                Take::At(t) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(t) => {}
                        () = notified => {}
                    }
                }
                Take::WhenAnswered => notified.await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_window_ever_holds_more_than_rate_and_the_ceiling_is_used() {
        let start = Instant::now();
        let mut b = Budget::default();
        for _ in 0..20 {
            assert_eq!(b.take(start, 20), Take::Now);
        }
        // All twenty out: the next waits for a reply, not for a time.
        assert_eq!(b.take(start, 20), Take::WhenAnswered);
        // Replies 30 ms later: each place frees a window after its reply.
        let replied = start + Duration::from_millis(30);
        for _ in 0..20 {
            b.answered(replied);
        }
        assert_eq!(b.take(replied, 20), Take::At(replied + WINDOW));
        assert_eq!(b.take(replied + WINDOW, 20), Take::Now);
        // A quiet while later, every place is free again.
        let later = replied + WINDOW * 10;
        for _ in 0..19 {
            assert_eq!(b.take(later, 20), Take::Now);
        }
        assert_eq!(b.take(later, 20), Take::WhenAnswered);
    }
}
