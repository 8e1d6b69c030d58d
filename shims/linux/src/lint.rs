//! `handset lint`: parse each file as one datagram and validate it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use handset_core::message::Message;

/// The verdict line for one file's bytes, without the path.
pub fn verdict(bytes: &[u8]) -> Result<(), String> {
    Message::parse_datagram(bytes)
        .and_then(|m| m.validate())
        .map_err(|e| e.to_string())
}

fn lint_file(path: &Path) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    verdict(&bytes)
}

/// Lints every file, writing one line each to `out`; exit status 1 when
/// any file has an error.
pub fn run(files: &[PathBuf], out: &mut impl Write) -> ExitCode {
    let mut failed = false;
    for path in files {
        let line = match lint_file(path) {
            Ok(()) => format!("{}: ok", path.display()),
            Err(reason) => {
                failed = true;
                format!("{}: error: {reason}", path.display())
            }
        };
        // A closed stdout (e.g. piped into `head`) ends the listing quietly.
        if writeln!(out, "{line}").is_err() {
            break;
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_and_exit_status() {
        let dir = std::env::temp_dir().join(format!("handset-lint-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.sip");
        let bad = dir.join("bad.sip");
        std::fs::write(
            &good,
            "OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
Max-Forwards: 70\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n\
Call-ID: 1@h\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
        )
        .unwrap();
        std::fs::write(&bad, "OPTIONS sip:b@example.com SIP/7.0\r\n\r\n").unwrap();
        let mut out = Vec::new();
        let status = run(&[good.clone(), bad.clone()], &mut out);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            format!(
                "{}: ok\n{}: error: unsupported SIP version at byte 26\n",
                good.display(),
                bad.display()
            )
        );
        assert_eq!(status, ExitCode::FAILURE);
        let mut out = Vec::new();
        assert_eq!(run(&[good], &mut out), ExitCode::SUCCESS);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
