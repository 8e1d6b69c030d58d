//! Two `handset phone` consoles on loopback, driven line by line through
//! their stdin: a feature key set at the console changes what goes on the
//! wire between them.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use handset_conformance::peers::ports;

/// A running console: its stdin, and its stdout lines as they come.
struct Console {
    child: Child,
    stdin: ChildStdin,
    lines: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Console {
    fn spawn(user: &str) -> Console {
        // Free RTP ports (two calls' RTP and RTCP), away from other tests.
        let rtp_port = ports(8).to_string();
        let mut child = Command::new(env!("CARGO_BIN_EXE_handset"))
            .args([
                "phone",
                "--user",
                user,
                "--bind",
                "127.0.0.1:0",
                "--rtp-port",
                &rtp_port,
                "-v",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the handset binary runs");
        let stdin = child.stdin.take().expect("piped stdin");
        let collect = |out: Box<dyn std::io::Read + Send>| {
            let lines = Arc::new(Mutex::new(Vec::new()));
            let sink = Arc::clone(&lines);
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    sink.lock().unwrap().push(line);
                }
            });
            lines
        };
        let lines = collect(Box::new(child.stdout.take().expect("piped stdout")));
        let stderr = collect(Box::new(child.stderr.take().expect("piped stderr")));
        Console {
            child,
            stdin,
            lines,
            stderr,
        }
    }

    fn say(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").expect("the console reads stdin");
        self.stdin.flush().expect("the console reads stdin");
    }

    /// Waits for the `n`-th stdout line (from 0) starting with `prefix`.
    fn wait_nth(&self, prefix: &str, n: usize) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(l) = self
                .lines
                .lock()
                .unwrap()
                .iter()
                .filter(|l| l.starts_with(prefix))
                .nth(n)
            {
                return l.clone();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "no line {prefix:?} #{n}\n--- stdout\n{}\n--- stderr\n{}",
            self.lines.lock().unwrap().join("\n"),
            self.stderr.lock().unwrap().join("\n")
        );
    }

    fn wait_line(&self, prefix: &str) -> String {
        self.wait_nth(prefix, 0)
    }

    fn stdout(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[test]
fn dtmf_mode_info_sends_digits_by_sip_info_between_two_consoles() {
    let mut bob = Console::spawn("bob");
    let bob_addr = bob
        .wait_line("listening ")
        .rsplit(' ')
        .next()
        .unwrap()
        .to_string();
    bob.wait_line("ready");
    let mut alice = Console::spawn("alice");
    alice.wait_line("ready");

    alice.say("dtmfmode info");
    alice.wait_line("dtmfmode info");
    alice.say(&format!("dial sip:bob@{bob_addr}"));
    bob.wait_line("incoming 0");
    bob.say("answer 0");
    alice.wait_line("answered 0");
    alice.say("dtmf 0 12#");
    for (i, digit) in ['1', '2', '#'].into_iter().enumerate() {
        assert_eq!(bob.wait_nth("dtmf 0 ", i), format!("dtmf 0 {digit}"));
    }
    // The digits came by INFO: the media shim saw no telephone-event.
    assert!(
        !bob.stderr().contains("DTMF 1 received"),
        "{}",
        bob.stderr()
    );

    alice.say("hangup 0");
    bob.wait_line("ended 0");
    alice.say("quit");
    bob.say("quit");
    alice.wait_line("bye");
    bob.wait_line("bye");
    let dtmf_lines = bob
        .stdout()
        .into_iter()
        .filter(|l| l.starts_with("dtmf "))
        .count();
    assert_eq!(dtmf_lines, 3);
}
