//! The interactive face. `app` holds the model and its pure update, `view` draws it,
//! `keys` is the one key table, `effects` runs commands off the render loop, `term`
//! owns the terminal's lifecycle.
//!
//! The loop waits on three things: terminal input, results of commands, and signals.
//! It draws only after something happened, so an idle TUI writes nothing.

pub mod app;
pub mod effects;
pub mod keys;
pub mod term;
pub mod view;

use std::sync::Arc;

use crossterm::event::{Event, EventStream, KeyEventKind};
use futures_util::StreamExt;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use crate::context::Context;
use crate::ops::FollowOptions;
use app::{App, Msg};

pub struct Options {
    pub readonly: bool,
    /// Another `pgssl --demo` owns the demo's state: this one browses it read-only.
    pub follower: bool,
    /// Shown in the header, e.g. "demo".
    pub label: String,
    /// Said once at start (the demo explains what it can show).
    pub note: Option<String>,
    pub follow: FollowOptions,
}

/// Run the TUI until the user quits or the terminal goes away. Returns the exit code.
pub async fn run(mut ctx: Context, options: Options) -> i32 {
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    let learned = match ctx.store.inventory.load() {
        Ok(inv) => inv.into_map(),
        Err(e) => {
            ctx.notes.push(e.to_string());
            std::collections::HashMap::new()
        }
    };
    let saved = ctx.config.instances().to_vec();
    let mut app = App::new(saved, learned, ctx.config.regions.clone(), options.readonly);
    app.no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    app.label = options.label;
    app.demo_follower = options.follower;
    // --region wins over the config's default, and shows only that region.
    if let Some(r) = ctx.globals.region.clone() {
        app.regions = vec![r.clone()];
        app.recompute();
        app.default_region = r;
    } else if let Some(r) = ctx.config.region.clone() {
        app.default_region = r;
    }
    app.region_fixed = ctx.config.region.is_some() || ctx.globals.region.is_some();
    if let Some(kept) = ctx.store.listed_regions() {
        let names: Vec<String> = kept.available().map(str::to_string).collect();
        if !names.is_empty() {
            app.region_names = names;
        }
    }
    let generation = effects::Generation::default();
    let session = match ctx.open().await {
        Ok(mut opened) => {
            app.notice = Some(
                opened
                    .warnings
                    .first()
                    .cloned()
                    .unwrap_or_else(|| opened.banner.clone()),
            );
            if let Some(r) = opened
                .credential_region
                .clone()
                .filter(|_| !app.region_fixed)
            {
                app.default_region = r;
            }
            opened.session = effects::attach(opened.session, &tx, &generation);
            let session = opened.session.clone();
            app.update(Msg::Who(effects::who_of(&opened)));
            effects::announce(opened, tx.clone(), &generation);
            Ok(session)
        }
        Err(e) => {
            // The way on first: a narrow header cuts the end (`!` shows it all).
            app.notice = Some(format!(
                "no API access, browsing what is saved; pgssl --demo needs no account: {e}"
            ));
            Err(e)
        }
    };
    if let Some(note) = options.note.or_else(|| ctx.notes.first().cloned()) {
        app.notice = Some(note);
    }
    let started = session.is_ok();
    let effects = effects::Effects {
        store: ctx.store.clone(),
        session: Arc::new(std::sync::Mutex::new(session)),
        ctx: ctx.clone(),
        tx: tx.clone(),
        follow: options.follow,
        generation,
        bulk_stop: Arc::default(),
    };

    let mut guard = match term::enter() {
        Ok(g) => g,
        Err(e) => {
            eprintln!(
                "error: cannot set up the terminal ({e}); use the CLI commands instead (pgssl --help)"
            );
            return 1;
        }
    };
    if let Ok(size) = guard.terminal.size() {
        app.size = (size.width, size.height);
    }
    effects.watch_journal();
    if started {
        for cmd in app.refresh_all() {
            effects.run(cmd);
        }
        effects.find_interrupted_run();
        effects.list_regions();
    }

    let mut events = EventStream::new();
    // Every signal that would end the process ends it through the normal quit path,
    // so the terminal is always restored (and the demo's temp files removed).
    let signals = (
        signal(SignalKind::hangup()),
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::quit()),
    );
    let (Ok(mut hup), Ok(mut term_sig), Ok(mut int_sig), Ok(mut quit_sig)) = signals else {
        drop(guard);
        eprintln!("error: cannot install signal handlers");
        return 1;
    };
    let mut code = 0;
    let mut dirty = true;
    while !app.quit {
        if dirty {
            if guard.terminal.draw(|f| view::draw(f, &app)).is_err() {
                // The terminal is gone (SSH dropped): nothing left to show.
                break;
            }
            app.drawn();
            dirty = false;
        }
        let msg = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(k))) if k.kind != KeyEventKind::Release => Some(Msg::Key(k)),
                Some(Ok(Event::Resize(w, h))) => Some(Msg::Resize(w, h)),
                Some(Ok(_)) => None,
                Some(Err(_)) | None => Some(Msg::Quit),
            },
            Some(msg) = rx.recv() => Some(msg),
            _ = hup.recv() => { code = 129; Some(Msg::Quit) },
            _ = term_sig.recv() => { code = 143; Some(Msg::Quit) },
            _ = int_sig.recv() => { code = 130; Some(Msg::Quit) },
            _ = quit_sig.recv() => { code = 131; Some(Msg::Quit) },
        };
        let Some(msg) = msg else { continue };
        for cmd in app.update(msg) {
            effects.run(cmd);
        }
        // Take whatever else is already waiting before drawing once (coalesces resize bursts).
        while let Ok(more) = rx.try_recv() {
            for cmd in app.update(more) {
                effects.run(cmd);
            }
        }
        dirty = true;
    }
    drop(guard);
    for line in app.farewell() {
        println!("{}", crate::text::clean(&line));
    }
    app.exit_code.unwrap_or(code)
}
