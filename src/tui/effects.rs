//! Carrying out the update's commands: tokio tasks that call `ops` and send the results
//! back as messages, so the render loop never waits on the network or the disk.

use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;

use super::app::{Cmd, Msg, SendFailure};
use crate::api::models::Filter;
use crate::ops::{self, FollowEnd, FollowOptions, OpsError, Session};
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
                tokio::task::spawn_blocking(move || {
                    let result = file
                        .update(|c| c.remove(&id))
                        .map_err(|e| e.to_string())
                        .map(|_| id);
                    Self::send(&tx, Msg::Removed(result));
                });
            }
            Cmd::SaveRegions(regions) => {
                let file = self.config_file.clone();
                tokio::task::spawn_blocking(move || {
                    let result = file
                        .update(|c| {
                            c.regions = regions.clone();
                            regions
                        })
                        .map_err(|e| e.to_string());
                    Self::send(&tx, Msg::RegionsSaved(result));
                });
            }
            api_cmd => {
                let session = match &self.session {
                    Ok(s) => s.clone(),
                    Err(e) => {
                        Self::send(&tx, no_session(&api_cmd, e));
                        return;
                    }
                };
                if let Cmd::FetchCa { region, id } = api_cmd {
                    let paths = self.paths.clone();
                    tokio::spawn(async move {
                        let result = async {
                            let state = ops::ssl_state(&session.client, &region, &id).await?;
                            let url = state.CAUrl.ok_or_else(|| {
                                OpsError::Failed(format!("{id} reports no CAUrl"))
                            })?;
                            ops::fetch_ca(&paths, &id, &url).await
                        }
                        .await
                        .map(|bundle| ca_lines(&bundle))
                        .map_err(|e| e.to_string());
                        let _ = tx.send(Msg::CaFetched { id, result });
                    });
                    return;
                }
                if let Cmd::Verify { region, id } = api_cmd {
                    let (paths, map) = (self.paths.clone(), self.address_map.clone());
                    tokio::spawn(async move {
                        let result = session
                            .verify(&paths, &map, &region, &id, &ops::VerifyRequest::default())
                            .await
                            .map(|v| {
                                let now = crate::api::client::system_clock();
                                let ca = v.ca.path.display().to_string();
                                (
                                    v.report.verdict.word().to_string(),
                                    crate::probe::render(&v.report, Some(&ca), now),
                                )
                            })
                            .map_err(|e| e.to_string());
                        let _ = tx.send(Msg::Verified { id, result });
                    });
                    return;
                }
                let file = self.config_file.clone();
                let follow = self.follow;
                tokio::spawn(async move { api(session, file, follow, api_cmd, tx).await });
            }
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
            result: Err(SendFailure {
                line: e,
                unknown: false,
            }),
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

async fn api(
    session: Session,
    file: ConfigFile,
    follow: FollowOptions,
    cmd: Cmd,
    tx: UnboundedSender<Msg>,
) {
    let send = |m: Msg| {
        let _ = tx.send(m);
    };
    match cmd {
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
            let _ = tokio::task::spawn_blocking(move || {
                file.update(|c| {
                    for (id, status, ssl) in learned {
                        if let Some(i) = c.instances.iter_mut().find(|i| i.id == id) {
                            if status.is_some() {
                                i.status = status;
                            }
                            i.ssl = Some(ops::saved_ssl(&ssl));
                        }
                    }
                })
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
                let _ = tokio::task::spawn_blocking(move || {
                    file.update(|c| {
                        if c.instance(&saved.id).is_some() {
                            c.upsert(saved);
                        }
                    })
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
                    match tokio::task::spawn_blocking(move || file.update(|c| c.upsert(keep))).await
                    {
                        Ok(Ok(())) => Ok(saved),
                        Ok(Err(e)) => Err(e.to_string()),
                        Err(e) => Err(e.to_string()),
                    }
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
                    let saved = tokio::task::spawn_blocking(move || {
                        file.update(|c| {
                            for mut i in list {
                                if let Some(old) = c.instance(&i.id) {
                                    i.ssl = i.ssl.or_else(|| old.ssl.clone());
                                }
                                c.upsert(i);
                            }
                            for r in regions {
                                if !c.regions.contains(&r) {
                                    c.regions.push(r);
                                }
                            }
                        })
                    })
                    .await;
                    match saved {
                        Ok(Ok(())) => Ok(all),
                        Ok(Err(e)) => Err(e.to_string()),
                        Err(e) => Err(e.to_string()),
                    }
                }
            };
            send(Msg::Imported(result));
        }
        Cmd::Send(change) => {
            let result = session.apply(&change).await.map_err(|e| SendFailure {
                unknown: matches!(e, OpsError::Unknown { .. }),
                line: e.to_string(),
            });
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
        Cmd::Copy(_)
        | Cmd::ReloadJournal
        | Cmd::Remove(_)
        | Cmd::SaveRegions(_)
        | Cmd::Verify { .. }
        | Cmd::FetchCa { .. } => {}
    }
}
