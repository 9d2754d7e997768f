//! `--flows-csv FILE`: the result of the `--athena-sql` query, as Athena writes it (a header
//! row, every value quoted), read into the same flow table as the records would be.

use std::io::BufRead;
use std::net::IpAddr;

use super::format::FlowDirection;
use super::interfaces::Interfaces;
use super::read::{FlowKey, FlowStats, FlowTable, Malformed};

/// The fields of one CSV line (quotes removed, `""` inside quotes is one quote).
fn fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    out.push(field);
    out
}

/// Reads the CSV; a line that cannot be read is kept as malformed. `Err` when the header
/// lacks a column the reader needs.
pub fn read(
    reader: impl BufRead,
    path: &str,
    interfaces: &Interfaces,
) -> Result<FlowTable, String> {
    let mut table = FlowTable::default();
    table.summary.files = 1;
    let mut lines = reader.lines().enumerate();
    let header = match lines.next() {
        Some((_, Ok(line))) => fields(line.trim_end_matches('\r')),
        Some((_, Err(error))) => return Err(error.to_string()),
        None => return Err("the file is empty".to_string()),
    };
    let at = |name: &str| header.iter().position(|h| h.trim() == name);
    let need = |name: &str| at(name).ok_or_else(|| format!("no `{name}` column in the header"));
    let src = need("srcaddr")?;
    let dst = need("dstaddr")?;
    let srcport = need("srcport")?;
    let dstport = need("dstport")?;
    let protocol = need("protocol")?;
    let action = need("action")?;
    let records = need("records")?;
    let (interface, direction, vpc) = (at("interface_id"), at("flow_direction"), at("vpc_id"));
    let subnet = at("subnet_id");
    let (packets, bytes, first, last) = (at("packets"), at("bytes"), at("first"), at("last"));
    let (syn, synack) = (at("syn"), at("synack"));
    let services = [at("pkt_src_aws_service"), at("pkt_dst_aws_service")];
    let region = at("region");
    table.summary.tcp_flags = syn.is_some();
    for (index, line) in lines {
        let number = index as u64 + 1;
        let line = match line {
            Ok(line) => line,
            Err(error) => {
                table.summary.malformed += 1;
                table.summary.malformed_lines.push(Malformed {
                    path: path.to_string(),
                    line: number,
                    reason: format!("cannot read on: {error}"),
                });
                break;
            }
        };
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        let row = fields(line);
        match row_of(
            &row,
            [src, dst, srcport, dstport, protocol, action, records],
            [packets, bytes, first, last, syn, synack],
        ) {
            Ok((mut key, mut stats)) => {
                let interface = interface
                    .map(|i| row.get(i).map_or("", String::as_str))
                    .filter(|i| !i.is_empty());
                let direction = direction.and_then(|i| match row.get(i).map(String::as_str) {
                    Some("ingress") => Some(FlowDirection::Ingress),
                    Some("egress") => Some(FlowDirection::Egress),
                    _ => None,
                });
                table.summary.records += stats.records;
                let value = |column: Option<usize>| {
                    column
                        .and_then(|i| row.get(i))
                        .map(String::as_str)
                        .filter(|v| !v.is_empty() && *v != "-")
                };
                for (address, column) in [(key.src, services[0]), (key.dst, services[1])] {
                    if let Some(service) = value(column) {
                        table
                            .services
                            .entry(address)
                            .or_insert_with(|| service.to_string());
                    }
                }
                if table.region.is_none() {
                    table.region = value(region).map(str::to_string);
                }
                // The row's VPC: its `vpc_id`, else its interface's.
                key.vpc = vpc
                    .and_then(|i| row.get(i))
                    .map(|vpc| interfaces.vpc_index(vpc))
                    .filter(|index| *index != 0)
                    .or_else(|| {
                        let interface = interfaces.by_id(interface?)?;
                        Some(interfaces.vpc_index(&interface.vpc))
                    })
                    .unwrap_or(0);
                table.note_logged_at(
                    interfaces,
                    key.vpc,
                    [
                        (key.src, interfaces.of(key.vpc, &key.src)),
                        (key.dst, interfaces.of(key.vpc, &key.dst)),
                    ],
                    interface,
                    direction,
                    value(subnet),
                );
                if !interfaces.counts(key.vpc, &key.src, &key.dst, interface, direction) {
                    stats.records = 0;
                    stats.packets = 0;
                    stats.bytes = 0;
                }
                table.add(key, &stats);
            }
            Err(reason) => {
                table.summary.malformed += 1;
                if table.summary.malformed_lines.len() < 10 {
                    table.summary.malformed_lines.push(Malformed {
                        path: path.to_string(),
                        line: number,
                        reason,
                    });
                }
            }
        }
    }
    Ok(table)
}

fn row_of(
    row: &[String],
    required: [usize; 7],
    optional: [Option<usize>; 6],
) -> Result<(FlowKey, FlowStats), String> {
    let get = |index: usize, name: &str| {
        row.get(index)
            .map(String::as_str)
            .ok_or_else(|| format!("{} columns, no {name}", row.len()))
    };
    let [src, dst, srcport, dstport, protocol, action, records] = required;
    let address = |index, name| {
        let text = get(index, name)?;
        text.parse::<IpAddr>()
            .map_err(|_| format!("{name} `{text}` is not an address"))
    };
    fn number<T: std::str::FromStr>(text: &str, name: &str) -> Result<T, String> {
        text.parse()
            .map_err(|_| format!("{name} `{text}` is not a number"))
    }
    let optional_number = |index: Option<usize>, name: &str| -> Result<u64, String> {
        match index.and_then(|i| row.get(i)).map(String::as_str) {
            None | Some("") => Ok(0),
            Some(text) => number(text, name),
        }
    };
    let accepted = match get(action, "action")? {
        "ACCEPT" => true,
        "REJECT" => false,
        other => return Err(format!("action `{other}`")),
    };
    let key = FlowKey {
        vpc: 0,
        src: address(src, "srcaddr")?,
        dst: address(dst, "dstaddr")?,
        srcport: number(get(srcport, "srcport")?, "srcport")?,
        dstport: number(get(dstport, "dstport")?, "dstport")?,
        protocol: number(get(protocol, "protocol")?, "protocol")?,
    };
    let [packets, bytes, first, last, syn, synack] = optional;
    let first = optional_number(first, "first")?;
    let records = number(get(records, "records")?, "records")?;
    let stats = FlowStats {
        records,
        rejected: if accepted { 0 } else { records },
        packets: optional_number(packets, "packets")?,
        bytes: optional_number(bytes, "bytes")?,
        first: if first == 0 { u64::MAX } else { first },
        last: optional_number(last, "last")?,
        syn: optional_number(syn, "syn")? != 0,
        synack: optional_number(synack, "synack")? != 0,
    };
    Ok((key, stats))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_athena_csv() {
        let csv = "\"interface_id\",\"srcaddr\",\"dstaddr\",\"srcport\",\"dstport\",\"protocol\",\"action\",\"records\",\"bytes\"\n\
                   \"eni-1\",\"10.0.0.1\",\"10.0.0.2\",\"40000\",\"443\",\"6\",\"ACCEPT\",\"3\",\"900\"\n\
                   \"eni-1\",\"10.0.0.1\",\"nope\",\"40000\",\"443\",\"6\",\"ACCEPT\",\"3\",\"900\"\n";
        let table = read(csv.as_bytes(), "f.csv", &Interfaces::default()).unwrap();
        // 443 serves 40000: folded into its connection as it is read.
        assert_eq!(table.opened.len(), 1);
        assert!(table.flows.is_empty());
        assert_eq!(table.summary.malformed_lines[0].line, 3);
        assert!(read("\"a\"\n".as_bytes(), "f.csv", &Interfaces::default()).is_err());
    }
}
