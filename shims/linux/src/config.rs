//! The phone's settings on Linux: read from a configuration file of
//! `key = value` lines (a flat TOML table reads the same), overridden by
//! command-line flags, checked, and turned into the core's [`Config`].

use std::fmt;
use std::fs;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::path::Path;

use handset_core::phone::{Config, TransferConfig, TransferPolicy};
use handset_core::register::MAX_BACKUP_REGISTRARS;
use handset_core::sdp::{Codec, CodecList};
use handset_core::transaction::Reliability;
use handset_core::ua::text;

use crate::transport::Transport;

/// Why the settings cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError(pub String);

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SettingsError {}

fn err<T>(msg: impl Into<String>) -> Result<T, SettingsError> {
    Err(SettingsError(msg.into()))
}

/// Everything a phone on Linux is configured with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The user part of the address of record.
    pub user: String,
    /// The domain of the address of record; defaults to the registrar's or
    /// proxy's host, else the bound IP.
    pub domain: Option<String>,
    /// The display name, empty for none.
    pub display_name: String,
    /// The digest user name; defaults to `user`.
    pub auth_user: Option<String>,
    /// The digest password; empty when none is needed.
    pub password: String,
    /// The SIP socket's address; an unspecified IP (`0.0.0.0`) is replaced
    /// by the address the system routes towards the first peer.
    pub bind: SocketAddr,
    /// The outbound proxy.
    pub proxy: Option<SocketAddr>,
    /// The registrar; `None` disables registration.
    pub registrar: Option<SocketAddr>,
    /// Registrars tried in order when the registrar does not answer or
    /// is unavailable (at most two).
    pub backup_registrars: Vec<SocketAddr>,
    /// While registered at a backup, try the registrar again after this
    /// many seconds; `None` stays at the backup.
    pub failback: Option<u32>,
    /// UDP or TCP.
    pub transport: Transport,
    /// The first RTP port (call slot `n` uses `rtp_port + 2n`).
    pub rtp_port: u16,
    /// Requested registration expiry in seconds.
    pub expires: u32,
    /// Codecs, preferred first (PCMU, PCMA: the ones this shim can code).
    pub codecs: Vec<Codec>,
    /// Call transfer: who decides on incoming REFERs, when a blind
    /// transfer releases the call.
    pub transfer: TransferConfig,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            user: "handset".into(),
            domain: None,
            display_name: String::new(),
            auth_user: None,
            password: String::new(),
            bind: SocketAddr::from((Ipv4Addr::UNSPECIFIED, 5060)),
            proxy: None,
            registrar: None,
            backup_registrars: Vec::new(),
            failback: None,
            transport: Transport::Udp,
            rtp_port: 16384,
            expires: 3600,
            codecs: vec![Codec::Pcmu, Codec::Pcma],
            transfer: TransferConfig::default(),
        }
    }
}

/// Parses `host:port` (or a bare host, port 5060); names are resolved.
pub fn parse_addr(s: &str) -> Result<SocketAddr, SettingsError> {
    let s = s.trim();
    let s = s.strip_prefix("sip:").unwrap_or(s);
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Ok(a);
    }
    if let Ok(ip) = s
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        return Ok(SocketAddr::new(ip, 5060));
    }
    let with_port = if s.contains(':') {
        s.to_string()
    } else {
        format!("{s}:5060")
    };
    match with_port.to_socket_addrs() {
        Ok(mut it) => match it.next() {
            Some(a) => Ok(a),
            None => err(format!("address {s:?} resolves to nothing")),
        },
        Err(e) => err(format!("bad address {s:?}: {e}")),
    }
}

/// Parses `udp` or `tcp`.
pub fn parse_transport(s: &str) -> Result<Transport, SettingsError> {
    match s.trim().to_ascii_lowercase().as_str() {
        "udp" => Ok(Transport::Udp),
        "tcp" => Ok(Transport::Tcp),
        other => err(format!("unknown transport {other:?} (udp or tcp)")),
    }
}

/// Parses a comma-separated codec list (`pcmu,pcma`).
pub fn parse_codecs(s: &str) -> Result<Vec<Codec>, SettingsError> {
    let mut out = Vec::new();
    for name in s.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let c = match name.to_ascii_lowercase().as_str() {
            "pcmu" | "ulaw" => Codec::Pcmu,
            "pcma" | "alaw" => Codec::Pcma,
            other => return err(format!("unsupported codec {other:?} (pcmu, pcma)")),
        };
        if !out.contains(&c) {
            out.push(c);
        }
    }
    if out.is_empty() {
        return err("no codec enabled");
    }
    Ok(out)
}

fn unquote(v: &str) -> &str {
    let v = v.trim();
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner;
        }
    }
    v
}

fn number<T: std::str::FromStr>(key: &str, v: &str) -> Result<T, SettingsError> {
    v.parse()
        .map_err(|_| SettingsError(format!("{key}: {v:?} is not a valid number")))
}

impl Settings {
    /// Applies one `key`/`value` pair (the names of the command-line flags,
    /// with `_` or `-`).
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), SettingsError> {
        let key = key.trim().replace('-', "_");
        let v = unquote(value);
        match key.as_str() {
            "user" => self.user = v.to_string(),
            "domain" => self.domain = Some(v.to_string()),
            "display_name" => self.display_name = v.to_string(),
            "auth_user" => self.auth_user = Some(v.to_string()),
            "password" => self.password = v.to_string(),
            "bind" => self.bind = parse_addr(v)?,
            "proxy" | "outbound_proxy" => self.proxy = Some(parse_addr(v)?),
            "registrar" => self.registrar = Some(parse_addr(v)?),
            "backup_registrar" | "backup_registrars" => {
                for a in v.split(',').map(str::trim).filter(|a| !a.is_empty()) {
                    self.backup_registrars.push(parse_addr(a)?);
                }
                if self.backup_registrars.len() > MAX_BACKUP_REGISTRARS {
                    return err(format!("at most {MAX_BACKUP_REGISTRARS} backup registrars"));
                }
            }
            "failback" => {
                let secs: u32 = number(&key, v)?;
                self.failback = (secs > 0).then_some(secs);
            }
            "transport" => self.transport = parse_transport(v)?,
            "rtp_port" => self.rtp_port = number(&key, v)?,
            "expires" => self.expires = number(&key, v)?,
            "codecs" => self.codecs = parse_codecs(v)?,
            "accept_refer" => {
                self.transfer.policy = match v.to_ascii_lowercase().as_str() {
                    "yes" | "true" | "accept" => TransferPolicy::AcceptAll,
                    "no" | "false" | "refuse" => TransferPolicy::RefuseAll,
                    "ask" => TransferPolicy::Ask,
                    other => return err(format!("accept_refer: {other:?} (yes, no or ask)")),
                }
            }
            other => return err(format!("unknown setting {other:?}")),
        }
        Ok(())
    }

    /// Reads `key = value` lines; `#` starts a comment, `[section]` lines
    /// and blank lines are ignored.
    pub fn load_str(&mut self, text: &str, origin: &str) -> Result<(), SettingsError> {
        for (i, line) in text.lines().enumerate() {
            let line = strip_comment(line).trim();
            if line.is_empty() || line.starts_with('[') {
                continue;
            }
            let Some((k, v)) = line.split_once('=') else {
                return err(format!("{origin}:{}: expected key = value", i + 1));
            };
            self.set(k, v)
                .map_err(|e| SettingsError(format!("{origin}:{}: {e}", i + 1)))?;
        }
        Ok(())
    }

    /// Reads a configuration file.
    pub fn load_file(&mut self, path: &Path) -> Result<(), SettingsError> {
        let text = fs::read_to_string(path)
            .map_err(|e| SettingsError(format!("cannot read {}: {e}", path.display())))?;
        self.load_str(&text, &path.display().to_string())
    }

    /// The peer the phone talks to first (for picking a local IP).
    pub fn first_peer(&self) -> Option<SocketAddr> {
        self.proxy.or(self.registrar)
    }

    /// The bind address with an unspecified IP replaced by the local IP
    /// that routes towards `towards` (or loopback).
    pub fn local_ip_towards(&self, towards: Option<SocketAddr>) -> IpAddr {
        if !self.bind.ip().is_unspecified() {
            return self.bind.ip();
        }
        let probe = towards.and_then(|peer| {
            let any: SocketAddr = if peer.is_ipv4() {
                (Ipv4Addr::UNSPECIFIED, 0).into()
            } else {
                "[::]:0".parse().ok()?
            };
            let s = UdpSocket::bind(any).ok()?;
            s.connect(peer).ok()?;
            s.local_addr().ok().map(|a| a.ip())
        });
        probe.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
    }

    /// The core's configuration for a phone whose SIP socket is bound at
    /// `local` (a concrete address).
    pub fn core_config(&self, local: SocketAddr) -> Result<Config, SettingsError> {
        let domain = match &self.domain {
            Some(d) => d.clone(),
            // RFC 3261 §10.2: the REGISTER goes to the registrar's domain;
            // a registrar on another port than 5060 keeps its port.
            None => match self.registrar.or(self.proxy) {
                Some(a) if a.port() == 5060 => host_of(a),
                Some(a) => format!("{}:{}", host_of(a), a.port()),
                None => host_of(local),
            },
        };
        let Some(mut config) = Config::new(&self.user, &domain, local) else {
            return err("user or domain is longer than the phone stores");
        };
        config.identity.display_name = text(&self.display_name)
            .ok_or_else(|| SettingsError("display name too long".into()))?;
        config.identity.transport = self.transport.via_token();
        config.reliability = if self.transport.is_stream() {
            Reliability::Reliable
        } else {
            Reliability::Unreliable
        };
        config.outbound_proxy = self.proxy;
        config.registrar = self.registrar;
        for &a in &self.backup_registrars {
            if config.register.backup_registrars.push(a).is_err() {
                return err(format!("at most {MAX_BACKUP_REGISTRARS} backup registrars"));
            }
        }
        config.register.failback_after = self
            .failback
            .map(|s| handset_core::time::Duration::from_secs(s.into()));
        config.register.expires = self.expires;
        let auth_user = self.auth_user.as_deref().unwrap_or(&self.user);
        config.register.auth_user =
            text(auth_user).ok_or_else(|| SettingsError("auth user too long".into()))?;
        config.register.password =
            text(&self.password).ok_or_else(|| SettingsError("password too long".into()))?;
        config.media.codecs = CodecList::from_slice(&self.codecs);
        config.rtp_port = self.rtp_port;
        config.transfer = self.transfer;
        Ok(config)
    }
}

/// An address's host as written in a URI (IPv6 in brackets).
fn host_of(a: SocketAddr) -> String {
    match a.ip() {
        IpAddr::V4(ip) => ip.to_string(),
        IpAddr::V6(ip) => format!("[{ip}]"),
    }
}

fn strip_comment(line: &str) -> &str {
    // A `#` inside quotes belongs to the value (passwords may hold one).
    let mut quote = None;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') => return &line[..i],
            _ => {}
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_sets_every_key_and_flags_override() {
        let mut s = Settings::default();
        s.load_str(
            "# account\n[account]\nuser = \"alice\"\npassword = 'a#b' # secret\n\
             registrar = 127.0.0.1:5062\nproxy=127.0.0.1:5062\ntransport = tcp\n\
             rtp-port = 20000\nexpires = 600\ncodecs = pcma, pcmu\nbind = 127.0.0.1:0\n\
             accept_refer = ask\n",
            "test.conf",
        )
        .unwrap();
        assert_eq!(s.user, "alice");
        assert_eq!(s.password, "a#b");
        assert_eq!(s.registrar, Some("127.0.0.1:5062".parse().unwrap()));
        assert_eq!(s.transport, Transport::Tcp);
        assert_eq!(s.rtp_port, 20000);
        assert_eq!(s.codecs, [Codec::Pcma, Codec::Pcmu]);
        s.set("user", "bob").unwrap();
        let c = s.core_config("127.0.0.1:5555".parse().unwrap()).unwrap();
        assert_eq!(c.identity.user.as_str(), "bob");
        assert_eq!(c.identity.domain.as_str(), "127.0.0.1:5062");
        assert_eq!(c.identity.transport, "TCP");
        assert_eq!(c.reliability, Reliability::Reliable);
        assert_eq!(c.register.password.as_str(), "a#b");
        assert_eq!(c.register.auth_user.as_str(), "bob");
        assert_eq!(c.transfer.policy, TransferPolicy::Ask);
    }

    #[test]
    fn backup_registrars_and_failback_reach_the_core() {
        let mut s = Settings::default();
        s.load_str(
            "registrar = 127.0.0.1:5062\nbackup_registrar = 127.0.0.1:5064, 127.0.0.1:5066\n\
             failback = 600\n",
            "f",
        )
        .unwrap();
        let c = s.core_config("127.0.0.1:5555".parse().unwrap()).unwrap();
        let backups: Vec<SocketAddr> = c.register.backup_registrars.iter().copied().collect();
        assert_eq!(
            backups,
            [
                "127.0.0.1:5064".parse::<SocketAddr>().unwrap(),
                "127.0.0.1:5066".parse().unwrap()
            ]
        );
        assert_eq!(
            c.register.failback_after,
            Some(handset_core::time::Duration::from_secs(600))
        );
        let e = s.set("backup_registrar", "127.0.0.1:5068").unwrap_err();
        assert!(e.0.contains("at most 2"), "{e}");
        s.set("failback", "0").unwrap();
        assert_eq!(s.failback, None);
    }

    #[test]
    fn bad_lines_name_their_place() {
        let mut s = Settings::default();
        let e = s.load_str("user = a\nnonsense\n", "f").unwrap_err();
        assert_eq!(e.0, "f:2: expected key = value");
        let e = s.load_str("colour = blue\n", "f").unwrap_err();
        assert!(e.0.contains("unknown setting"), "{e}");
        let e = s.load_str("rtp_port = many\n", "f").unwrap_err();
        assert!(e.0.contains("not a valid number"), "{e}");
        assert!(parse_transport("sctp").is_err());
        assert!(parse_codecs("opus").is_err());
        assert!(parse_addr("127.0.0.1:99999").is_err());
        assert_eq!(
            parse_addr("127.0.0.1").unwrap(),
            "127.0.0.1:5060".parse().unwrap()
        );
        assert_eq!(parse_addr("[::1]:7").unwrap(), "[::1]:7".parse().unwrap());
    }

    #[test]
    fn an_unspecified_bind_picks_a_routable_ip() {
        let s = Settings::default();
        let ip = s.local_ip_towards(Some("127.0.0.1:5060".parse().unwrap()));
        assert!(ip.is_loopback());
        assert!(s.local_ip_towards(None).is_loopback());
    }
}
