//! What the flow logs show each group sent, read as `suggest` reads them (the same reader,
//! interfaces and opener), for `migrate --close-egress`: the accepted connections, with the
//! groups' names from the interfaces and their Terraform addresses from the state.

use std::collections::BTreeMap;
use std::path::PathBuf;

use miette::{GraphicalReportHandler, GraphicalTheme};

use super::connections::{self, ObservedConnection, UndecidedGroup};
use super::error::SuggestError;
use super::flow::FlowStats;
use super::interfaces::Interfaces;
use super::resolve::Resolver;
use super::state::StateNames;
use super::{csv, opener, read};

/// The flow-log inputs, as `suggest` takes them.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub flow_logs: Vec<PathBuf>,
    pub flows_csv: Option<PathBuf>,
    pub interfaces: Vec<PathBuf>,
    pub state: Option<PathBuf>,
}

/// What the groups sent.
#[derive(Debug, Default)]
pub struct Observed {
    /// Connections no record of which was rejected, by the side that opened them.
    pub accepted: BTreeMap<ObservedConnection, FlowStats>,
    /// Flows from an interface with several groups that no one group explains.
    pub undecided: Vec<UndecidedGroup>,
    /// Group id → name, as the interfaces name them.
    pub group_names: BTreeMap<String, String>,
    /// Group id → its address within its module (`aws_security_group.web`), from the state.
    pub addresses: BTreeMap<String, String>,
}

/// Reads the flow logs (or the Athena CSV) against the interfaces.
pub fn read(inputs: &Inputs) -> Result<Observed, SuggestError> {
    let mut interfaces = Interfaces::default();
    for path in &inputs.interfaces {
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
    let mut addresses = BTreeMap::new();
    if let Some(path) = &inputs.state {
        let text = std::fs::read_to_string(path).map_err(|error| SuggestError::State {
            path: path.clone(),
            message: error.to_string(),
        })?;
        let names = StateNames::from_json(&text).map_err(|message| SuggestError::State {
            path: path.clone(),
            message,
        })?;
        addresses.extend(
            names
                .groups
                .into_iter()
                .map(|(id, address)| (id, address.resource)),
        );
    }
    let table = match &inputs.flows_csv {
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
            let files = read::expand(&inputs.flow_logs)
                .map_err(|message| SuggestError::FlowLogs { message })?;
            if files.is_empty() {
                return Err(SuggestError::FlowLogs {
                    message: "no files in the given directories".to_string(),
                });
            }
            read::read_files(&files, None, &interfaces)
        }
    };
    if table.summary.records == 0 && table.summary.nodata == 0 {
        return Err(SuggestError::nothing_read(&table.summary));
    }
    let resolver = Resolver {
        interfaces: &interfaces,
        seen: &table.seen,
        vpc_cidrs: &[],
        services: &table.services,
    };
    let decisions = opener::decide(&table);
    let grouped = connections::group(&decisions.opened, &resolver);
    let accepted = grouped
        .connections
        .into_iter()
        .filter(|(connection, _)| connection.accepted)
        .collect();
    Ok(Observed {
        accepted,
        undecided: grouped.undecided,
        group_names: interfaces.group_names.clone(),
        addresses,
    })
}

/// The error as `suggest` prints it.
pub fn render_error(error: &SuggestError, color: bool) -> String {
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
