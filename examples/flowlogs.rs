//! Writes VPC Flow Logs, format-exact, of a known topology, with the matching
//! `aws ec2 describe-network-interfaces` JSON, the `terraform show -json` state that names
//! its groups, a Terraform tree declaring those groups, and the connections a correct
//! `mutualsg suggest` must find (see `tests/suggest.rs` and `benches/suggest.sh`).
//!
//! ```sh
//! cargo run --release --example flowlogs -- --out target/flowlogs
//! cargo run --release --example flowlogs -- --out target/bench-flowlogs --windows 3000 --concurrent 55
//! ```
//!
//! The topology (VPC 10.0.0.0/16): the internet (`--internet-clients` IPv4 clients, 20 by
//! default, and one IPv6) → ALB 443/tcp,
//! ALB → web 8080, web → db 5432, web → cache 6379, web → web 7946 (gossip), web → three
//! HTTPS APIs on the internet through a NAT gateway, web → an IRC server (6667) through the
//! NAT; two workers (each with a second, different group) → db 5432, → api 9000–9005 and →
//! 8.8.8.8:53/udp; batch → api 40000 from port 1021 (only `tcp-flags` can tell who opened
//! it) and → SMTP 587; monitoring (a group of `module.monitoring`) → web 9100. Noise:
//! rejected probes from the internet (22, 3389), an ICMP echo between ops and cache, ops
//! (two groups) → cache 6379, an idle interface writing NODATA, one SKIPDATA record.
//!
//! Logs: one flow log per subnet. `fl-public` (ALB, NAT) and `fl-app` (web, workers, ops)
//! in the default format; `fl-data` (db, cache, api, batch) in a custom format with
//! `tcp-flags` and `flow-direction`; all three as S3 delivers them (gzip, a header line),
//! one file per `--windows-per-file` one-minute windows. Monitoring's interface logs to
//! CloudWatch Logs: `cloudwatch/*.log` is an export (a timestamp before each record, no
//! header) in the custom format, which `suggest` reads with `--log-format` (the value is in
//! `DIR/log-format.txt`). `--plain` writes the S3 files without gzip.
//!
//! Outputs: `DIR/logs/`, `DIR/interfaces.json`, `DIR/state.json`, `DIR/tf/` (the groups,
//! root and `modules/monitoring`), `DIR/expected-connections.txt` (one line per connection
//! of the draft: `MODULE: SOURCE -> TARGET TRAFFIC`), `DIR/manifest.txt` (records, bytes).
//! Long-lived connections: each of `--concurrent` slots per edge holds one connection for
//! `--lifetime` windows, then opens a new one from a new ephemeral port, drawn from
//! `--cardinality` ports (32768 and up): with `--lifetime 1` and the whole range, nearly every
//! connection is a new five-tuple, as behind busy clients. `manifest.txt` counts the distinct
//! five-tuples written (`five_tuples=`). A busy public service's cardinality comes from its
//! clients: with `--internet-clients 2000`, most records are new five-tuples.

use std::fmt::Write as _;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use clap::Parser;
use flate2::{Compression, GzBuilder};

#[derive(Debug, Parser)]
#[command(about = "Write VPC Flow Logs of a known topology, for mutualsg suggest")]
struct Args {
    #[arg(long)]
    out: PathBuf,
    /// One-minute aggregation windows.
    #[arg(long, default_value_t = 6)]
    windows: u64,
    /// Connections open at once on each edge (at least as many as the edge has clients or
    /// ports, so each appears in the first window).
    #[arg(long, default_value_t = 3)]
    concurrent: u64,
    /// Windows a connection lives.
    #[arg(long, default_value_t = 3)]
    lifetime: u64,
    /// Ephemeral ports a client draws from (1–32767, from 32768 up): with `--lifetime 1`,
    /// the number of distinct five-tuples grows with it.
    #[arg(long, default_value_t = 28_000, value_parser = clap::value_parser!(u64).range(1..=32_767))]
    cardinality: u64,
    /// Internet clients of the ALB: the first 20 are 203.0.113.100–119, more come from
    /// 198.18.0.0/15. Each holds a connection of its own in every window, so with thousands
    /// nearly every record is a new five-tuple, as in front of a public service.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=131_072))]
    internet_clients: u64,
    #[arg(long, default_value_t = 60)]
    windows_per_file: u64,
    /// S3 files as plain text instead of gzip.
    #[arg(long)]
    plain: bool,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

const ACCOUNT: &str = "123456789012";
const VPC: &str = "vpc-0a1b2c3d4e5f60718";
/// 2026-11-01T10:00:00Z.
const START: u64 = 1_793_527_200;

const DATA_FIELDS: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id subnet-id tcp-flags flow-direction pkt-srcaddr pkt-dstaddr";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Log {
    Public,
    App,
    Data,
    CloudWatch,
}

struct Group {
    name: &'static str,
    id: &'static str,
    /// `""` or `module.monitoring`.
    module: &'static str,
    resource: &'static str,
}

const GROUPS: [Group; 12] = [
    group("alb", "sg-0a1b000000000a1b0"),
    group("web", "sg-0a1b000000000eb00"),
    group("db", "sg-0a1b0000000000db0"),
    group("cache", "sg-0a1b00000000cac00"),
    group("worker", "sg-0a1b000000000f0e0"),
    group("logs", "sg-0a1b00000000010a0"),
    group("mgmt", "sg-0a1b00000000ea700"),
    group("api", "sg-0a1b0000000000a90"),
    group("batch", "sg-0a1b00000000ba7c0"),
    group("ops", "sg-0a1b000000000095a"),
    group("idle", "sg-0a1b00000000001d1"),
    Group {
        name: "monitoring",
        id: "sg-0a1b000000000a0a0",
        module: "module.monitoring",
        resource: "aws_security_group.this",
    },
];

const fn group(name: &'static str, id: &'static str) -> Group {
    Group {
        name,
        id,
        module: "",
        resource: "",
    }
}

fn group_id(name: &str) -> &'static str {
    GROUPS
        .iter()
        .find(|g| g.name == name)
        .map(|g| g.id)
        .unwrap()
}

struct Interface {
    id: &'static str,
    ip: &'static str,
    subnet: &'static str,
    groups: &'static [&'static str],
    kind: &'static str,
    log: Log,
}

const fn iface(
    id: &'static str,
    ip: &'static str,
    subnet: &'static str,
    groups: &'static [&'static str],
    log: Log,
) -> Interface {
    Interface {
        id,
        ip,
        subnet,
        groups,
        kind: "interface",
        log,
    }
}

const PUBLIC: &str = "subnet-0a1b000000000b001";
const APP: &str = "subnet-0a1b000000000a002";
const DATA: &str = "subnet-0a1b000000000d003";

const INTERFACES: [Interface; 16] = [
    iface(
        "eni-0a1b00000000a1b01",
        "10.0.0.10",
        PUBLIC,
        &["alb"],
        Log::Public,
    ),
    iface(
        "eni-0a1b00000000a1b02",
        "10.0.0.11",
        PUBLIC,
        &["alb"],
        Log::Public,
    ),
    Interface {
        id: "eni-0a1b0000000000a70",
        ip: "10.0.0.5",
        subnet: PUBLIC,
        groups: &[],
        kind: "nat_gateway",
        log: Log::Public,
    },
    iface(
        "eni-0a1b00000000eb001",
        "10.0.1.21",
        APP,
        &["web"],
        Log::App,
    ),
    iface(
        "eni-0a1b00000000eb002",
        "10.0.1.22",
        APP,
        &["web"],
        Log::App,
    ),
    iface(
        "eni-0a1b00000000eb003",
        "10.0.1.23",
        APP,
        &["web"],
        Log::App,
    ),
    iface(
        "eni-0a1b00000000f0e01",
        "10.0.1.31",
        APP,
        &["worker", "logs"],
        Log::App,
    ),
    iface(
        "eni-0a1b00000000f0e02",
        "10.0.1.32",
        APP,
        &["worker", "mgmt"],
        Log::App,
    ),
    iface(
        "eni-0a1b0000000095a01",
        "10.0.1.41",
        APP,
        &["ops", "mgmt"],
        Log::App,
    ),
    iface(
        "eni-0a1b00000000001d1",
        "10.0.1.51",
        APP,
        &["idle"],
        Log::App,
    ),
    iface(
        "eni-0a1b000000000db01",
        "10.0.2.10",
        DATA,
        &["db"],
        Log::Data,
    ),
    iface(
        "eni-0a1b00000000cac01",
        "10.0.2.20",
        DATA,
        &["cache"],
        Log::Data,
    ),
    iface(
        "eni-0a1b000000000a901",
        "10.0.2.30",
        DATA,
        &["api"],
        Log::Data,
    ),
    iface(
        "eni-0a1b00000000ba701",
        "10.0.2.40",
        DATA,
        &["batch"],
        Log::Data,
    ),
    iface(
        "eni-0a1b00000000a0a01",
        "10.0.2.50",
        DATA,
        &["monitoring"],
        Log::CloudWatch,
    ),
    // Dual-stack ALB address for the IPv6 client.
    iface(
        "eni-0a1b00000000a1b03",
        "2600:1f18:aa:1::10",
        PUBLIC,
        &["alb"],
        Log::Public,
    ),
];

const NAT_IP: &str = "10.0.0.5";

fn ips(prefix: &str, range: std::ops::Range<u32>) -> Vec<String> {
    range.map(|i| format!("{prefix}{i}")).collect()
}

struct Edge {
    clients: Vec<String>,
    servers: Vec<String>,
    protocol: u8,
    ports: Vec<u16>,
    /// A fixed client port (else ephemeral).
    client_port: Option<u16>,
    accepted: bool,
    /// Reaches the internet through the NAT gateway.
    nat: bool,
    /// The expected draft line, or `None` for noise.
    expected: Option<String>,
}

fn edge(clients: &[&str], servers: &[&str], protocol: u8, ports: &[u16]) -> Edge {
    Edge {
        clients: clients.iter().map(|c| c.to_string()).collect(),
        servers: servers.iter().map(|s| s.to_string()).collect(),
        protocol,
        ports: ports.to_vec(),
        client_port: None,
        accepted: true,
        nat: false,
        expected: None,
    }
}

/// The ALB's internet clients, and the draft line that lists them all, in address order.
fn internet_clients(count: u64) -> (Vec<String>, String) {
    let mut clients = ips("203.0.113.", 100..100 + count.min(20) as u32);
    clients.extend(
        (0..count.saturating_sub(20))
            .map(|i| format!("198.{}.{}.{}", 18 + i / 65_536, i / 256 % 256, i % 256)),
    );
    let mut sorted: Vec<std::net::Ipv4Addr> = clients.iter().map(|c| c.parse().unwrap()).collect();
    sorted.sort();
    let cidrs: Vec<String> = sorted.iter().map(|c| format!("{c}/32")).collect();
    (clients, format!(": {} -> alb 443/tcp", cidrs.join(",")))
}

fn edges(internet_clients_count: u64) -> Vec<Edge> {
    let web = ["10.0.1.21", "10.0.1.22", "10.0.1.23"];
    let workers = ["10.0.1.31", "10.0.1.32"];
    let albs = ["10.0.0.10", "10.0.0.11"];
    let (clients, expected) = internet_clients(internet_clients_count);
    let out = vec![
        Edge {
            clients,
            // Every client listed: a draft never widens an address.
            expected: Some(expected),
            ..edge(&[], &albs, 6, &[443])
        },
        Edge {
            expected: Some(": 2001:db8::1/128 -> alb 443/tcp".to_string()),
            ..edge(&["2001:db8::1"], &["2600:1f18:aa:1::10"], 6, &[443])
        },
        Edge {
            expected: Some(": alb -> web 8080/tcp".to_string()),
            ..edge(&albs, &web, 6, &[8080])
        },
        Edge {
            expected: Some(": web -> db 5432/tcp".to_string()),
            ..edge(&web, &["10.0.2.10"], 6, &[5432])
        },
        Edge {
            expected: Some(": web -> cache 6379/tcp".to_string()),
            ..edge(&web, &["10.0.2.20"], 6, &[6379])
        },
        Edge {
            expected: Some(": web -> web 7946/tcp".to_string()),
            ..edge(&web[..2], &web[1..], 6, &[7946])
        },
        Edge {
            nat: true,
            expected: Some(
                ": web -> 192.0.2.10/32,192.0.2.11/32,192.0.2.12/32 443/tcp".to_string(),
            ),
            ..edge(&web, &["192.0.2.10", "192.0.2.11", "192.0.2.12"], 6, &[443])
        },
        Edge {
            nat: true,
            expected: Some(": web -> 198.51.100.77/32 6667/tcp".to_string()),
            ..edge(&["10.0.1.22"], &["198.51.100.77"], 6, &[6667])
        },
        Edge {
            expected: Some(": worker -> db 5432/tcp".to_string()),
            ..edge(&workers, &["10.0.2.10"], 6, &[5432])
        },
        Edge {
            expected: Some(": worker -> api 9000-9005/tcp".to_string()),
            ..edge(
                &workers,
                &["10.0.2.30"],
                6,
                &[9000, 9001, 9002, 9003, 9004, 9005],
            )
        },
        Edge {
            nat: true,
            expected: Some(": worker -> 8.8.8.8/32 53/udp".to_string()),
            ..edge(&workers, &["8.8.8.8"], 17, &[53])
        },
        Edge {
            client_port: Some(1021),
            expected: Some(": batch -> api 40000/tcp".to_string()),
            ..edge(&["10.0.2.40"], &["10.0.2.30"], 6, &[40000])
        },
        Edge {
            nat: true,
            expected: Some(": batch -> 203.0.113.25/32 587/tcp".to_string()),
            ..edge(&["10.0.2.40"], &["203.0.113.25"], 6, &[587])
        },
        Edge {
            expected: Some("module.monitoring: monitoring -> web 9100/tcp".to_string()),
            ..edge(&["10.0.2.50"], &web, 6, &[9100])
        },
        // Noise: probes, ICMP echo, the two-group ops interface.
        Edge {
            accepted: false,
            ..edge(
                &["198.51.100.200", "198.51.100.201"],
                &["10.0.1.21"],
                6,
                &[22],
            )
        },
        Edge {
            accepted: false,
            ..edge(&["198.51.100.202"], &["10.0.0.10"], 6, &[3389])
        },
        edge(&["10.0.1.41"], &["10.0.2.20"], 1, &[0]),
        edge(&["10.0.1.41"], &["10.0.2.20"], 6, &[6379]),
    ];
    out
}

/// splitmix64.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

fn interface_of(ip: &str) -> Option<&'static Interface> {
    INTERFACES.iter().find(|i| i.ip == ip)
}

/// One record to write: at which interface, what, and in which window.
struct Rec<'a> {
    at: &'a Interface,
    src: &'a str,
    dst: &'a str,
    srcport: u16,
    dstport: u16,
    protocol: u8,
    packets: u64,
    bytes: u64,
    window: u64,
    accepted: bool,
    flags: u16,
    /// pkt-srcaddr / pkt-dstaddr (differ from src/dst at a NAT gateway).
    pkt: (&'a str, &'a str),
}

struct Writers {
    out: PathBuf,
    plain: bool,
    windows_per_file: u64,
    open: Vec<(Log, u64, Box<dyn Write>)>,
    records: u64,
    /// Hashes of the distinct five-tuples written.
    five_tuples: std::collections::HashSet<u64>,
}

impl Writers {
    fn writer(&mut self, log: Log, window: u64) -> &mut Box<dyn Write> {
        let chunk = window / self.windows_per_file;
        if let Some(index) = self
            .open
            .iter()
            .position(|(l, c, _)| *l == log && *c == chunk)
        {
            return &mut self.open[index].2;
        }
        // Files of an earlier chunk of this log are done.
        self.open.retain(|(l, _, _)| *l != log);
        let minute = START + chunk * self.windows_per_file * 60;
        let stamp = stamp(minute);
        let (dir, name, header): (&str, String, Option<&str>) = match log {
            Log::Public => (
                "s3/fl-public",
                format!("{ACCOUNT}_vpcflowlogs_us-east-1_fl-0public_{stamp}_{chunk:05}.log"),
                Some(DEFAULT_HEADER),
            ),
            Log::App => (
                "s3/fl-app",
                format!("{ACCOUNT}_vpcflowlogs_us-east-1_fl-0app_{stamp}_{chunk:05}.log"),
                Some(DEFAULT_HEADER),
            ),
            Log::Data => (
                "s3/fl-data",
                format!("{ACCOUNT}_vpcflowlogs_us-east-1_fl-0data_{stamp}_{chunk:05}.log"),
                Some(DATA_FIELDS),
            ),
            Log::CloudWatch => ("cloudwatch", format!("monitoring-{chunk:05}.log"), None),
        };
        let dir = self.out.join("logs").join(dir);
        fs::create_dir_all(&dir).unwrap();
        let gzip = !self.plain && log != Log::CloudWatch;
        let path = dir.join(if gzip { format!("{name}.gz") } else { name });
        let file = BufWriter::with_capacity(1 << 20, fs::File::create(path).unwrap());
        let mut writer: Box<dyn Write> = if gzip {
            Box::new(GzBuilder::new().write(file, Compression::new(6)))
        } else {
            Box::new(file)
        };
        if let Some(header) = header {
            writeln!(writer, "{header}").unwrap();
        }
        self.open.push((log, chunk, writer));
        &mut self.open.last_mut().unwrap().2
    }

    fn write(&mut self, rec: &Rec) {
        use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
        let tuple = (rec.src, rec.dst, rec.srcport, rec.dstport, rec.protocol);
        self.five_tuples
            .insert(BuildHasherDefault::<DefaultHasher>::default().hash_one(tuple));
        let start = START + rec.window * 60;
        let end = start + 60;
        let action = if rec.accepted { "ACCEPT" } else { "REJECT" };
        let mut line = String::with_capacity(200);
        let log = rec.at.log;
        match log {
            Log::Public | Log::App => {
                let _ = write!(
                    line,
                    "2 {ACCOUNT} {} {} {} {} {} {} {} {} {start} {end} {action} OK",
                    rec.at.id,
                    rec.src,
                    rec.dst,
                    rec.srcport,
                    rec.dstport,
                    rec.protocol,
                    rec.packets,
                    rec.bytes
                );
            }
            Log::Data | Log::CloudWatch => {
                let direction = if rec.src == rec.at.ip || rec.pkt.0 == rec.at.ip {
                    "egress"
                } else {
                    "ingress"
                };
                if log == Log::CloudWatch {
                    let _ = write!(line, "{} ", iso(end + 5));
                }
                let _ = write!(
                    line,
                    "5 {ACCOUNT} {} {} {} {} {} {} {} {} {start} {end} {action} OK {VPC} {} {} {direction} {} {}",
                    rec.at.id,
                    rec.src,
                    rec.dst,
                    rec.srcport,
                    rec.dstport,
                    rec.protocol,
                    rec.packets,
                    rec.bytes,
                    rec.at.subnet,
                    rec.flags,
                    rec.pkt.0,
                    rec.pkt.1
                );
            }
        }
        self.records += 1;
        let writer = self.writer(log, rec.window);
        writeln!(writer, "{line}").unwrap();
    }

    /// A NODATA / SKIPDATA record: `-` wherever there is no value.
    fn no_data(&mut self, at: &Interface, window: u64, status: &str) {
        let start = START + window * 60;
        let end = start + 60;
        let line = match at.log {
            Log::Public | Log::App => format!(
                "2 {ACCOUNT} {} - - - - - - - {start} {end} - {status}",
                at.id
            ),
            Log::Data | Log::CloudWatch => {
                format!(
                    "5 {ACCOUNT} {} - - - - - - - {start} {end} - {status} {VPC} {} - - - -",
                    at.id, at.subnet
                )
            }
        };
        self.records += 1;
        let writer = self.writer(at.log, window);
        writeln!(writer, "{line}").unwrap();
    }
}

const DEFAULT_HEADER: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";

fn civil(seconds: u64) -> (i64, i64, i64, u64, u64, u64) {
    let days = (seconds / 86_400) as i64;
    let rest = seconds % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, rest / 3600, rest % 3600 / 60, rest % 60)
}

fn stamp(seconds: u64) -> String {
    let (y, mo, d, h, mi, _) = civil(seconds);
    format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}Z")
}

fn iso(seconds: u64) -> String {
    let (y, mo, d, h, mi, s) = civil(seconds);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.000Z")
}

fn main() {
    let args = Args::parse();
    if args.out.exists() {
        if !args.out.join("manifest.txt").exists()
            && fs::read_dir(&args.out)
                .map(|mut d| d.next().is_some())
                .unwrap_or(false)
        {
            eprintln!(
                "flowlogs: {} exists and is not an earlier output",
                args.out.display()
            );
            std::process::exit(2);
        }
        fs::remove_dir_all(&args.out).unwrap();
    }
    fs::create_dir_all(&args.out).unwrap();
    let edges = edges(args.internet_clients);
    let mut writers = Writers {
        out: args.out.clone(),
        plain: args.plain,
        windows_per_file: args.windows_per_file.max(1),
        open: Vec::new(),
        records: 0,
        five_tuples: Default::default(),
    };
    let nat = interface_of(NAT_IP).unwrap();
    let idle = interface_of("10.0.1.51").unwrap();
    for window in 0..args.windows {
        writers.no_data(idle, window, "NODATA");
        if window == 1 {
            writers.no_data(interface_of("10.0.0.10").unwrap(), window, "SKIPDATA");
        }
        for (e, edge) in edges.iter().enumerate() {
            let slots = args
                .concurrent
                .max(edge.clients.len() as u64)
                .max(edge.ports.len() as u64);
            for slot in 0..slots {
                let lifetime = args.lifetime.max(1);
                let generation = (window + slot) / lifetime;
                let first = (window + slot) % lifetime == 0 || window == 0;
                let last = (window + slot) % lifetime == lifetime - 1 || window == args.windows - 1;
                let mut rng = Rng(args.seed ^ ((e as u64) << 48) ^ (slot << 24) ^ generation);
                rng.next();
                let client =
                    &edge.clients[((slot + generation) % edge.clients.len() as u64) as usize];
                let server = &edge.servers[(rng.next() % edge.servers.len() as u64) as usize];
                let port = edge.ports[(slot % edge.ports.len() as u64) as usize];
                let (client_port, server_port) = if edge.protocol == 1 {
                    (0, 0)
                } else {
                    (
                        edge.client_port
                            .unwrap_or(32768 + (rng.next() % args.cardinality) as u16),
                        port,
                    )
                };
                let packets = 1 + rng.next() % 40;
                let bytes = packets * (60 + rng.next() % 1400);
                let back_packets = 1 + rng.next() % 40;
                let back_bytes = back_packets * (60 + rng.next() % 1400);
                let tcp = edge.protocol == 6;
                let fin = if last && tcp { 1 } else { 0 };
                let (forward_flags, backward_flags) = match (tcp, first) {
                    (true, true) => (2 | fin, 18 | fin),
                    (true, false) => (fin, fin),
                    _ => (0, 0),
                };
                let mut emit = |at: &'static Interface,
                                src: &str,
                                dst: &str,
                                sp,
                                dp,
                                forward: bool,
                                pkt: (&str, &str)| {
                    writers.write(&Rec {
                        at,
                        src,
                        dst,
                        srcport: sp,
                        dstport: dp,
                        protocol: edge.protocol,
                        packets: if forward { packets } else { back_packets },
                        bytes: if forward { bytes } else { back_bytes },
                        window,
                        accepted: edge.accepted,
                        flags: if forward {
                            forward_flags
                        } else {
                            backward_flags
                        },
                        pkt,
                    });
                };
                for at in [interface_of(client), interface_of(server)]
                    .into_iter()
                    .flatten()
                {
                    emit(
                        at,
                        client,
                        server,
                        client_port,
                        server_port,
                        true,
                        (client, server),
                    );
                    if edge.accepted {
                        emit(
                            at,
                            server,
                            client,
                            server_port,
                            client_port,
                            false,
                            (server, client),
                        );
                    }
                }
                if edge.nat {
                    // The NAT gateway's interface: both legs, before and after translation.
                    let nat_port = 1024 + (rng.next() % 60_000) as u16;
                    emit(
                        nat,
                        client,
                        server,
                        client_port,
                        server_port,
                        true,
                        (client, server),
                    );
                    emit(
                        nat,
                        server,
                        client,
                        server_port,
                        client_port,
                        false,
                        (server, client),
                    );
                    emit(
                        nat,
                        NAT_IP,
                        server,
                        nat_port,
                        server_port,
                        true,
                        (NAT_IP, server),
                    );
                    emit(
                        nat,
                        server,
                        NAT_IP,
                        server_port,
                        nat_port,
                        false,
                        (server, NAT_IP),
                    );
                }
            }
        }
    }
    for (_, _, writer) in writers.open.drain(..) {
        drop(writer);
    }
    write_side_files(
        &args.out,
        &edges,
        writers.records,
        writers.five_tuples.len() as u64,
    );
}

fn write_side_files(out: &Path, edges: &[Edge], records: u64, five_tuples: u64) {
    fs::write(
        out.join("log-format.txt"),
        DATA_FIELDS
            .split(' ')
            .map(|f| format!("${{{f}}}"))
            .collect::<Vec<_>>()
            .join(" ")
            + "\n",
    )
    .unwrap();
    // describe-network-interfaces, as the CLI prints it (the fields suggest reads, and some).
    let interfaces: Vec<serde_json::Value> = INTERFACES
        .iter()
        .map(|i| {
            let v6 = i.ip.contains(':');
            serde_json::json!({
                "AvailabilityZone": "us-east-1a",
                "Description": format!("{} interface", i.groups.first().unwrap_or(&"nat")),
                "Groups": i.groups.iter().map(|g| serde_json::json!({"GroupId": group_id(g), "GroupName": g})).collect::<Vec<_>>(),
                "InterfaceType": i.kind,
                "Ipv6Addresses": if v6 { vec![serde_json::json!({"Ipv6Address": i.ip})] } else { vec![] },
                "NetworkInterfaceId": i.id,
                "OwnerId": ACCOUNT,
                "PrivateIpAddress": if v6 { "10.0.0.12" } else { i.ip },
                "PrivateIpAddresses": if v6 { vec![serde_json::json!({"Primary": true, "PrivateIpAddress": "10.0.0.12"})] } else { vec![serde_json::json!({"Primary": true, "PrivateIpAddress": i.ip})] },
                "Status": "in-use",
                "SubnetId": i.subnet,
                "VpcId": VPC,
            })
        })
        .collect();
    let document = serde_json::json!({ "NetworkInterfaces": interfaces });
    fs::write(
        out.join("interfaces.json"),
        serde_json::to_string_pretty(&document).unwrap() + "\n",
    )
    .unwrap();

    // terraform show -json: the groups, root and module.monitoring.
    let resource = |g: &Group| {
        let address = if g.module.is_empty() {
            format!("aws_security_group.{}", g.name)
        } else {
            format!("{}.{}", g.module, g.resource)
        };
        serde_json::json!({
            "address": address,
            "mode": "managed",
            "type": "aws_security_group",
            "name": if g.module.is_empty() { g.name } else { "this" },
            "provider_name": "registry.terraform.io/hashicorp/aws",
            "schema_version": 1,
            "values": { "id": g.id, "name": g.name, "vpc_id": VPC },
        })
    };
    let root: Vec<_> = GROUPS
        .iter()
        .filter(|g| g.module.is_empty())
        .map(resource)
        .collect();
    let child: Vec<_> = GROUPS
        .iter()
        .filter(|g| !g.module.is_empty())
        .map(resource)
        .collect();
    let state = serde_json::json!({
        "format_version": "1.0",
        "terraform_version": "1.15.5",
        "values": { "root_module": {
            "resources": root,
            "child_modules": [{ "address": "module.monitoring", "resources": child }],
        }},
    });
    fs::write(
        out.join("state.json"),
        serde_json::to_string_pretty(&state).unwrap() + "\n",
    )
    .unwrap();

    // The Terraform tree that declares the groups.
    let tf = out.join("tf");
    fs::create_dir_all(tf.join("modules/monitoring")).unwrap();
    let mut main = String::from(
        "# The groups of the flow-log topology (examples/flowlogs.rs).\n\nvariable \"vpc_id\" {\n  type    = string\n  default = \"vpc-0a1b2c3d4e5f60718\"\n}\n",
    );
    for g in GROUPS.iter().filter(|g| g.module.is_empty()) {
        let _ = write!(
            main,
            "\nresource \"aws_security_group\" \"{0}\" {{\n  name   = \"{0}\"\n  vpc_id = var.vpc_id\n}}\n",
            g.name
        );
    }
    main.push_str("\nmodule \"monitoring\" {\n  source = \"./modules/monitoring\"\n  vpc_id = var.vpc_id\n}\n");
    fs::write(tf.join("main.tf"), main).unwrap();
    fs::write(
        tf.join("modules/monitoring/main.tf"),
        "variable \"vpc_id\" {\n  type = string\n}\n\nresource \"aws_security_group\" \"this\" {\n  name   = \"monitoring\"\n  vpc_id = var.vpc_id\n}\n",
    )
    .unwrap();

    let mut expected: Vec<&str> = edges.iter().filter_map(|e| e.expected.as_deref()).collect();
    expected.sort();
    fs::write(
        out.join("expected-connections.txt"),
        expected.join("\n") + "\n",
    )
    .unwrap();
    let mut bytes = 0;
    for entry in walk(&out.join("logs")) {
        bytes += fs::metadata(entry).unwrap().len();
    }
    fs::write(
        out.join("manifest.txt"),
        format!("records={records}\nfile_bytes={bytes}\nfive_tuples={five_tuples}\n"),
    )
    .unwrap();
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
