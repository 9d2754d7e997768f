//! What can stop `suggest`, as miette diagnostics (exit 2). Malformed flow-log lines are not
//! here: they are counted and reported, and stop nothing unless nothing could be read.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum SuggestError {
    #[error("{}: {message}", path.display())]
    #[diagnostic(
        code(mutualsg::suggest::interfaces),
        help(
            "pass the JSON of `aws ec2 describe-network-interfaces --output json` (the whole document, with its NetworkInterfaces list)"
        )
    )]
    Interfaces { path: PathBuf, message: String },

    #[error("{}: {message}", path.display())]
    #[diagnostic(
        code(mutualsg::suggest::state),
        help("pass the JSON of `terraform show -json` run where the state is (no plan file)")
    )]
    State { path: PathBuf, message: String },

    #[error("--log-format: {message}")]
    #[diagnostic(
        code(mutualsg::suggest::log_format),
        help(
            "give the flow log's format string as its definition has it, e.g. '${{version}} ${{account-id}} ${{interface-id}} ${{srcaddr}} ${{dstaddr}} ${{srcport}} ${{dstport}} ${{protocol}} ${{packets}} ${{bytes}} ${{start}} ${{end}} ${{action}} ${{log-status}}'"
        )
    )]
    LogFormat { message: String },

    #[error("--vpc-cidr: `{value}` is not a CIDR block")]
    #[diagnostic(code(mutualsg::suggest::vpc_cidr), help("e.g. --vpc-cidr 10.0.0.0/16"))]
    VpcCidr { value: String },

    #[error("--flow-logs: {message}")]
    #[diagnostic(code(mutualsg::suggest::flow_logs))]
    FlowLogs { message: String },

    #[error("{}: {message}", path.display())]
    #[diagnostic(
        code(mutualsg::suggest::flows_csv),
        help("pass the CSV result of the query `mutualsg suggest --athena-sql TABLE` prints")
    )]
    FlowsCsv { path: PathBuf, message: String },

    #[error(
        "no flow-log record could be read from {files} file(s) ({malformed} malformed line(s)){reasons}"
    )]
    #[diagnostic(
        code(mutualsg::suggest::nothing_read),
        help(
            "files without a header line (CloudWatch Logs exports) need the flow log's format: --log-format '${{version}} ${{account-id}} ...'"
        )
    )]
    NothingRead {
        files: usize,
        malformed: u64,
        /// The first located reasons of each file, one a line.
        reasons: String,
    },

    #[error("{}: {message}", path.display())]
    #[diagnostic(
        code(mutualsg::suggest::subnets),
        help(
            "pass the JSON of `aws ec2 describe-subnets --output json` (the whole document, with its Subnets list)"
        )
    )]
    Subnets { path: PathBuf, message: String },

    #[error("--athena-sql: `{table}` is not a table name")]
    #[diagnostic(
        code(mutualsg::suggest::athena_table),
        help("letters, digits and `_`, optionally `database.table`")
    )]
    AthenaTable { table: String },
}

/// The first reasons shown per file when nothing could be read.
const REASONS_PER_FILE: usize = 3;

impl SuggestError {
    /// Nothing could be read: the error, with the first located reasons of each file.
    pub fn nothing_read(summary: &super::read::ReadSummary) -> SuggestError {
        let mut reasons = String::new();
        let mut shown: Vec<(&str, usize)> = Vec::new();
        for line in &summary.malformed_lines {
            let count = match shown.iter_mut().find(|(path, _)| *path == line.path) {
                Some((_, count)) => count,
                None => {
                    shown.push((&line.path, 0));
                    &mut shown.last_mut().expect("just pushed").1
                }
            };
            *count += 1;
            if *count <= REASONS_PER_FILE {
                reasons.push_str(&format!("\n  {}:{}: {}", line.path, line.line, line.reason));
            }
        }
        SuggestError::NothingRead {
            files: summary.files,
            malformed: summary.malformed,
            reasons,
        }
    }
}
