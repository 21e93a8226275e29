//! Carrying out the update's commands: tokio tasks that call `ops` and send the results
//! back as messages, so the render loop never waits on the network or the disk.

use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;

use super::app::{Cmd, Msg};
use crate::api::models::Filter;
use crate::ops::{self, FollowEnd, FollowOptions, Session};
use crate::store::config::ConfigFile;
use crate::store::journal::Journal;

pub struct Effects {
    pub paths: crate::store::Paths,
    pub address_map: ops::AddressMap,
    pub session: Result<Session, String>,
    pub config_file: ConfigFile,
    pub journal: Journal,
    pub tx: UnboundedSender<Msg>,
    pub follow: FollowOptions,
}

impl Effects {
    fn send(tx: &UnboundedSender<Msg>, msg: Msg) {
        // The loop is gone only when quitting; nothing to do then.
        let _ = tx.send(msg);
    }

    /// Start one command. Returns immediately.
    pub fn run(&self, cmd: Cmd) {
        let tx = self.tx.clone();
        match cmd {
            Cmd::Copy(text) => super::term::copy_osc52(&text),
            Cmd::ReloadJournal => {
                let journal = self.journal.clone();
                tokio::task::spawn_blocking(move || {
                    if let Ok((entries, _)) = journal.entries() {
                        Self::send(&tx, Msg::Journal(entries));
                    }
                });
            }
            Cmd::Remove(id) => {
                let file = self.config_file.clone();
                tokio::spawn(async move {
                    let gone = id.clone();
                    let result = update_config(file, move |c| c.remove(&gone)).await;
                    Self::send(&tx, Msg::Removed(result.map(|_| id)));
                });
            }
            Cmd::SaveRegions(regions) => {
                let file = self.config_file.clone();
                tokio::spawn(async move {
                    let result = update_config(file, move |c| {
                        c.regions = regions.clone();
                        regions
                    })
                    .await;
                    Self::send(&tx, Msg::RegionsSaved(result));
                });
            }
            api_cmd => match &self.session {
                Ok(session) => {
                    let env = ApiEnv {
                        session: session.clone(),
                        file: self.config_file.clone(),
                        follow: self.follow,
                        paths: self.paths.clone(),
                        address_map: self.address_map.clone(),
                    };
                    tokio::spawn(async move { api(env, api_cmd, tx).await });
                }
                Err(e) => Self::send(&tx, no_session(&api_cmd, e)),
            },
        }
    }

    /// Watch the journal for lines other processes (the CLI) write, and send it on change.
    pub fn watch_journal(&self) {
        let journal = self.journal.clone();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let mut last = None;
            loop {
                let stamp = std::fs::metadata(journal.path())
                    .ok()
                    .map(|m| (m.len(), m.modified().ok()));
                if stamp != last {
                    last = stamp;
                    let j = journal.clone();
                    if let Ok(Ok((entries, _))) =
                        tokio::task::spawn_blocking(move || j.entries()).await
                        && tx.send(Msg::Journal(entries)).is_err()
                    {
                        return;
                    }
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        });
    }
}

/// The CA as the details pane shows it.
fn ca_lines(bundle: &ops::CaBundle) -> Vec<String> {
    let now = crate::api::client::system_clock();
    let mut lines = vec![format!("CA kept at {}", bundle.path.display())];
    for c in &bundle.infos {
        lines.push(format!(
            "{}, valid to {} ({}), sha256 {}",
            c.subject,
            c.not_after,
            c.time_left(now),
            c.sha256
        ));
    }
    lines
}

/// The failure message for a command that needs the API when there is no session.
fn no_session(cmd: &Cmd, error: &str) -> Msg {
    let e = format!("cannot reach the API: {error}");
    match cmd {
        Cmd::Refresh(_) => Msg::RefreshDone(Some(e)),
        Cmd::Describe { .. } => Msg::Described(Err(e)),
        Cmd::Send(change) => Msg::Sent {
            id: change.instance_id.clone(),
            region: change.region.clone(),
            result: Err(e),
        },
        Cmd::Import(_) => Msg::Imported(Err(e)),
        Cmd::Add { .. } => Msg::Added(Err(e)),
        Cmd::Verify { id, .. } => Msg::Verified {
            id: id.clone(),
            result: Err(e),
        },
        Cmd::FetchCa { id, .. } => Msg::CaFetched {
            id: id.clone(),
            result: Err(e),
        },
        _ => Msg::Notice(e),
    }
}

/// What the commands that talk to the API need.
struct ApiEnv {
    session: Session,
    file: ConfigFile,
    follow: FollowOptions,
    paths: crate::store::Paths,
    address_map: ops::AddressMap,
}

/// Change the config off the async threads; the error as a line.
async fn update_config<T: Send + 'static>(
    file: ConfigFile,
    change: impl FnOnce(&mut crate::store::Config) -> T + Send + 'static,
) -> Result<T, String> {
    match tokio::task::spawn_blocking(move || file.update(change)).await {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

async fn api(env: ApiEnv, cmd: Cmd, tx: UnboundedSender<Msg>) {
    let ApiEnv {
        session,
        file,
        follow,
        paths,
        address_map,
    } = env;
    let send = |m: Msg| {
        let _ = tx.send(m);
    };
    match cmd {
        Cmd::FetchCa { region, id } => {
            let result = session
                .instance_ca(&paths, &region, &id)
                .await
                .map(|(_, bundle)| ca_lines(&bundle))
                .map_err(|e| e.to_string());
            send(Msg::CaFetched { id, result });
        }
        Cmd::Verify { region, id } => {
            let result = session
                .verify(
                    &paths,
                    &address_map,
                    &region,
                    &id,
                    &ops::VerifyRequest::default(),
                )
                .await
                .map(|v| (v.report.verdict.word().to_string(), v.lines()))
                .map_err(|e| e.to_string());
            send(Msg::Verified { id, result });
        }
        Cmd::Refresh(targets) => {
            let mut regions: Vec<&str> = targets.iter().map(|t| t.0.as_str()).collect();
            regions.sort_unstable();
            regions.dedup();
            let mut statuses = std::collections::HashMap::new();
            for region in regions {
                let ids: Vec<String> = targets
                    .iter()
                    .filter(|t| t.0 == region)
                    .map(|t| t.1.clone())
                    .collect();
                for chunk in ids.chunks(20) {
                    let filter = Filter {
                        Name: "db-instance-id".into(),
                        Values: chunk.to_vec(),
                    };
                    if let Ok(list) =
                        ops::list_instances(&session.client, region, Some(vec![filter])).await
                    {
                        for i in list {
                            statuses.insert(i.id().to_string(), i.DBInstanceStatus.clone());
                        }
                    }
                }
            }
            let mut learned = Vec::new();
            for (region, id) in targets {
                let result = ops::ssl_state(&session.client, &region, &id)
                    .await
                    .map(|s| {
                        let status = statuses
                            .get(&id)
                            .cloned()
                            .flatten()
                            .map(|s| crate::text::clean(&s));
                        learned.push((id.clone(), status.clone(), s.clone()));
                        (status, s)
                    })
                    .map_err(|e| e.to_string());
                send(Msg::Refreshed { id, result });
            }
            send(Msg::RefreshDone(None));
            let _ = update_config(file, move |c| {
                for (id, status, ssl) in learned {
                    c.remember(&id, status, ops::saved_ssl(&ssl));
                }
            })
            .await;
        }
        Cmd::Describe { region, id } => {
            let result = ops::describe_instance(&session.client, &region, &id)
                .await
                .map(|info| info.to_saved())
                .map_err(|e| e.to_string());
            if let Ok(saved) = &result {
                let saved = saved.clone();
                let _ = update_config(file, move |c| {
                    if c.instance(&saved.id).is_some() {
                        c.upsert(saved);
                    }
                })
                .await;
            }
            send(Msg::Described(result));
        }
        Cmd::Add { region, id } => {
            let result = match ops::describe_instance(&session.client, &region, &id).await {
                Ok(info) => {
                    let saved = info.to_saved();
                    let keep = saved.clone();
                    update_config(file, move |c| c.upsert(keep))
                        .await
                        .map(|()| saved)
                }
                Err(e) => Err(e.to_string()),
            };
            send(Msg::Added(result));
        }
        Cmd::Import(regions) => {
            let mut all = Vec::new();
            let mut error = None;
            for region in &regions {
                match ops::discover(&session.client, region).await {
                    Ok(list) => all.extend(list),
                    Err(e) => {
                        error = Some(e.to_string());
                        break;
                    }
                }
            }
            let result = match error {
                Some(e) => Err(e),
                None => {
                    let list = all.clone();
                    update_config(file, move |c| c.import(list, &regions))
                        .await
                        .map(|_| all)
                }
            };
            send(Msg::Imported(result));
        }
        Cmd::Send(change) => {
            let result = session.apply(&change).await.map_err(|e| e.to_string());
            send(Msg::Sent {
                id: change.instance_id.clone(),
                region: change.region.clone(),
                result,
            });
        }
        Cmd::Follow {
            region,
            instance_id,
            task_id,
            journal_id,
        } => {
            let tx2 = tx.clone();
            let (r2, i2) = (region.clone(), instance_id.clone());
            let end = session
                .follow_task(&region, task_id, Some(&journal_id), follow, move |t| {
                    let _ = tx2.send(Msg::Task {
                        instance_id: i2.clone(),
                        region: r2.clone(),
                        task_id,
                        status: t.status().to_string(),
                        progress: t.Progress,
                        done: false,
                    });
                })
                .await;
            let (status, progress) = match end {
                Ok(FollowEnd::Finished(t)) => (t.status().to_string(), t.Progress),
                Ok(FollowEnd::TimedOut(_)) => ("still running (stopped following)".into(), None),
                Err(e) => (format!("unknown ({e})"), None),
            };
            send(Msg::Task {
                instance_id,
                region,
                task_id,
                status,
                progress,
                done: true,
            });
        }
        Cmd::Copy(_) | Cmd::ReloadJournal | Cmd::Remove(_) | Cmd::SaveRegions(_) => {}
    }
}
