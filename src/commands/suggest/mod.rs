//! `mutualsg suggest`: the connections an environment really makes, from VPC Flow Logs, as
//! a `mutual_rules` draft, beside the rules the tree already has.
//!
//! The trip, one file per stage: [`format`] a line into a record; [`read`] files (gzip,
//! headers, all cores) into a table of connections (client ports folded away as records
//! are read, [`flow`]), or [`csv`] the table from the [`athena`] query's result;
//! [`interfaces`] and [`state`] name the addresses' groups, [`resolve`] within each record's
//! VPC; [`opener`] turns each flow to run from the side that opened it; [`connections`] puts
//! each on its groups; [`draft`] writes the `mutual_rules`; [`tree`] holds them against the
//! tree's rules; [`output`] prints the report.

pub mod athena;
pub mod connections;
pub mod csv;
pub mod draft;
pub mod error;
pub mod flow;
pub mod format;
pub mod interfaces;
pub mod names;
pub mod observed;
pub mod opener;
pub mod output;
#[cfg(feature = "parquet")]
pub mod parquet;
pub mod read;
pub mod resolve;
pub mod state;
pub mod tree;

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cli::SuggestArgs;
use crate::commands::context::{Context, ExitStatus};
use connections::{GoneFlow, ObservedConnection, UndecidedGroup};
use error::SuggestError;
use flow::FlowStats;
use format::LogFormat;
use interfaces::Interfaces;
use names::Namer;
use opener::Undecided;
use read::ReadSummary;
use resolve::{Owner, Resolver};
use state::StateNames;

/// Egress leaving the VPC, with the indicators the security practice names.
#[derive(Debug, Clone, Serialize)]
pub struct Egress {
    pub source: String,
    pub destination: String,
    pub protocol: String,
    pub port: Option<u16>,
    pub action: &'static str,
    pub records: u64,
    pub bytes: u64,
    pub first: String,
    pub last: String,
    pub indicator: Option<&'static str>,
}

/// An observed flow that the tree would not allow once egress is closed.
#[derive(Debug, Clone, Serialize)]
pub struct Break {
    pub source: String,
    pub target: String,
    pub traffic: String,
    pub missing: &'static str,
    pub records: u64,
    pub bytes: u64,
    pub first: String,
    pub last: String,
}

/// A connection rejected at either interface: it never worked, so nothing needs it.
#[derive(Debug, Clone, Serialize)]
pub struct Blocked {
    pub source: String,
    pub target: String,
    pub traffic: String,
    pub records: u64,
    pub rejected_records: u64,
    pub first: String,
    pub last: String,
}

#[derive(Debug, Serialize)]
pub struct DraftOut {
    pub module: Option<String>,
    /// The directory of the tree that declares the module's groups, when PATH was given.
    pub dir: Option<String>,
    pub hcl: String,
    pub connections: Vec<draft::DraftConnection>,
    pub halves: Vec<draft::HalfInTree>,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub input: ReadSummary,
    /// Distinct flows (one direction each) in the records.
    pub flows: usize,
    /// Connections as opened (client, server, protocol, port), accepted and rejected.
    pub opened: usize,
    pub rejected: usize,
    /// Flows with an end on an interface without groups (NAT gateways, ...).
    pub without_group: u64,
    pub drafts: Vec<DraftOut>,
    /// Rejected (at either interface): never drafted, never "would break".
    pub blocked: Vec<Blocked>,
    /// With an end in the VPC that no interface or subnet names: never drafted.
    pub gone: Vec<GoneFlow>,
    pub undecided: Vec<Undecided>,
    pub undecided_groups: Vec<UndecidedGroup>,
    /// With PATH only.
    pub breaks: Option<Vec<Break>>,
    pub unused_rules: Option<Vec<tree::Unused>>,
    pub rules_not_judged: Option<usize>,
    pub egress: Vec<Egress>,
}

/// The command: reads the inputs, prints the report, returns the exit status.
pub fn run(args: &SuggestArgs, context: &Context) -> ExitStatus {
    let result = suggest(args, &context.cwd);
    output::finish(args, result, context.colors)
}

/// What the run found, or the error that stopped it; tree errors are returned beside the
/// report (the other modules are still compared).
pub struct Run {
    pub report: Report,
    pub namer_hcl: Vec<String>,
    pub tree_errors: Vec<crate::diagnostics::Diagnostic>,
}

pub enum Suggestion {
    Sql(String),
    Report(Box<Run>),
}

/// What the flow logs show, or the error that stopped the run.
pub fn suggest(args: &SuggestArgs, cwd: &Path) -> Result<Suggestion, SuggestError> {
    let log_format = args
        .log_format
        .as_deref()
        .map(LogFormat::from_log_format)
        .transpose()
        .map_err(|message| SuggestError::LogFormat { message })?;
    if let Some(table) = &args.athena_sql {
        if !athena::valid_table(table) {
            return Err(SuggestError::AthenaTable {
                table: table.clone(),
            });
        }
        let format = log_format.unwrap_or_else(LogFormat::default_v2);
        return Ok(Suggestion::Sql(athena::sql(table, &format)));
    }
    if args.flow_logs.is_empty() && args.flows_csv.is_none() {
        return Err(SuggestError::FlowLogs {
            message: "give --flow-logs FILE|DIR (or --flows-csv FILE)".to_string(),
        });
    }
    let mut interfaces = Interfaces::default();
    if args.interfaces.is_empty() {
        return Err(SuggestError::Interfaces {
            path: PathBuf::from("--interfaces"),
            message: "required: the interfaces tell whose addresses the flows are".to_string(),
        });
    }
    for path in &args.interfaces {
        let text = std::fs::read_to_string(path).map_err(|error| SuggestError::Interfaces {
            path: path.clone(),
            message: error.to_string(),
        })?;
        interfaces
            .add_json(&text)
            .map_err(|message| SuggestError::Interfaces {
                path: path.clone(),
                message,
            })?;
    }
    for path in &args.subnets {
        let text = std::fs::read_to_string(path).map_err(|error| SuggestError::Subnets {
            path: path.clone(),
            message: error.to_string(),
        })?;
        interfaces
            .add_subnets_json(&text)
            .map_err(|message| SuggestError::Subnets {
                path: path.clone(),
                message,
            })?;
    }
    let state = match &args.state {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|error| SuggestError::State {
                path: path.clone(),
                message: error.to_string(),
            })?;
            Some(
                StateNames::from_json(&text).map_err(|message| SuggestError::State {
                    path: path.clone(),
                    message,
                })?,
            )
        }
        None => None,
    };
    let mut vpc = Vec::new();
    for value in &args.vpc_cidr {
        vpc.push(tree::network(value).ok_or_else(|| SuggestError::VpcCidr {
            value: value.clone(),
        })?);
    }
    let table = match &args.flows_csv {
        Some(path) => {
            let file = std::fs::File::open(path).map_err(|error| SuggestError::FlowsCsv {
                path: path.clone(),
                message: error.to_string(),
            })?;
            let reader = std::io::BufReader::new(file);
            csv::read(reader, &path.display().to_string(), &interfaces).map_err(|message| {
                SuggestError::FlowsCsv {
                    path: path.clone(),
                    message,
                }
            })?
        }
        None => {
            let files = read::expand(&args.flow_logs)
                .map_err(|message| SuggestError::FlowLogs { message })?;
            if files.is_empty() {
                return Err(SuggestError::FlowLogs {
                    message: "no files in the given directories".to_string(),
                });
            }
            read::read_files(&files, log_format.as_ref(), &interfaces)
        }
    };
    if table.summary.records == 0 && table.summary.nodata == 0 {
        return Err(SuggestError::nothing_read(&table.summary));
    }
    let namer = Namer {
        state: state.as_ref(),
        interfaces: &interfaces,
    };
    let resolver = Resolver {
        interfaces: &interfaces,
        seen: &table.seen,
        vpc_cidrs: &vpc,
        services: &table.services,
    };
    let decisions = opener::decide(&table);
    let mut grouped = connections::group(&decisions.opened, &resolver);
    for undecided in &mut grouped.undecided {
        for candidate in &mut undecided.candidates {
            *candidate = namer.group(candidate);
        }
    }
    let tree = (!args.paths.is_empty()).then(|| tree::read(&args.paths, cwd, state.as_ref()));

    let accepted = grouped.connections.iter().filter(|(c, _)| c.accepted);
    let mut halves: Vec<(
        &ObservedConnection,
        &FlowStats,
        &tree::TreeRule,
        &'static str,
    )> = Vec::new();
    let (breaks, drafted): (Option<Vec<Break>>, Vec<(&ObservedConnection, &FlowStats)>) =
        match &tree {
            Some(tree) => {
                let mut breaks = Vec::new();
                let mut drafted = Vec::new();
                for (connection, stats) in accepted {
                    let Some(missing) = tree.missing(connection) else {
                        continue;
                    };
                    breaks.push(Break {
                        source: namer.side(&connection.source),
                        target: namer.side(&connection.target),
                        traffic: names::traffic_label(
                            connection.protocol,
                            connection.port.map(|p| (p, p)),
                        ),
                        missing,
                        records: stats.records,
                        bytes: stats.bytes,
                        first: names::time(stats.first),
                        last: names::time(stats.last),
                    });
                    match tree.hand_written_half(connection, missing) {
                        Some(rule) => halves.push((connection, stats, rule, missing)),
                        None => drafted.push((connection, stats)),
                    }
                }
                (Some(breaks), drafted)
            }
            None => (None, accepted.collect()),
        };
    let unused = tree.as_ref().map(|tree| {
        let used = tree.used(grouped.connections.keys());
        tree.rules
            .iter()
            .zip(used)
            .filter(|(_, used)| !used)
            .map(|(rule, _)| tree::Unused {
                path: rule.path.clone(),
                line: rule.line,
                origin: rule.origin.clone(),
                rule: rule.written.clone(),
            })
            .collect::<Vec<_>>()
    });

    let max_cidrs = args.max_cidrs.map(usize::from);
    let region = table.region.as_deref();
    let mut drafts = draft::drafts(drafted, max_cidrs, &namer);
    for (connection, stats, rule, missing) in halves {
        let Some(one) = draft::drafts([(connection, stats)], max_cidrs, &namer).pop() else {
            continue;
        };
        let Some(drafted) = one.connections.into_iter().next() else {
            continue;
        };
        let resource_type = match rule.resource_type() {
            "aws_vpc_security_group_ingress_rule" | "aws_vpc_security_group_egress_rule" => {
                format!("aws_vpc_security_group_{missing}_rule")
            }
            _ => "aws_security_group_rule".to_string(),
        };
        let half = draft::HalfInTree {
            connection: drafted,
            missing,
            present: rule.origin.clone(),
            path: rule.path.clone(),
            line: rule.line,
            resource_type,
            dir: Path::new(&rule.path)
                .parent()
                .map(|dir| dir.display().to_string())
                .filter(|dir| !dir.is_empty())
                .unwrap_or_else(|| ".".to_string()),
        };
        match drafts.iter_mut().find(|d| d.module == one.module) {
            Some(existing) => existing.halves.push(half),
            None => drafts.push(draft::Draft {
                module: one.module,
                connections: Vec::new(),
                halves: vec![half],
            }),
        }
    }
    drafts.sort_by(|a, b| a.module.cmp(&b.module));
    let mut drafts_out = Vec::new();
    let mut namer_hcl = Vec::new();
    for d in drafts {
        let hcl = draft::render(&d, &namer, region);
        namer_hcl.push(hcl.clone());
        let dir = tree.as_ref().and_then(|tree| {
            d.connections
                .iter()
                .chain(d.halves.iter().map(|h| &h.connection))
                .find_map(|c| match (&c.source, &c.target) {
                    (draft::DraftPeer::Group { id }, _) | (_, draft::DraftPeer::Group { id }) => {
                        tree.owners
                            .iter()
                            .find(|(owner, _)| owner == id && namer.module_of(id) == d.module)
                            .map(|(_, dir)| dir.display().to_string())
                    }
                    _ => None,
                })
        });
        drafts_out.push(DraftOut {
            module: d.module,
            dir,
            hcl,
            connections: d.connections,
            halves: d.halves,
        });
    }

    let blocked = grouped
        .connections
        .iter()
        .filter(|(c, _)| !c.accepted)
        .map(|(connection, stats)| Blocked {
            source: namer.side(&connection.source),
            target: namer.side(&connection.target),
            traffic: names::traffic_label(connection.protocol, connection.port.map(|p| (p, p))),
            records: stats.records,
            rejected_records: stats.rejected,
            first: names::time(stats.first),
            last: names::time(stats.last),
        })
        .collect();
    let egress = egress(&decisions.opened, &resolver, &vpc, &namer);
    let rejected = decisions
        .opened
        .values()
        .filter(|(stats, _)| !stats.accepted())
        .count();
    let (rules_not_judged, tree_errors) = match tree {
        Some(tree) => (Some(tree.not_judged), tree.errors),
        None => (None, Vec::new()),
    };
    let report = Report {
        flows: table.flows.len() + table.opened.len(),
        input: table.summary,
        opened: decisions.opened.len(),
        rejected,
        without_group: grouped.without_group,
        drafts: drafts_out,
        blocked,
        gone: grouped.gone,
        undecided: decisions.undecided,
        undecided_groups: grouped.undecided,
        breaks,
        unused_rules: unused,
        rules_not_judged,
        egress,
    };
    Ok(Suggestion::Report(Box::new(Run {
        report,
        namer_hcl,
        tree_errors,
    })))
}

/// Flows opened from a known interface to an address outside every known interface and
/// outside the VPC's blocks; port 53 to any address outside the known interfaces.
fn egress(
    opened: &std::collections::BTreeMap<flow::Opened, (FlowStats, opener::Evidence)>,
    resolver: &Resolver,
    vpc: &[(IpAddr, u8)],
    namer: &Namer,
) -> Vec<Egress> {
    let mut grouped: std::collections::BTreeMap<
        (String, IpAddr, u8, Option<u16>, bool),
        FlowStats,
    > = Default::default();
    for (flow, (stats, _)) in opened {
        if resolver.interface(flow.vpc, &flow.client).is_none()
            || !matches!(resolver.owner(flow.vpc, &flow.server), Owner::Outside)
        {
            continue;
        }
        let inside = vpc
            .iter()
            .any(|network| tree::contains(*network, &flow.server));
        let dns = draft::indicator(flow.protocol, flow.port) == Some("DNS");
        if inside && !dns {
            continue;
        }
        let source = namer.address_owner(flow.vpc, &flow.client);
        grouped
            .entry((
                source,
                flow.server,
                flow.protocol,
                flow.port,
                stats.accepted(),
            ))
            .or_default()
            .merge(stats);
    }
    grouped
        .into_iter()
        .map(
            |((source, destination, protocol, port, accepted), stats)| Egress {
                source,
                destination: destination.to_string(),
                protocol: names::protocol_name(protocol),
                port,
                action: if accepted { "ACCEPT" } else { "REJECT" },
                records: stats.records,
                bytes: stats.bytes,
                first: names::time(stats.first),
                last: names::time(stats.last),
                indicator: draft::indicator(protocol, port),
            },
        )
        .collect()
}
