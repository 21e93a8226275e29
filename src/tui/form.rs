//! The SSL form: on/off, and the address to protect, chosen among the instance's real
//! addresses or typed. Pure: it validates and turns itself into an `SslChange`.

use std::net::IpAddr;

use crate::addresses::Address;
use crate::ops::SslChange;
use crate::store::config::SavedInstance;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Ssl,
    Address,
    OtherIp,
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
}

impl SslForm {
    /// Start from the instance's current state: SSL as it is, the protected address chosen.
    pub fn new(instance: &SavedInstance) -> SslForm {
        let current = instance.ssl.as_ref();
        let choices = instance.addresses.clone();
        let protected = current.and_then(|s| s.connect_address.as_deref());
        let choice = protected
            .and_then(|p| choices.iter().position(|a| a.ip == p))
            .unwrap_or(0);
        SslForm {
            instance_id: instance.id.clone(),
            // Opening the form on an instance with SSL off proposes turning it on.
            enable: true,
            choices,
            choice,
            other_ip: String::new(),
            field: Field::Ssl,
        }
    }

    /// Take fresh addresses (from a describe), keeping the chosen IP if it still exists.
    pub fn update_choices(&mut self, addresses: Vec<Address>) {
        let chosen = self.choices.get(self.choice).map(|a| a.ip.clone());
        self.choices = addresses;
        self.choice = chosen
            .and_then(|ip| self.choices.iter().position(|a| a.ip == ip))
            .unwrap_or(self.choice.min(self.choices.len()));
    }

    pub fn typing_ip(&self) -> bool {
        self.enable && self.field == Field::OtherIp
    }

    fn fields(&self) -> Vec<Field> {
        if self.enable {
            vec![Field::Ssl, Field::Address, Field::OtherIp]
        } else {
            // Disabling ignores the address: those fields are greyed out and skipped.
            vec![Field::Ssl]
        }
    }

    pub fn next_field(&mut self, forward: bool) {
        let fields = self.fields();
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
            Field::Address | Field::OtherIp => {}
        }
    }

    pub fn move_choice(&mut self, down: bool) {
        if !self.enable {
            return;
        }
        let max = self.choices.len(); // the last slot is the typed IP
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

    pub fn type_char(&mut self, c: char) {
        if self.typing_ip()
            && self.other_ip.len() < 45
            && (c.is_ascii_hexdigit() || c == '.' || c == ':')
        {
            self.other_ip.push(c);
            self.choice = self.choices.len();
        }
    }

    pub fn backspace(&mut self) {
        if self.typing_ip() {
            self.other_ip.pop();
        }
    }

    /// The address the form points at, or why there is none.
    pub fn address(&self) -> Result<Address, String> {
        if let Some(a) = self.choices.get(self.choice) {
            return Ok(a.clone());
        }
        let typed = self.other_ip.trim();
        if typed.is_empty() {
            return Err(if self.choices.is_empty() {
                "no known addresses: type the IP to protect (press r to refresh)".into()
            } else {
                "type an IP, or choose one of the addresses above".into()
            });
        }
        let ip: IpAddr = typed
            .parse()
            .map_err(|_| format!("'{typed}' is not an IPv4 or IPv6 address"))?;
        self.choices
            .iter()
            .find(|a| a.ip.parse::<IpAddr>().ok() == Some(ip))
            .cloned()
            .ok_or_else(|| {
                format!(
                    "{ip} is not one of {}'s addresses; the API only accepts its own",
                    self.instance_id
                )
            })
            .or_else(|e| {
                // With no known addresses we cannot check; let the API decide.
                if self.choices.is_empty() {
                    Ok(Address::unverified(ip))
                } else {
                    Err(e)
                }
            })
    }

    /// Everything that stops the form from being sent, or the change it describes.
    pub fn change(&self, instance: &SavedInstance) -> Result<SslChange, String> {
        let address = if self.enable {
            Some(self.address()?)
        } else {
            None
        };
        let change = crate::ops::plan_saved(instance, self.enable, address)?;
        if change.is_noop() {
            return Err(format!(
                "{} already has SSL {}: nothing to change",
                instance.id,
                change.new_state()
            ));
        }
        Ok(change)
    }
}
