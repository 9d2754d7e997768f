//! Flow-log files into one [`FlowTable`]: every file read on its own core (rayon), gzip
//! decoded on the fly, one line at a time. A record whose opener its ports tell (a server
//! port of a lower class than the client's) is folded at once into its connection, client
//! port dropped, so memory grows with the number of connections, not with client ports;
//! only flows whose two ports are of one class keep both until every record is read. A
//! malformed line is counted and remembered with its file and line; it stops nothing.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::Serialize;

pub use super::flow::{FlowKey, FlowStats, Opened};
use super::flow::{has_ports, opened_by_source, syn_flags};
use super::format::{FlowDirection, LogFormat, ParsedLine, Record};
use super::interfaces::{Interface, Interfaces};

/// A line that could not be read.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Malformed {
    pub path: String,
    pub line: u64,
    pub reason: String,
}

/// Remembered per file: the rest are counted only.
const MALFORMED_KEPT: usize = 10;

/// An address no interface has, seen as the own address of the interface that logged a
/// record (an interface since replaced): that interface and its subnet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub interface: String,
    pub subnet: Option<String>,
}

#[derive(Debug, Default)]
pub struct FlowTable {
    /// Connections whose opener each record told (client ports folded away).
    pub opened: FxHashMap<Opened, FlowStats>,
    /// Flows whose opener waits for every record: both ports kept.
    pub flows: FxHashMap<FlowKey, FlowStats>,
    /// Addresses of no known interface, by (VPC, address), where a record was logged.
    pub seen: FxHashMap<(u16, IpAddr), Seen>,
    /// Addresses of AWS services (`pkt-*-aws-service`): the service's name.
    pub services: FxHashMap<IpAddr, String>,
    /// The first `region` a record named.
    pub region: Option<String>,
    pub summary: ReadSummary,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct ReadSummary {
    pub files: usize,
    /// Bytes read from disk (compressed where the file is).
    pub file_bytes: u64,
    pub records: u64,
    /// NODATA and SKIPDATA records.
    pub nodata: u64,
    pub malformed: u64,
    pub malformed_lines: Vec<Malformed>,
    /// Whether any file's format had `tcp-flags`.
    pub tcp_flags: bool,
}

impl FlowTable {
    pub fn add(&mut self, key: FlowKey, stats: &FlowStats) {
        let srcport_opened = if has_ports(key.protocol) {
            opened_by_source(key.srcport, key.dstport, stats.syn, stats.synack)
        } else {
            None
        };
        match srcport_opened {
            Some(source_opened) => {
                let (client, server, port) = if source_opened {
                    (key.src, key.dst, key.dstport)
                } else {
                    (key.dst, key.src, key.srcport)
                };
                let opened = Opened {
                    vpc: key.vpc,
                    client,
                    server,
                    protocol: key.protocol,
                    port: Some(port),
                };
                self.opened.entry(opened).or_default().merge(stats);
            }
            None => self.flows.entry(key).or_default().merge(stats),
        }
    }

    fn merge(mut self, mut other: FlowTable) -> FlowTable {
        if other.flows.len() + other.opened.len() > self.flows.len() + self.opened.len() {
            std::mem::swap(&mut self, &mut other);
        }
        for (key, stats) in &other.flows {
            self.flows.entry(*key).or_default().merge(stats);
        }
        for (key, stats) in &other.opened {
            self.opened.entry(*key).or_default().merge(stats);
        }
        for (key, seen) in other.seen {
            self.seen.entry(key).or_insert(seen);
        }
        for (address, service) in other.services {
            self.services.entry(address).or_insert(service);
        }
        self.region = self.region.take().or(other.region);
        let (a, b) = (&mut self.summary, other.summary);
        a.files += b.files;
        a.file_bytes += b.file_bytes;
        a.records += b.records;
        a.nodata += b.nodata;
        a.malformed += b.malformed;
        a.malformed_lines.extend(b.malformed_lines);
        a.tcp_flags |= b.tcp_flags;
        self
    }

    /// Counts a line that could not be read, and remembers the first of each file.
    pub fn malformed(&mut self, path: &str, line: u64, reason: String) {
        self.summary.malformed += 1;
        let kept = self
            .summary
            .malformed_lines
            .iter()
            .filter(|m| m.path == path)
            .count();
        if kept < MALFORMED_KEPT {
            self.summary.malformed_lines.push(Malformed {
                path: path.to_string(),
                line,
                reason,
            });
        }
    }

    /// Where an interface no file lists logged a flow, one of its ends is that interface's
    /// own address (a known interface forwards too: a NAT gateway logs the flows it
    /// translates): remembered with the interface and its subnet, for the "interface gone"
    /// list and the subnet lookup.
    pub fn note_logged_at(
        &mut self,
        interfaces: &Interfaces,
        vpc: u16,
        [(src, src_interface), (dst, dst_interface)]: [(IpAddr, Option<&Interface>); 2],
        logged: Option<&str>,
        direction: Option<FlowDirection>,
        subnet: Option<&str>,
    ) {
        let Some(logged) = logged.filter(|logged| interfaces.by_id(logged).is_none()) else {
            return;
        };
        let own = match (direction, src_interface, dst_interface) {
            (Some(FlowDirection::Egress), None, _) => Some(src),
            (Some(FlowDirection::Ingress), _, None) => Some(dst),
            (None, None, Some(other)) if other.id != logged => Some(src),
            (None, Some(other), None) if other.id != logged => Some(dst),
            _ => None,
        };
        if let Some(own) = own {
            self.seen.entry((vpc, own)).or_insert_with(|| Seen {
                interface: logged.to_string(),
                subnet: subnet.map(str::to_string),
            });
        }
    }

    pub fn record(&mut self, record: &Record, interfaces: &Interfaces) {
        // The packet's own addresses, where the format has them: a NAT gateway's or a transit
        // gateway's interface is in between, not an end.
        let record = &Record {
            src: record.pkt_src.unwrap_or(record.src),
            dst: record.pkt_dst.unwrap_or(record.dst),
            ..record.clone()
        };
        for (address, service) in [
            (record.src, record.src_service),
            (record.dst, record.dst_service),
        ] {
            if let Some(service) = service.filter(|s| *s != "-") {
                self.services
                    .entry(address)
                    .or_insert_with(|| service.to_string());
            }
        }
        if self.region.is_none() {
            self.region = record.region.map(str::to_string);
        }
        // The record's VPC: its `vpc-id`, else its interface's.
        let vpc = record
            .vpc
            .map(|vpc| interfaces.vpc_index(vpc))
            .filter(|index| *index != 0)
            .or_else(|| {
                let interface = interfaces.by_id(record.interface?)?;
                Some(interfaces.vpc_index(&interface.vpc))
            })
            .unwrap_or(0);
        let src_interface = interfaces.of(vpc, &record.src);
        let dst_interface = interfaces.of(vpc, &record.dst);
        let counted = Interfaces::counted(
            src_interface,
            dst_interface,
            record.interface,
            record.direction,
        );
        self.note_logged_at(
            interfaces,
            vpc,
            [(record.src, src_interface), (record.dst, dst_interface)],
            record.interface,
            record.direction,
            record.subnet,
        );
        let (syn, synack) = syn_flags(record.tcp_flags);
        let stats = FlowStats {
            records: u64::from(counted),
            packets: if counted { record.packets } else { 0 },
            bytes: if counted { record.bytes } else { 0 },
            first: if record.start != 0 {
                record.start
            } else {
                u64::MAX
            },
            last: record.end,
            syn,
            synack,
            rejected: u64::from(!record.accepted),
        };
        let key = FlowKey {
            vpc,
            src: record.src,
            dst: record.dst,
            srcport: record.srcport,
            dstport: record.dstport,
            protocol: record.protocol,
        };
        self.add(key, &stats);
    }
}

/// The files under each path: a file as it is, a directory walked (sorted, hidden entries
/// skipped). A path that does not exist is an error.
pub fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let walk = walkdir::WalkDir::new(path)
                .sort_by_file_name()
                .into_iter()
                .filter_entry(|entry| {
                    entry.depth() == 0 || !entry.file_name().to_string_lossy().starts_with('.')
                });
            for entry in walk {
                let entry = entry.map_err(|error| format!("{}: {error}", path.display()))?;
                if entry.file_type().is_file() {
                    files.push(entry.into_path());
                }
            }
        } else if path.exists() {
            files.push(path.clone());
        } else {
            return Err(format!("{}: no such file or directory", path.display()));
        }
    }
    Ok(files)
}

/// Reads every file, on all cores. `log_format`: the format of files without a header
/// (CloudWatch Logs exports); the default format otherwise.
pub fn read_files(
    files: &[PathBuf],
    log_format: Option<&LogFormat>,
    interfaces: &Interfaces,
) -> FlowTable {
    let mut table = files
        .par_iter()
        .map(|path| read_file(path, log_format, interfaces))
        .reduce(FlowTable::default, FlowTable::merge);
    table
        .summary
        .malformed_lines
        .sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    table
}

fn read_file(path: &Path, log_format: Option<&LogFormat>, interfaces: &Interfaces) -> FlowTable {
    let mut table = FlowTable::default();
    table.summary.files = 1;
    let shown = path.display().to_string();
    let malformed = |table: &mut FlowTable, line: u64, reason: String| {
        table.summary.malformed += 1;
        if table.summary.malformed_lines.len() < MALFORMED_KEPT {
            table.summary.malformed_lines.push(Malformed {
                path: shown.clone(),
                line,
                reason,
            });
        }
    };
    if is_parquet(path) {
        read_parquet(path, &mut table, interfaces);
        return table;
    }
    let mut reader = match open(path) {
        Ok((reader, size)) => {
            table.summary.file_bytes = size;
            reader
        }
        Err(error) => {
            malformed(&mut table, 0, format!("cannot read the file: {error}"));
            return table;
        }
    };
    let mut format: Option<LogFormat> = None;
    let mut buffer = Vec::with_capacity(512);
    // Scratch for a line's fields, reused: emptied, it holds no borrow of the line.
    let mut spare: Vec<&'static str> = Vec::with_capacity(32);
    let mut number = 0u64;
    loop {
        buffer.clear();
        match reader.read_until(b'\n', &mut buffer) {
            Ok(0) => break,
            Ok(_) => {}
            Err(error) => {
                malformed(&mut table, number + 1, format!("cannot read on: {error}"));
                break;
            }
        }
        number += 1;
        while buffer.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            buffer.pop();
        }
        if buffer.is_empty() {
            continue;
        }
        let Ok(line) = std::str::from_utf8(&buffer) else {
            malformed(&mut table, number, "not UTF-8 text".to_string());
            continue;
        };
        let format = match &format {
            Some(format) => format,
            None => {
                if line.trim_start().starts_with(['{', '[']) {
                    malformed(
                        &mut table,
                        number,
                        "JSON, not flow-log records (from `aws logs filter-log-events`? \
                         write the events' messages one a line: \
                         jq -r '.events[].message')"
                            .to_string(),
                    );
                    return table;
                }
                // The first line: a header names the fields, else the given or default format.
                match LogFormat::from_header(line) {
                    Some(Ok(header)) => {
                        format = Some(header);
                        table.summary.tcp_flags |=
                            format.as_ref().is_some_and(LogFormat::has_tcp_flags);
                        continue;
                    }
                    Some(Err(message)) => {
                        malformed(&mut table, number, format!("header: {message}"));
                        return table;
                    }
                    None => {
                        format = Some(log_format.cloned().unwrap_or_else(LogFormat::default_v2));
                        table.summary.tcp_flags |=
                            format.as_ref().is_some_and(LogFormat::has_tcp_flags);
                        format.as_ref().unwrap_or_else(|| unreachable!())
                    }
                }
            }
        };
        let mut fields: Vec<&str> = std::mem::take(&mut spare);
        match format.parse(line, &mut fields) {
            ParsedLine::Record(record) => {
                table.summary.records += 1;
                table.record(&record, interfaces);
            }
            ParsedLine::NoData => table.summary.nodata += 1,
            ParsedLine::Malformed(reason) => malformed(&mut table, number, reason),
        }
        fields.clear();
        // Collecting an empty vector into one of the same layout keeps its allocation.
        spare = fields.into_iter().map(|_| "").collect();
    }
    table
}

/// Whether the file starts with Parquet's magic bytes.
fn is_parquet(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    File::open(path)
        .and_then(|mut file| file.read_exact(&mut magic))
        .is_ok_and(|()| &magic == b"PAR1")
}

#[cfg(feature = "parquet")]
fn read_parquet(path: &Path, table: &mut FlowTable, interfaces: &Interfaces) {
    table.summary.file_bytes = std::fs::metadata(path).map_or(0, |m| m.len());
    super::parquet::read(path, table, interfaces);
}

#[cfg(not(feature = "parquet"))]
fn read_parquet(path: &Path, table: &mut FlowTable, _: &Interfaces) {
    table.malformed(
        &path.display().to_string(),
        0,
        "a Parquet file: this mutualsg was built without the `parquet` feature \
         (cargo install mutualsg --features parquet), or deliver the flow log as text"
            .to_string(),
    );
}

/// The file as lines, decompressed when it starts with gzip's magic bytes; and its size.
fn open(path: &Path) -> std::io::Result<(Box<dyn BufRead>, u64)> {
    let mut file = File::open(path)?;
    let size = file.metadata()?.len();
    let mut magic = [0u8; 2];
    let mut got = 0;
    while got < 2 {
        match file.read(&mut magic[got..])? {
            0 => break,
            n => got += n,
        }
    }
    let head = std::io::Cursor::new(magic[..got].to_vec());
    let stream = head.chain(file);
    const CAPACITY: usize = 256 * 1024;
    Ok(if magic[..got] == [0x1f, 0x8b] {
        let decoder = MultiGzDecoder::new(BufReader::with_capacity(CAPACITY, stream));
        (Box::new(BufReader::with_capacity(CAPACITY, decoder)), size)
    } else {
        (Box::new(BufReader::with_capacity(CAPACITY, stream)), size)
    })
}
