//! `--athena-sql TABLE`: the aggregation the streaming reader does, as one Amazon Athena
//! (Trino) query over the flow-log table AWS documents (columns named as the fields, `-`
//! written `_`), so a month of an organisation's logs is reduced where it lives. Its result,
//! downloaded as CSV, is what `--flows-csv` reads.
//!
//! The rows are grouped by interface as well as by flow, so that the reader can count each
//! flow's traffic at one interface only, exactly as it does when it reads the records. The
//! SQL is plain: `count`, `sum`, `min`, `max`, `CASE` and `%` (bit tests on `tcp_flags`
//! without `bitwise_and`, which not every engine spells the same way).

use super::format::Format;

/// Whether `table` is a plain (optionally qualified) name: it is written into the query.
pub fn valid_table(table: &str) -> bool {
    !table.is_empty()
        && table.split('.').all(|part| {
            !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

pub fn sql(table: &str, format: &Format) -> String {
    let column = |field: &str| format!("\"{}\"", field.replace('-', "_"));
    let mut keys = Vec::new();
    if format.has("interface-id") {
        keys.push(column("interface-id"));
    }
    if format.has("flow-direction") {
        keys.push(column("flow-direction"));
    }
    for field in [
        "srcaddr", "dstaddr", "srcport", "dstport", "protocol", "action",
    ] {
        keys.push(column(field));
    }
    let mut select: Vec<String> = keys.clone();
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
         SELECT\n  {}\nFROM {table}\nWHERE {filter}\nGROUP BY\n  {}\nORDER BY\n  {}\n",
        indent(&select),
        indent(&keys),
        indent(&keys)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_and_columns() {
        assert!(valid_table("flowlogs.vpc_flow_logs"));
        assert!(!valid_table("x; DROP TABLE y"));
        let text = sql("vpc_flow_logs", &Format::default_v2());
        assert!(text.contains("max(\"end\") AS last"));
        assert!(text.contains("\"log_status\" = 'OK'"));
        assert!(!text.contains("syn"));
    }
}
