//! What the commands report back, taken into the model. Errors arrive typed; a person
//! reads them as one line in the header.

use super::confirm::Shown;
use super::{App, ChangeEvent, Cmd, LogItem, LogKind, Msg, log};

impl App {
    fn done(&mut self) {
        self.busy = self.busy.saturating_sub(1);
    }

    pub(super) fn on_result(&mut self, msg: Msg) -> Vec<Cmd> {
        match msg {
            Msg::Key(_) | Msg::Resize(..) | Msg::Quit => {}
            Msg::BulkPrepared(result) => self.bulk_prepared(result),
            Msg::Bulk(event) => return self.bulk_event(event),
            Msg::Resumable(found) => self.resumable(found),
            Msg::Who(who) => {
                self.readonly = self.readonly_flag || who.readonly;
                self.who = who;
            }
            Msg::Account(line) => self.who.account = Some(crate::text::clean(&line)),
            Msg::Credential(event) => self.credential_event(&event),
            Msg::Choices(items) => self.choices_listed(items),
            Msg::Switched(result) => {
                self.done();
                match result {
                    Ok(s) => {
                        self.switched(s);
                        // What is on screen is read again with the new credential.
                        return self.refresh_visible();
                    }
                    Err(e) => {
                        self.notice = Some(format!(
                            "credentials not switched (still the old ones): {e}"
                        ));
                    }
                }
            }
            Msg::RefreshDone(error) => {
                self.done();
                if let Some(e) = error {
                    self.notice = Some(e.to_string());
                }
            }
            Msg::Described { id, result } => {
                self.done();
                self.read(&id, result);
                self.refresh_group_offer();
            }
            Msg::Refreshed { id, result } => {
                if let Some((done, total)) = &mut self.folded.refresh {
                    *done = (*done + 1).min(*total);
                }
                self.read(&id, result);
                self.rebuild_log();
            }
            Msg::Prepared { intent, result } => {
                self.done();
                let shown = match result {
                    Ok(p) => {
                        self.learn(p.instance().clone());
                        Shown::from(*p)
                    }
                    Err(e) => Shown::Refused(e.to_string()),
                };
                self.prepared(&intent, shown);
            }
            Msg::Change(event) => return self.on_change(event),
            Msg::Counted { id, result, asked } => {
                if asked {
                    self.done();
                }
                match result {
                    Ok(lines) => {
                        self.notice = lines.first().map(|l| format!("{l} (V shows who)"));
                        let r = self.reports.entry(id).or_default();
                        r.clients = Some(lines.iter().map(|l| crate::text::clean(l)).collect());
                        r.clients_at = crate::store::now_rfc3339();
                    }
                    Err(e) => self.notice = Some(format!("{id}: {e}")),
                }
            }
            Msg::BulkCensus(lines) => {
                if let super::Overlay::BulkConfirm(c) = &mut self.overlay
                    && c.plan.is_some()
                {
                    c.clients = lines;
                }
            }
            Msg::PlanCensus { intent, lines } => {
                if let super::Overlay::Confirm(c) = &mut self.overlay
                    && c.intent == intent
                {
                    c.clients = lines;
                }
            }
            Msg::Executed { id, result } => {
                self.inflight.remove(&id);
                self.sent_tasks.remove(&id);
                if let Err(e) = result {
                    self.notice = Some(e.to_string());
                }
                return vec![Cmd::ReloadJournal];
            }
            Msg::Imported(result) => {
                self.done();
                match result {
                    Ok(imported) => {
                        self.notice = Some(format!(
                            "imported from {}: {} new, {} updated, {} unchanged",
                            imported.regions.join(", "),
                            imported.added,
                            imported.updated,
                            imported.unchanged
                        ));
                        for i in imported.instances {
                            self.upsert(i);
                        }
                        self.recompute();
                    }
                    Err(e) => self.notice = Some(e.to_string()),
                }
            }
            Msg::Added(result) => {
                self.done();
                match result {
                    Ok(instance) => {
                        self.last_add = None;
                        let shown =
                            self.regions.is_empty() || self.regions.contains(&instance.region);
                        self.notice = Some(if shown {
                            format!("saved {}", instance.id)
                        } else {
                            format!(
                                "saved {} in {}, a region not shown: R and Space on {} show it",
                                instance.id, instance.region, instance.region
                            )
                        });
                        let id = instance.id.clone();
                        self.upsert(instance);
                        self.recompute();
                        if let Some(pos) =
                            self.visible.iter().position(|&i| self.rows[i].id() == id)
                        {
                            self.move_selection(pos);
                        }
                    }
                    Err(e) => {
                        // What was typed comes back, with why it failed.
                        if let Some(mut form) = self.last_add.take() {
                            form.error = Some(crate::text::clean(&e.to_string()));
                            form.on_region = false;
                            self.overlay = super::Overlay::Add(form);
                        }
                        self.notice = Some(e.to_string());
                    }
                }
            }
            Msg::Removed(result) => match result {
                Ok(id) => {
                    self.rows.retain(|r| r.id() != id);
                    self.notice = Some(format!("removed {id} from the saved list"));
                    self.recompute();
                }
                Err(e) => self.notice = Some(e.to_string()),
            },
            Msg::RegionsListed(names) => {
                if !names.is_empty() {
                    self.region_names = names;
                }
            }
            Msg::RegionsSaved(result) => match result {
                Ok(regions) => {
                    self.notice = Some(if regions.is_empty() {
                        "regions saved: every region is shown".to_string()
                    } else {
                        format!("regions saved: showing {}", regions.join(", "))
                    });
                    self.regions = regions;
                    self.recompute();
                }
                Err(e) => self.notice = Some(e.to_string()),
            },
            Msg::Journal(entries) => {
                self.journal = entries.iter().map(log::from_entry).collect();
                self.rebuild_log();
                return self.pick_up(&entries);
            }
            Msg::Resumed { unfinished, result } => return self.resumed(&unfinished, result),
            Msg::Audited(result) => self.audited(result),
            Msg::Call(record) => {
                // Task polls show up as the task's progress, not as lines of their own.
                let quiet = record.error.is_none()
                    && matches!(record.action, crate::api::Action::DescribeTasks);
                // An instance that is isolated or being created refuses to show its SSL
                // state: expected, and the details say why; not a failure to show.
                let not_now = record
                    .error
                    .as_ref()
                    .is_some_and(crate::api::ApiError::is_status_refusal)
                    && !self.show_reads;
                if not_now {
                    self.folded.reads += 1;
                    self.rebuild_log();
                } else if !quiet && record.action.is_read() {
                    if record.error.is_none() {
                        self.folded.reads += 1;
                    }
                    self.calls.push_back(log::from_call(&record));
                    while self.calls.len() > super::CALLS_KEPT {
                        self.calls.pop_front();
                    }
                    self.rebuild_log();
                }
            }
            Msg::Notice(text) => self.notice = Some(crate::text::clean(&text)),
            Msg::CaFetched { id, result } => {
                self.done();
                match result {
                    Ok(lines) => {
                        self.notice = lines.first().map(|l| format!("{id}: {l} (V shows it all)"));
                        let lines = lines.iter().map(|l| crate::text::clean(l)).collect();
                        let r = self.reports.entry(id).or_default();
                        r.ca = Some(lines);
                        r.ca_at = crate::store::now_rfc3339();
                    }
                    Err(e) => self.notice = Some(format!("{id}: CA not fetched: {e}")),
                }
            }
            Msg::Verified { id, result } => {
                self.done();
                return self.checked(id, result);
            }
        }
        vec![]
    }

    /// A TLS check finished (asked for with `v`, or after a change).
    fn checked(
        &mut self,
        id: String,
        result: Result<super::CheckShown, crate::ops::OpsError>,
    ) -> Vec<Cmd> {
        let (status, error, detail) = match result {
            Ok(check) => {
                self.notice = check
                    .lines
                    .first()
                    .map(|l| format!("{id}: {l} (V shows the report)"));
                let lines = check.lines.iter().map(|l| crate::text::clean(l)).collect();
                let r = self.reports.entry(id.clone()).or_default();
                r.tls = Some(lines);
                r.tls_at = crate::store::now_rfc3339();
                (format!("tls {}", check.result), None, check.lines)
            }
            Err(e) => {
                self.notice = Some(format!("{id}: TLS check not run: {e}"));
                let why = e.to_string();
                (
                    "tls not run".to_string(),
                    Some(why.clone()),
                    vec![format!("TLS check of {id} not run: {why}")],
                )
            }
        };
        self.calls.push_back(LogItem {
            time: crate::store::now_rfc3339(),
            kind: LogKind::Verify,
            instance: id,
            action: "verify".into(),
            task_id: None,
            request_id: None,
            status,
            error,
            detail: detail.iter().map(|l| crate::text::clean(l)).collect(),
            change: None,
        });
        self.rebuild_log();
        vec![Cmd::ReloadJournal]
    }

    /// A fresh read of one instance: keep it, and let the form and the confirm see it.
    fn read(&mut self, id: &str, result: Result<crate::domain::Instance, crate::ops::OpsError>) {
        match result {
            Ok(instance) => {
                self.replan(&instance);
                if let super::Overlay::Form(form) = &mut self.overlay
                    && form.instance_id == instance.id
                {
                    form.update_choices(instance.addresses.clone(), instance.protected_host());
                    form.choice_settled |= instance.ssl.is_some();
                }
                self.learn(instance);
                self.recompute();
            }
            Err(e) => self.notice = Some(format!("{id}: {e}")),
        }
    }

    fn on_change(&mut self, event: ChangeEvent) -> Vec<Cmd> {
        match event {
            ChangeEvent::Sent(sent) => {
                self.following.insert(sent.journal_id.clone());
                if let Some(t) = sent.task_id {
                    self.sent_tasks.insert(sent.instance_id.clone(), t);
                }
                self.notice = Some(format!(
                    "{}: change sent, TaskId {}, RequestId {}; following the task",
                    sent.instance_id,
                    sent.task_id.map_or_else(|| "-".into(), |t| t.to_string()),
                    sent.request_id
                ));
                vec![Cmd::ReloadJournal]
            }
            ChangeEvent::Task { task, .. } => {
                self.progress.insert(task.task_id, task);
                self.rebuild_log();
                vec![]
            }
            ChangeEvent::Settled { instance_id, end } => {
                let task_id = end
                    .last()
                    .map(|t| t.task_id)
                    .or_else(|| self.sent_tasks.get(&instance_id).copied())
                    .unwrap_or_default();
                let region = self
                    .row(&instance_id)
                    .map(|r| r.region().to_string())
                    .unwrap_or_default();
                let mut said = end.describe(task_id, Some(&instance_id), &region);
                // Only a change that turned SSL on has something to check over TLS.
                if end.succeeded()
                    && self
                        .journal
                        .iter()
                        .find(|i| i.task_id == Some(task_id))
                        .is_some_and(|i| i.action.starts_with("enable"))
                {
                    said.push_str("; v checks it over TLS");
                }
                self.notice = Some(said);
                if let Some(t) = end.last() {
                    self.progress.insert(t.task_id, t.clone());
                }
                self.rebuild_log();
                vec![Cmd::ReloadJournal]
            }
            ChangeEvent::Refreshed(instance) => {
                self.learn(*instance);
                self.recompute();
                vec![]
            }
            ChangeEvent::Verified {
                instance_id,
                result,
            } => self.checked(instance_id, result),
        }
    }
}
