//! Flow-log records as AWS writes them: the fields of a format (the default, version 2, or a
//! custom one), and one line read into a [`Record`].
//!
//! A format is the list of field names: from the header line of a file delivered to S3
//! (`version account-id interface-id ...`), or from the format string of the flow log's
//! definition (`${version} ${account-id} ...`, `--log-format`) for CloudWatch Logs exports,
//! which have no header. Fields are separated by single spaces; a field with no value is
//! `-` (NODATA and SKIPDATA records have `-` in most fields).

use std::net::IpAddr;

/// The default format (version 2), in order.
pub const DEFAULT_FIELDS: [&str; 14] = [
    "version",
    "account-id",
    "interface-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "action",
    "log-status",
];

/// Every field AWS documents (versions 2 to 10); a header naming another field is still read
/// (AWS adds fields), but a format string with one is probably a typo and is refused.
pub const KNOWN_FIELDS: [&str; 42] = [
    "version",
    "account-id",
    "interface-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "action",
    "log-status",
    "vpc-id",
    "subnet-id",
    "instance-id",
    "tcp-flags",
    "type",
    "pkt-srcaddr",
    "pkt-dstaddr",
    "region",
    "az-id",
    "sublocation-type",
    "sublocation-id",
    "pkt-src-aws-service",
    "pkt-dst-aws-service",
    "flow-direction",
    "traffic-path",
    "ecs-cluster-arn",
    "ecs-cluster-name",
    "ecs-container-instance-arn",
    "ecs-container-instance-id",
    "ecs-container-id",
    "ecs-second-container-id",
    "ecs-service-name",
    "ecs-task-definition-arn",
    "ecs-task-arn",
    "ecs-task-id",
    "reject-reason",
    "resource-id",
    "encryption-status",
];

/// The fields a record must have to be of use: who talked to whom, how, and whether it was
/// let through.
const REQUIRED: [&str; 6] = [
    "srcaddr", "dstaddr", "srcport", "dstport", "protocol", "action",
];

/// Where each field mutualsg reads sits in a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFormat {
    pub fields: Vec<String>,
    pub count: usize,
    interface: Option<usize>,
    vpc: Option<usize>,
    subnet: Option<usize>,
    src: usize,
    dst: usize,
    srcport: usize,
    dstport: usize,
    protocol: usize,
    packets: Option<usize>,
    bytes: Option<usize>,
    start: Option<usize>,
    end: Option<usize>,
    action: usize,
    status: Option<usize>,
    tcp_flags: Option<usize>,
    direction: Option<usize>,
    pkt_src: Option<usize>,
    pkt_dst: Option<usize>,
    src_service: Option<usize>,
    dst_service: Option<usize>,
    region: Option<usize>,
}

impl LogFormat {
    pub fn default_v2() -> LogFormat {
        LogFormat::from_fields(DEFAULT_FIELDS.iter().map(|f| f.to_string()).collect())
            .expect("the default format has every required field")
    }

    /// A format from its field names, or the names of the required fields it lacks.
    pub fn from_fields(fields: Vec<String>) -> Result<LogFormat, String> {
        let at = |name: &str| fields.iter().position(|field| field == name);
        let missing: Vec<&str> = REQUIRED.into_iter().filter(|f| at(f).is_none()).collect();
        if !missing.is_empty() {
            return Err(format!("the format has no {}", missing.join(", ")));
        }
        let need = |name: &str| at(name).unwrap_or_default();
        Ok(LogFormat {
            count: fields.len(),
            interface: at("interface-id"),
            vpc: at("vpc-id"),
            subnet: at("subnet-id"),
            src: need("srcaddr"),
            dst: need("dstaddr"),
            srcport: need("srcport"),
            dstport: need("dstport"),
            protocol: need("protocol"),
            packets: at("packets"),
            bytes: at("bytes"),
            start: at("start"),
            end: at("end"),
            action: need("action"),
            status: at("log-status"),
            tcp_flags: at("tcp-flags"),
            direction: at("flow-direction"),
            pkt_src: at("pkt-srcaddr"),
            pkt_dst: at("pkt-dstaddr"),
            src_service: at("pkt-src-aws-service"),
            dst_service: at("pkt-dst-aws-service"),
            region: at("region"),
            fields,
        })
    }

    /// The format string of a flow log's definition: `${field} ${field} ...`.
    pub fn from_log_format(text: &str) -> Result<LogFormat, String> {
        let mut fields = Vec::new();
        for token in text.split_whitespace() {
            let name = token
                .strip_prefix("${")
                .and_then(|rest| rest.strip_suffix('}'))
                .ok_or_else(|| format!("`{token}` is not a `${{field}}`"))?;
            if !KNOWN_FIELDS.contains(&name) {
                return Err(format!("`{name}` is not a flow-log field"));
            }
            fields.push(name.to_string());
        }
        if fields.is_empty() {
            return Err("the format string names no field".to_string());
        }
        LogFormat::from_fields(fields)
    }

    /// A header line (`version account-id ...`): every token a field name. `None` when the
    /// line is a record, not a header.
    pub fn from_header(line: &str) -> Option<Result<LogFormat, String>> {
        let tokens: Vec<&str> = line.split_ascii_whitespace().collect();
        let is_name = |token: &&str| {
            token.starts_with(|c: char| c.is_ascii_lowercase())
                && token
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        };
        let names = !tokens.is_empty()
            && tokens.iter().all(is_name)
            && tokens.iter().any(|token| KNOWN_FIELDS.contains(token));
        names.then(|| LogFormat::from_fields(tokens.iter().map(|t| t.to_string()).collect()))
    }

    pub fn has_tcp_flags(&self) -> bool {
        self.tcp_flags.is_some()
    }

    pub fn has(&self, field: &str) -> bool {
        self.fields.iter().any(|f| f == field)
    }

    /// Reads one line. `fields` is scratch space, reused from line to line.
    pub fn parse<'a>(&self, line: &'a str, fields: &mut Vec<&'a str>) -> ParsedLine<'a> {
        fields.clear();
        fields.extend(line.split(' ').filter(|field| !field.is_empty()));
        // CloudWatch Logs exports put the event's timestamp before the message.
        if fields.len() == self.count + 1 && is_timestamp(fields[0]) {
            fields.remove(0);
        }
        if fields.len() != self.count {
            return ParsedLine::Malformed(format!(
                "{} fields, the format has {}",
                fields.len(),
                self.count
            ));
        }
        if let Some(status) = self.status {
            match fields[status] {
                "OK" => {}
                "NODATA" | "SKIPDATA" => return ParsedLine::NoData,
                other => return ParsedLine::Malformed(format!("log-status `{other}`")),
            }
        } else if fields[self.src] == "-" {
            return ParsedLine::NoData;
        }
        match self.record(fields) {
            Ok(record) => ParsedLine::Record(record),
            Err(message) => ParsedLine::Malformed(message),
        }
    }

    fn record<'a>(&self, fields: &[&'a str]) -> Result<Record<'a>, String> {
        let address = |at: usize, name: &str| {
            fields[at]
                .parse::<IpAddr>()
                .map_err(|_| format!("{name} `{}` is not an address", fields[at]))
        };
        let port = |at: usize, name: &str| match fields[at] {
            "-" => Ok(0),
            text => text
                .parse::<u16>()
                .map_err(|_| format!("{name} `{text}` is not a port")),
        };
        let number = |at: Option<usize>, name: &str| match at.map(|at| fields[at]) {
            None | Some("-") => Ok(0),
            Some(text) => text
                .parse::<u64>()
                .map_err(|_| format!("{name} `{text}` is not a number")),
        };
        let protocol = fields[self.protocol]
            .parse::<u8>()
            .map_err(|_| format!("protocol `{}` is not a number", fields[self.protocol]))?;
        let accepted = match fields[self.action] {
            "ACCEPT" => true,
            "REJECT" => false,
            other => return Err(format!("action `{other}`")),
        };
        let tcp_flags = match self.tcp_flags.map(|at| fields[at]) {
            None | Some("-") => None,
            Some(text) => Some(
                text.parse::<u16>()
                    .map_err(|_| format!("tcp-flags `{text}` is not a number"))?,
            ),
        };
        let direction = match self.direction.map(|at| fields[at]) {
            Some("ingress") => Some(FlowDirection::Ingress),
            Some("egress") => Some(FlowDirection::Egress),
            None | Some("-") => None,
            Some(other) => return Err(format!("flow-direction `{other}`")),
        };
        let text = |at: Option<usize>| at.map(|at| fields[at]).filter(|value| *value != "-");
        Ok(Record {
            interface: text(self.interface),
            vpc: text(self.vpc),
            subnet: text(self.subnet),
            src: address(self.src, "srcaddr")?,
            dst: address(self.dst, "dstaddr")?,
            srcport: port(self.srcport, "srcport")?,
            dstport: port(self.dstport, "dstport")?,
            protocol,
            packets: number(self.packets, "packets")?,
            bytes: number(self.bytes, "bytes")?,
            start: number(self.start, "start")?,
            end: number(self.end, "end")?,
            accepted,
            tcp_flags,
            direction,
            pkt_src: self.pkt_src.and_then(|at| fields[at].parse().ok()),
            pkt_dst: self.pkt_dst.and_then(|at| fields[at].parse().ok()),
            src_service: text(self.src_service),
            dst_service: text(self.dst_service),
            region: text(self.region),
        })
    }
}

/// `2026-11-01T10:00:00.000Z`: the timestamp a CloudWatch Logs export puts first.
fn is_timestamp(token: &str) -> bool {
    let bytes = token.as_bytes();
    bytes.len() >= 20
        && bytes[4] == b'-'
        && bytes[10] == b'T'
        && bytes[..4].iter().all(u8::is_ascii_digit)
        && token.ends_with('Z')
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowDirection {
    Ingress,
    Egress,
}

/// One flow-log record: the traffic of one flow at one interface in one aggregation window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record<'a> {
    pub interface: Option<&'a str>,
    pub vpc: Option<&'a str>,
    pub subnet: Option<&'a str>,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub srcport: u16,
    pub dstport: u16,
    pub protocol: u8,
    pub packets: u64,
    pub bytes: u64,
    pub start: u64,
    pub end: u64,
    pub accepted: bool,
    pub tcp_flags: Option<u16>,
    /// The packet's own addresses (`pkt-srcaddr`, `pkt-dstaddr`): at a NAT gateway or a
    /// transit gateway's interface they differ from `srcaddr`/`dstaddr`, which name the
    /// interface in between.
    pub pkt_src: Option<IpAddr>,
    pub pkt_dst: Option<IpAddr>,
    /// `pkt-src-aws-service`, `pkt-dst-aws-service`: `S3`, `DYNAMODB`, `EC2`, ...
    pub src_service: Option<&'a str>,
    pub dst_service: Option<&'a str>,
    pub region: Option<&'a str>,
    pub direction: Option<FlowDirection>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum ParsedLine<'a> {
    Record(Record<'a>),
    /// NODATA or SKIPDATA: no traffic recorded, or records skipped (capacity, an error).
    NoData,
    Malformed(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(format: &LogFormat, line: &str) -> String {
        let mut scratch = Vec::new();
        format!("{:?}", format.parse(line, &mut scratch))
    }

    #[test]
    fn default_format_records() {
        let format = LogFormat::default_v2();
        let line = "2 123456789012 eni-1 10.0.1.5 10.0.2.7 49152 5432 6 10 840 1700000000 1700000060 ACCEPT OK";
        let mut scratch = Vec::new();
        let ParsedLine::Record(record) = format.parse(line, &mut scratch) else {
            panic!("{}", parse(&format, line));
        };
        assert_eq!(record.interface, Some("eni-1"));
        assert_eq!(record.dstport, 5432);
        assert_eq!(record.bytes, 840);
        assert!(record.accepted);
        let nodata = "2 123456789012 eni-1 - - - - - - - 1700000000 1700000060 - NODATA";
        assert_eq!(format.parse(nodata, &mut scratch), ParsedLine::NoData);
        assert!(parse(&format, "2 1 eni-1 10.0.1.5").contains("4 fields"));
        let bad = "2 1 eni-1 10.0.1.999 10.0.2.7 1 2 6 1 1 1 1 ACCEPT OK";
        assert!(parse(&format, bad).contains("srcaddr `10.0.1.999`"));
    }

    #[test]
    fn custom_formats_and_headers() {
        let format =
            LogFormat::from_log_format("${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${action} ${tcp-flags} ${flow-direction}")
                .unwrap();
        let mut scratch = Vec::new();
        let ParsedLine::Record(record) =
            format.parse("fd00::1 fd00::2 443 50000 6 ACCEPT 18 egress", &mut scratch)
        else {
            panic!()
        };
        assert_eq!(record.tcp_flags, Some(18));
        assert_eq!(record.direction, Some(FlowDirection::Egress));
        assert!(LogFormat::from_log_format("${srcaddr} ${bogus}").is_err());
        assert!(LogFormat::from_log_format("${srcaddr} ${dstaddr}").is_err());
        assert!(LogFormat::from_header("2 123 eni-1").is_none());
        assert_eq!(
            LogFormat::from_header(&DEFAULT_FIELDS.join(" ")),
            Some(Ok(LogFormat::default_v2()))
        );
    }

    #[test]
    fn cloudwatch_export_timestamps_are_skipped() {
        let format = LogFormat::default_v2();
        let line = "2026-11-01T10:00:05.000Z 2 1 eni-1 10.0.1.5 10.0.2.7 49152 5432 6 10 840 1 2 ACCEPT OK";
        assert!(parse(&format, line).starts_with("Record"));
    }
}
