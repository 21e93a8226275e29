//! The SSL form: on/off, and the address to protect, chosen among the instance's real
//! addresses or typed. Pure: it validates itself and says what the person wants; the
//! plan is made by `ops` from a fresh read.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::{App, Cmd, Overlay, Row};
use crate::addresses::{Address, AddressSpec, Host};
use crate::ops::Intent;
use crate::ops::{Prepared, Want};
use crate::tui::keys::Action;

/// Starts the form's remark when what is chosen is the instance's current state: a hint,
/// not an error (the form opens that way for an instance whose SSL is on).
pub const UNCHANGED_PREFIX: &str = "as it is: ";

/// Longest text the "other address" field keeps (a DNS name is at most 253).
const OTHER_IP_MAX: usize = 253;

/// A typed address (an IP or the instance's DNS name), or what is wrong with it in words
/// a person can act on: the same rules as `--address`.
fn parse_typed(typed: &str) -> Result<Host, String> {
    match AddressSpec::parse(typed)? {
        AddressSpec::Host(h) => Ok(h),
        AddressSpec::Kind(k) => Err(format!(
            "'{k}' is a kind: choose the {k} address above, or type an IP or DNS name"
        )),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Ssl,
    Address,
    OtherIp,
    /// With a read-only group's address: the rest of the group too.
    Group,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SslForm {
    pub instance_id: String,
    pub enable: bool,
    /// The instance's addresses, as last described.
    pub choices: Vec<Address>,
    /// Index into `choices`; `choices.len()` means the typed IP.
    pub choice: usize,
    pub other_ip: String,
    pub field: Field,
    /// With a group's address that other members do not protect: change them too (one
    /// plan of many, as the bulk form's whole group).
    pub whole_group: bool,
    /// Those members, as judged when the form last changed (`App::refresh_group_offer`).
    pub left_out: Vec<String>,
    /// The choice stands: made knowing the instance's SSL state, or by the person (moved,
    /// typed). Until then a fresh read moves it to the address SSL protects.
    pub choice_settled: bool,
}

impl SslForm {
    /// Start from the instance's current state: SSL as it is, the protected address chosen.
    /// `group`: a read-only group's address that another member already protects (the
    /// form then starts from it: the group stays as it is unless the person chooses).
    pub fn new(row: &Row, group: Option<Host>) -> SslForm {
        // Only addresses whose network is opened can be protected (`ssl show` says why not).
        let choices: Vec<Address> = row
            .addresses()
            .iter()
            .filter(|a| a.is_open())
            .cloned()
            .collect();
        let protected = row
            .ssl()
            .filter(|s| s.enabled)
            .and_then(|s| s.protected.clone());
        let choice = group
            .or(protected)
            .and_then(|p| choices.iter().position(|a| a.is(&p)))
            .unwrap_or(0);
        SslForm {
            instance_id: row.id().to_string(),
            // Opening the form on an instance with SSL off proposes turning it on.
            enable: true,
            choices,
            choice,
            other_ip: String::new(),
            field: Field::Ssl,
            whole_group: true,
            left_out: Vec::new(),
            choice_settled: row.ssl().is_some(),
        }
    }

    /// Take fresh addresses (from a describe), keeping the chosen one if it still exists;
    /// until the person chooses, the address SSL protects now (`protected`, just read) is
    /// the one chosen, as when the form opens on an instance already read.
    pub fn update_choices(&mut self, addresses: Vec<Address>, protected: Option<&Host>) {
        let chosen = match protected {
            Some(p) if !self.choice_settled => Some(p.clone()),
            _ => self.choices.get(self.choice).map(|a| a.host.clone()),
        };
        self.choices = addresses.into_iter().filter(Address::is_open).collect();
        self.choice = chosen
            .and_then(|h| self.choices.iter().position(|a| a.is(&h)))
            .unwrap_or(self.choice.min(self.choices.len()));
    }

    pub fn typing_ip(&self) -> bool {
        self.enable && self.field == Field::OtherIp
    }

    fn fields(&self) -> Vec<Field> {
        if self.enable && !self.left_out.is_empty() {
            vec![Field::Ssl, Field::Address, Field::OtherIp, Field::Group]
        } else if self.enable {
            vec![Field::Ssl, Field::Address, Field::OtherIp]
        } else {
            // Disabling ignores the address: those fields are greyed out and skipped.
            vec![Field::Ssl]
        }
    }

    pub fn next_field(&mut self, forward: bool) {
        let mut fields = self.fields();
        // The typed IP is reached from the addresses (Down); Tab passes it by unless it
        // is what is chosen.
        if self.choice < self.choices.len() && self.field != Field::OtherIp {
            fields.retain(|f| *f != Field::OtherIp);
        }
        let i = fields.iter().position(|f| *f == self.field).unwrap_or(0);
        let n = fields.len();
        self.field = fields[if forward {
            (i + 1) % n
        } else {
            (i + n - 1) % n
        }];
    }

    pub fn toggle(&mut self) {
        match self.field {
            Field::Ssl => {
                self.enable = !self.enable;
                if !self.enable {
                    self.field = Field::Ssl;
                }
            }
            Field::Group => self.whole_group = !self.whole_group,
            Field::Address | Field::OtherIp => {}
        }
    }

    pub fn move_choice(&mut self, down: bool) {
        if !self.enable {
            return;
        }
        let max = self.choices.len(); // the last slot is the typed IP
        self.choice_settled = true;
        self.choice = if down {
            (self.choice + 1).min(max)
        } else {
            self.choice.saturating_sub(1)
        };
        self.field = if self.choice == max {
            Field::OtherIp
        } else {
            Field::Address
        };
    }

    /// Every printable character is text here (a name, a port, a space: what is wrong
    /// with it is said, not swallowed).
    pub fn type_char(&mut self, c: char) {
        if self.typing_ip() && self.other_ip.chars().count() < OTHER_IP_MAX && !c.is_control() {
            self.other_ip.push(c);
            self.choice = self.choices.len();
            self.choice_settled = true;
        }
    }

    pub fn backspace(&mut self) {
        if self.typing_ip() {
            self.other_ip.pop();
        }
    }

    /// The address the form points at, or why there is none.
    pub fn address(&self) -> Result<Host, String> {
        if let Some(a) = self.choices.get(self.choice) {
            return Ok(a.host.clone());
        }
        let typed = self.other_ip.trim();
        if typed.is_empty() {
            return Err(if self.choices.is_empty() {
                "no known addresses: type the IP or DNS name to protect (press r to refresh)".into()
            } else {
                "type an IP or DNS name, or choose one of the addresses above".into()
            });
        }
        let ip = parse_typed(typed)?;
        if self.choices.is_empty() || self.choices.iter().any(|a: &Address| a.is(&ip)) {
            Ok(ip)
        } else {
            Err(format!(
                "{ip} is not one of {}'s addresses; the API only accepts its own",
                self.instance_id
            ))
        }
    }

    /// What the person asks for, or what stops the form from being submitted.
    pub fn want(&self) -> Result<Want, String> {
        if self.enable {
            Ok(Want::Enable(AddressSpec::Host(self.address()?)))
        } else {
            Ok(Want::Disable)
        }
    }

    /// Everything that stops the form, judged on what pgssl last saw of the instance (the
    /// plan itself is made again from a fresh read when the form is submitted).
    pub fn problem(&self, row: &Row) -> Option<String> {
        let want = match self.want() {
            Ok(w) => w,
            Err(e) => return Some(e),
        };
        let instance = row.learned.as_ref()?;
        match crate::ops::plan::plan(instance, &want) {
            Err(e) => Some(e.to_string()),
            Ok(Prepared::Unchanged(i)) => Some(format!(
                "{UNCHANGED_PREFIX}{} has SSL {} now: switch SSL off or choose another address",
                i.id,
                i.ssl_state()
                    .map(crate::domain::SslState::describe)
                    .unwrap_or_default()
            )),
            Ok(Prepared::Change(_)) => None,
        }
    }
}

impl App {
    pub(super) fn form_key(&mut self, action: Option<Action>, key: KeyEvent) -> Vec<Cmd> {
        let Overlay::Form(form) = &mut self.overlay else {
            return vec![];
        };
        // While typing an IP, printable keys are text, not commands.
        if form.typing_ip()
            && let KeyCode::Char(c) = key.code
            && !key.modifiers.contains(KeyModifiers::CONTROL)
        {
            form.type_char(c);
            self.refresh_group_offer();
            return vec![];
        }
        let cmds = self.form_action(action, key);
        self.refresh_group_offer();
        cmds
    }

    fn form_action(&mut self, action: Option<Action>, key: KeyEvent) -> Vec<Cmd> {
        let Overlay::Form(form) = &mut self.overlay else {
            return vec![];
        };
        match action {
            Some(Action::Back) => self.overlay = Overlay::None,
            // Space on an address keeps it chosen: only the SSL switch toggles.
            Some(Action::Toggle) => form.toggle(),
            Some(Action::NextField) => form.next_field(true),
            Some(Action::PrevField) => form.next_field(false),
            Some(Action::Up) if form.field == Field::Group => form.next_field(false),
            Some(Action::Down) if form.field == Field::Group => {}
            Some(Action::Up) if form.field != Field::Ssl => form.move_choice(false),
            Some(Action::Down) if form.field == Field::Ssl => form.next_field(true),
            Some(Action::Down) => form.move_choice(true),
            Some(Action::Submit) => {
                let form = form.clone();
                let Some(row) = self.row(&form.instance_id) else {
                    self.overlay = Overlay::None;
                    return vec![];
                };
                // An invalid form cannot be submitted: the problem is shown inline.
                if form.problem(row).is_some() {
                    return vec![];
                }
                // The group's address with the rest of the group: one plan of many.
                if form.enable && form.whole_group && !form.left_out.is_empty() {
                    let ids = vec![(row.region().to_string(), row.id().to_string())];
                    return self.open_group_plan(ids);
                }
                let Ok(want) = form.want() else { return vec![] };
                let intent = Intent {
                    region: row.region().to_string(),
                    instance_id: row.id().to_string(),
                    want,
                };
                return self.open_confirm(form, intent);
            }
            _ => {
                if key.code == KeyCode::Backspace {
                    form.backspace();
                }
            }
        }
        vec![]
    }
}

impl App {
    /// The read-only groups an instance belongs to, with their other members as pgssl
    /// last read them (`ops::group`).
    pub fn groups_of(&self, instance_id: &str) -> Vec<crate::ops::group::Group> {
        let Some(instance) = self.row(instance_id).and_then(|r| r.learned.as_deref()) else {
            return vec![];
        };
        let known = self.rows.iter().filter_map(|r| r.learned.as_deref());
        crate::ops::group::groups_of(instance, known)
    }

    /// What the form's choice would do to the instance's read-only groups (`ops::group`).
    pub fn group_notes(&self, form: &SslForm) -> Vec<String> {
        self.form_plan(form)
            .map(|p| crate::ops::group::notes(&p, &self.groups_of(&form.instance_id)))
            .unwrap_or_default()
    }

    fn form_plan(&self, form: &SslForm) -> Option<crate::ops::Plan> {
        let instance = self.row(&form.instance_id)?.learned.as_deref()?;
        match crate::ops::plan::plan(instance, &form.want().ok()?) {
            Ok(Prepared::Change(p)) => Some(p),
            _ => None,
        }
    }

    /// Judge again which members the form's choice leaves out of its group.
    pub(super) fn refresh_group_offer(&mut self) {
        let Overlay::Form(form) = &self.overlay else {
            return;
        };
        let left_out = self
            .form_plan(form)
            .map(|p| crate::ops::group::left_out(&p, &self.groups_of(&form.instance_id)))
            .unwrap_or_default();
        if let Overlay::Form(form) = &mut self.overlay {
            if form.field == Field::Group && left_out.is_empty() {
                form.field = Field::Address;
            }
            form.left_out = left_out;
        }
    }
}
