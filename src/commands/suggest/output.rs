//! The report, printed: the draft and every section on stdout, malformed lines, errors and a
//! summary on stderr (so `--format hcl > draft.tf` and `--format json | jq` stay clean).

use std::fmt::Write as _;
use std::io::{self, Write};

use miette::{GraphicalReportHandler, GraphicalTheme};

use super::error::SuggestError;
use super::names::{self, bytes, protocol_name};
use super::{Report, Run, Suggestion};
use crate::cli::{SuggestArgs, SuggestFormat};
use crate::commands::context::ExitStatus;
use crate::report::Colors;

pub fn finish(
    args: &SuggestArgs,
    result: Result<Suggestion, SuggestError>,
    colors: Colors,
) -> ExitStatus {
    let run = match result {
        Ok(Suggestion::Sql(sql)) => {
            let _ = io::stdout().lock().write_all(sql.as_bytes());
            return ExitStatus::Success;
        }
        Ok(Suggestion::Report(run)) => run,
        Err(error) => {
            let _ = write!(
                io::stderr().lock(),
                "{}",
                render_error(&error, colors.stderr)
            );
            return ExitStatus::Error;
        }
    };
    let Run {
        report,
        namer_hcl,
        tree_errors,
    } = *run;
    let stdout = match args.format {
        SuggestFormat::Human => human(&report),
        SuggestFormat::Json => serde_json::to_string_pretty(&report).unwrap_or_default() + "\n",
        SuggestFormat::Hcl => namer_hcl.join("\n"),
    };
    let _ = io::stdout().lock().write_all(stdout.as_bytes());
    let mut stderr = String::new();
    if args.format != SuggestFormat::Json {
        for line in &report.input.malformed_lines {
            let _ = writeln!(
                stderr,
                "warning: {}:{}: {}",
                line.path, line.line, line.reason
            );
        }
        let shown = report.input.malformed_lines.len() as u64;
        if report.input.malformed > shown {
            let _ = writeln!(
                stderr,
                "warning: {} more malformed lines",
                report.input.malformed - shown
            );
        }
    }
    let _ = io::stderr().lock().write_all(stderr.as_bytes());
    let _ = crate::report::print_diagnostics(&tree_errors, crate::cli::ReportFormat::Human, colors);
    let _ = writeln!(io::stderr().lock(), "{}", summary(&report));
    let breaks = report
        .breaks
        .as_ref()
        .is_some_and(|breaks| !breaks.is_empty());
    if !tree_errors.is_empty() {
        ExitStatus::Error
    } else if args.exit_code && breaks {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    }
}

fn render_error(error: &SuggestError, color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let mut text = String::new();
    let _ = GraphicalReportHandler::new_themed(theme)
        .with_width(80)
        .render_report(&mut text, error);
    text
}

fn summary(report: &Report) -> String {
    let input = &report.input;
    let mut parts = vec![format!(
        "{} in {} ({} NODATA/SKIPDATA, {} malformed)",
        names::count(input.records, "record"),
        names::count(input.files as u64, "file"),
        input.nodata,
        input.malformed
    )];
    parts.push(format!(
        "{}, {} opened ({} rejected)",
        names::count(report.flows as u64, "flow"),
        names::count(report.opened as u64, "connection"),
        report.rejected
    ));
    let undecided = report.undecided.len() + report.undecided_groups.len();
    parts.push(format!("{undecided} undecided"));
    parts.push(format!("{} drafted", drafted(report)));
    if !report.gone.is_empty() {
        parts.push(format!("{} with an interface gone", report.gone.len()));
    }
    if let Some(breaks) = &report.breaks {
        parts.push(format!("{} would break", breaks.len()));
    }
    format!("mutualsg suggest: {}", parts.join(", "))
}

/// Connections drafted: in the lists, and as halves beside hand-written rules (flagged
/// ones are left out).
fn drafted(report: &Report) -> usize {
    report
        .drafts
        .iter()
        .map(|d| d.connections.iter().filter(|c| c.flag.is_none()).count() + d.halves.len())
        .sum()
}

fn human(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## Draft mutual_rules: {}",
        names::count(drafted(report) as u64, "connection")
    );
    for draft in &report.drafts {
        out.push('\n');
        if let Some(dir) = &draft.dir {
            let _ = writeln!(out, "# in {dir}");
        }
        out.push_str(&draft.hcl);
    }
    if !report.gone.is_empty() {
        let _ = writeln!(
            out,
            "\n## Interface gone (not drafted: give the snapshot that lists it to --interfaces, or --subnets): {}",
            report.gone.len()
        );
        for g in &report.gone {
            let port = g.port.map_or_else(String::new, |p| format!("{p}/"));
            let _ = writeln!(
                out,
                "{} -> {} {port}{}: {} is on no known interface{}; {}, {}, {} to {}",
                g.client,
                g.server,
                protocol_name(g.protocol),
                g.address,
                g.interface
                    .as_ref()
                    .map_or_else(String::new, |i| format!(" (logged at {i})")),
                names::count(g.records, "record"),
                bytes(g.bytes),
                super::names::time(g.first),
                super::names::time(g.last),
            );
        }
    }
    if !report.blocked.is_empty() {
        let _ = writeln!(
            out,
            "\n## Already blocked (rejected, not drafted): {}",
            report.blocked.len()
        );
        for b in &report.blocked {
            let _ = writeln!(
                out,
                "{} -> {} {}: {} of its records rejected; {}, {} to {}",
                b.source,
                b.target,
                b.traffic,
                b.rejected_records,
                names::count(b.records, "record"),
                b.first,
                b.last
            );
        }
    }
    if let Some(breaks) = &report.breaks {
        let _ = writeln!(
            out,
            "\n## Would break once egress is closed: {}",
            breaks.len()
        );
        for b in breaks {
            let _ = writeln!(
                out,
                "{} -> {} {}: no {}; {}, {}, {} to {}",
                b.source,
                b.target,
                b.traffic,
                b.missing,
                names::count(b.records, "record"),
                bytes(b.bytes),
                b.first,
                b.last
            );
        }
    }
    if let Some(unused) = &report.unused_rules {
        let _ = writeln!(
            out,
            "\n## Rules with no traffic in the window: {}",
            unused.len()
        );
        for rule in unused {
            let _ = writeln!(
                out,
                "{}:{}: {}: {}",
                rule.path, rule.line, rule.origin, rule.rule
            );
        }
        if let Some(n) = report.rules_not_judged.filter(|n| *n > 0) {
            let _ = writeln!(
                out,
                "({n} rules on groups given by other expressions were not judged)"
            );
        }
    }
    let _ = writeln!(out, "\n## Egress leaving the VPC: {}", report.egress.len());
    for e in &report.egress {
        let port = e.port.map_or_else(String::new, |p| format!("{p}/"));
        let flag = e.indicator.map_or_else(String::new, |i| format!("  [{i}]"));
        let _ = writeln!(
            out,
            "{} -> {} {port}{} {}: {}, {}, {} to {}{flag}",
            e.source,
            e.destination,
            e.protocol,
            e.action,
            names::count(e.records, "record"),
            bytes(e.bytes),
            e.first,
            e.last
        );
    }
    let undecided = report.undecided.len() + report.undecided_groups.len();
    let _ = writeln!(out, "\n## Undecided: {undecided}");
    for u in &report.undecided {
        let _ = writeln!(
            out,
            "{} <-> {} {} {}: {}; {}, {}",
            u.a,
            u.b,
            protocol_name(u.protocol),
            if u.accepted { "ACCEPT" } else { "REJECT" },
            u.reason,
            names::count(u.records, "record"),
            bytes(u.bytes)
        );
    }
    for u in &report.undecided_groups {
        let port = u.port.map_or_else(String::new, |p| format!("{p}/"));
        let _ = writeln!(
            out,
            "{} -> {} {port}{}: the {} has several groups and no one group every {} of it shares: {}; {}, {}",
            u.client,
            u.server,
            protocol_name(u.protocol),
            u.side,
            u.side,
            u.candidates.join(", "),
            names::count(u.records, "record"),
            bytes(u.bytes)
        );
    }
    if report.without_group > 0 {
        let _ = writeln!(
            out,
            "\n({} connections with an end on an interface without security groups, such as a NAT gateway, carry no rule)",
            report.without_group
        );
    }
    out
}
