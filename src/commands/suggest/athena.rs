//! `--athena-sql TABLE`: the aggregation the streaming reader does, as one Amazon Athena
//! (Trino) query over the flow-log table AWS documents (columns named as the fields, `-`
//! written `_`), so a month of an organisation's logs is reduced where it lives. Its result,
//! downloaded as CSV, is what `--flows-csv` reads.
//!
//! The rows are grouped by interface as well as by flow, so that the reader can count each
//! flow's traffic at one interface only, exactly as it does when it reads the records. As
//! the reader does, the client's port is folded away (written 65535, an ephemeral port)
//! where the ports' classes tell the server and the record's TCP flags do not say
//! otherwise, so the result has a row per connection, not per client port. The
//! SQL is plain: `count`, `sum`, `min`, `max`, `CASE` and `%` (bit tests on `tcp_flags`
//! without `bitwise_and`, which not every engine spells the same way).

use super::format::LogFormat;

/// Whether `table` is a plain (optionally qualified) name: it is written into the query.
pub fn valid_table(table: &str) -> bool {
    !table.is_empty()
        && table.split('.').all(|part| {
            !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

pub fn sql(table: &str, format: &LogFormat) -> String {
    let column = |field: &str| format!("\"{}\"", field.replace('-', "_"));
    let mut keys = Vec::new();
    if format.has("interface-id") {
        keys.push(column("interface-id"));
    }
    if format.has("flow-direction") {
        keys.push(column("flow-direction"));
    }
    // VPCs may reuse addresses: the reader looks each address up in its record's VPC.
    if format.has("vpc-id") {
        keys.push(column("vpc-id"));
    }
    // The subnet of the interface that logged a row: where that interface is gone, its
    // address is looked up in the subnets of `--interfaces` or `--subnets`.
    if format.has("subnet-id") {
        keys.push(column("subnet-id"));
    }
    // The port classes of `flow::port_class`; a record's SYN (2 without 16) or SYN-ACK (16).
    let class = |port: &str| {
        format!("(CASE WHEN {port} < 1024 THEN 0 WHEN {port} < 32768 THEN 1 ELSE 2 END)")
    };
    let (srcport, dstport) = (column("srcport"), column("dstport"));
    let (syn, synack) = if format.has("tcp-flags") {
        let flags = column("tcp-flags");
        (
            format!(" AND NOT coalesce({flags} % 4 >= 2 AND {flags} % 32 < 16, false)"),
            format!(" AND NOT coalesce({flags} % 32 >= 16, false)"),
        )
    } else {
        (String::new(), String::new())
    };
    let ported = format!("{} IN (6, 17)", column("protocol"));
    let folded = |own: &str, other: &str, contradicted: &str| {
        format!(
            "CASE WHEN {ported} AND {} > {}{contradicted} THEN 65535 ELSE {own} END",
            class(own),
            class(other)
        )
    };
    let mut grouped = keys.clone();
    let mut select: Vec<String> = keys.clone();
    // The packet's own addresses where the table has them, as the reader takes them: a NAT
    // gateway's or a transit gateway's interface is in between, not an end (`-` in a text
    // table, NULL in Parquet).
    for (field, packet) in [("srcaddr", "pkt-srcaddr"), ("dstaddr", "pkt-dstaddr")] {
        let address = if format.has(packet) {
            format!(
                "coalesce(nullif({}, '-'), {})",
                column(packet),
                column(field)
            )
        } else {
            column(field)
        };
        select.push(if format.has(packet) {
            format!("{address} AS {field}")
        } else {
            address.clone()
        });
        grouped.push(address);
    }
    let src_folded = folded(&srcport, &dstport, &synack);
    let dst_folded = folded(&dstport, &srcport, &syn);
    select.push(format!("{src_folded} AS srcport"));
    select.push(format!("{dst_folded} AS dstport"));
    grouped.push(src_folded);
    grouped.push(dst_folded);
    for field in ["protocol", "action"] {
        grouped.push(column(field));
        select.push(column(field));
    }
    keys = grouped;
    select.push("count(*) AS records".to_string());
    for (field, name, function) in [
        ("packets", "packets", "sum"),
        ("bytes", "bytes", "sum"),
        ("start", "first", "min"),
        ("end", "last", "max"),
    ] {
        if format.has(field) {
            select.push(format!("{function}({}) AS {name}", column(field)));
        }
    }
    // An address's AWS service, and the region of the records (for the prefix list's name).
    for field in ["pkt-src-aws-service", "pkt-dst-aws-service", "region"] {
        if format.has(field) {
            let name = field.replace('-', "_");
            select.push(format!("max(nullif({}, '-')) AS {name}", column(field)));
        }
    }
    if format.has("tcp-flags") {
        let flags = column("tcp-flags");
        // SYN is 2, SYN-ACK 18 (AWS records no plain ACK): bit 1 without bit 4 is the opener's.
        select.push(format!(
            "max(CASE WHEN {flags} % 4 >= 2 AND {flags} % 32 < 16 THEN 1 ELSE 0 END) AS syn"
        ));
        select.push(format!(
            "max(CASE WHEN {flags} % 32 >= 16 THEN 1 ELSE 0 END) AS synack"
        ));
    }
    let filter = if format.has("log-status") {
        format!("{} = 'OK'", column("log-status"))
    } else {
        format!("{} IS NOT NULL", column("srcaddr"))
    };
    let indent = |items: &[String]| items.join(",\n  ");
    format!(
        "-- mutualsg suggest --athena-sql: flow-log records reduced to flows. Run it in Athena,\n\
         -- download the result as CSV, and pass it to `mutualsg suggest --flows-csv FILE`.\n\
         -- Add a partition filter (the days of your window) to the WHERE clause.\n\
         SELECT\n  {}\nFROM {table}\nWHERE {filter}\nGROUP BY\n  {}\nORDER BY {}\n",
        indent(&select),
        indent(&keys),
        (1..=keys.len())
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_and_columns() {
        assert!(valid_table("flowlogs.vpc_flow_logs"));
        assert!(!valid_table("x; DROP TABLE y"));
        let text = sql("vpc_flow_logs", &LogFormat::default_v2());
        assert!(text.contains("max(\"end\") AS last"));
        assert!(text.contains("\"log_status\" = 'OK'"));
        assert!(!text.contains("syn"));
        let format = LogFormat::from_log_format(
            "${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${action} ${pkt-srcaddr} ${pkt-dst-aws-service}",
        )
        .unwrap();
        let text = sql("t", &format);
        assert!(text.contains("coalesce(nullif(\"pkt_srcaddr\", '-'), \"srcaddr\") AS srcaddr"));
        assert!(text.contains("\"dstaddr\",\n"));
        assert!(text.contains("max(nullif(\"pkt_dst_aws_service\", '-')) AS pkt_dst_aws_service"));
    }
}
