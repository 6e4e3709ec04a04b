//! Helpers shared by the server's integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use netsec_core::time::Timestamp;
use netsec_server::api::AppState;
use netsec_server::auth::hash_password;
use netsec_server::config::ServerConfig;
use netsec_server::role::Role;

/// A fresh directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("netsec-srv-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A configuration with its data under `dir`, on an ephemeral loopback port.
pub fn config(dir: &Path) -> ServerConfig {
    let mut c = ServerConfig::default();
    c.server.data_dir = dir.to_path_buf();
    c.server.bind = "127.0.0.1:0".parse().expect("addr");
    c.server.heartbeat_s = 1;
    c
}

/// The server's state over `config`, with one user per role (`admin`, `analyst`,
/// `viewer`, each with password `password-<name>`).
pub fn state(config: ServerConfig) -> AppState {
    let state = AppState::open(config).expect("opens");
    for role in Role::ALL {
        let name = role.as_str();
        let hash = hash_password(&format!("password-{name}")).expect("hash");
        state
            .db
            .change_blocking(|s| s.create_user(name, role, &hash, Timestamp::from_micros(1)))
            .expect("user");
    }
    state
}

/// The shared data directory, or `None` (with the reason printed) when it is absent.
pub fn shared_pcaps() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/pcaps");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: {} is absent", dir.display());
        None
    }
}

/// A raw IPv4/UDP datagram from 10.0.0.`src` port 1000+`src` to 10.0.0.2:53.
pub fn udp_datagram(src: u8) -> Vec<u8> {
    vec![
        0x45, 0, 0, 32, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, src, 10, 0, 0, 2, 0x03, src, 0, 53, 0,
        12, 0, 0, 1, 2, 3, 4,
    ]
}

/// Writes a raw-IP capture of `packets` (time in µs, source octet).
pub fn write_capture(path: &Path, packets: &[(i64, u8)]) {
    let frames: Vec<(i64, Vec<u8>)> = packets
        .iter()
        .map(|(t, s)| (*t, udp_datagram(*s)))
        .collect();
    write_frames(path, &frames);
}

/// Writes a raw-IP capture of `n` datagrams, each its own flow (source port `i`), one every
/// `gap_us`.
pub fn write_many_flows(path: &Path, n: u32, gap_us: i64) {
    let frames: Vec<(i64, Vec<u8>)> = (0..n)
        .map(|i| {
            let mut d = udp_datagram((i / 60_000 % 250) as u8 + 3);
            let port = (i % 60_000) as u16 + 1024;
            d[20..22].copy_from_slice(&port.to_be_bytes());
            (1_000_000 + i64::from(i) * gap_us, d)
        })
        .collect();
    write_frames(path, &frames);
}

fn write_frames(path: &Path, frames: &[(i64, Vec<u8>)]) {
    use netsec_core::capture::{LinkType, PcapWriter};
    let file = std::fs::File::create(path).expect("creates");
    let mut w =
        PcapWriter::new(std::io::BufWriter::new(file), LinkType::RAW, 65535).expect("header");
    for (t, d) in frames {
        w.write_packet(Timestamp::from_micros(*t), d, d.len() as u32)
            .expect("writes");
    }
    drop(w);
}

/// A minimal HTTP/1.1 client over loopback: one request per connection.
pub mod http {
    use serde_json::Value;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Sends a request and returns (status, JSON body).
    pub async fn request(
        addr: std::net::SocketAddr,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut s = tokio::net::TcpStream::connect(addr)
            .await
            .expect("connects");
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let auth = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{auth}\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes()).await.expect("writes");
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.expect("reads");
        let text = String::from_utf8_lossy(&out);
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let body = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(rest)
        } else {
            rest.to_string()
        };
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    fn dechunk(mut s: &str) -> String {
        let mut out = String::new();
        while let Some((size, rest)) = s.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 || rest.len() < n {
                break;
            }
            out.push_str(&rest[..n]);
            s = rest[n..].trim_start_matches("\r\n");
        }
        out
    }
}
