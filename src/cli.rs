//! The command line's types: every flag of every command, as clap reads them. What a
//! command does with them is in [`crate::commands`], which parses them and dispatches.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Expand `locals { mutual_rules = [...] }` into the egress and ingress security-group rules
/// each connection needs, in a generated `mutual_rules.gen.tf` beside it.
#[derive(Debug, Parser)]
#[command(name = "mutualsg", version, about, long_about = LONG_ABOUT, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// When to colour output.
    #[arg(long, value_enum, default_value_t = Color::Auto, global = true)]
    pub color: Color,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write every generated file that is out of date, and delete stale ones (exit 0, or 2 on error).
    Generate(GenerateArgs),
    /// Write nothing; report every drifted or stale file with a diff (exit 0 clean, 1 drift, 2 error).
    Check(CheckArgs),
    /// Print the unified diff `generate` would apply (exit 0, or 2 on error).
    Diff(DiffArgs),
    /// Move a repo onto mutual_rules with moved/import/removed blocks, so Terraform destroys
    /// nothing: prints the diff (exit 0, or 2 on error); `--write` applies it.
    Migrate(MigrateArgs),
    /// Print the allowed flows between groups and addresses as a Mermaid, DOT, JSON or Markdown
    /// graph (exit 0, or 2 on error).
    Graph(GraphArgs),
    /// Report open egress and ingress, half-open rule pairs, groups managed both inline and
    /// by separate rules, and groups attached to nothing (exit 0 none failing, 1 findings
    /// that fail, 2 error).
    Audit(AuditArgs),
    /// Draft the mutual_rules an environment needs from its VPC Flow Logs, and report what
    /// would break once egress is closed (exit 0, 1 with --exit-code when something would
    /// break, 2 on error).
    Suggest(Box<SuggestArgs>),
    /// Print a shell completion script (e.g. `mutualsg completions bash > /etc/bash_completion.d/mutualsg`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

const LONG_ABOUT: &str = "\
Expand `locals { mutual_rules = [...] }` into the egress and ingress security-group rules each
connection needs, in a generated `mutual_rules.gen.tf` beside it.

Each connection (source_sg_id, target_sg_id, ports, protocol, description) becomes an egress
rule on the source group and an ingress rule on the target group. Resource names are stable:
from `name`, the map key, or the connection's content, never its position in the list.";

const AFTER_HELP: &str = "\
Examples:
  mutualsg generate                  write every out-of-date mutual_rules.gen.tf under .
  mutualsg check --format github     in CI: fail with annotations when a file drifted
  mutualsg diff modules/network      show what generate would change

Configuration: a .mutualsg.toml in the module directory or above may set
  style = \"aws_vpc_security_group_rule\"   (default: \"aws_security_group_rule\")

Exit status: 0 success; 1 failure: a file drifted (check) or changed (generate --exit-code),
a finding fails (audit), a flow would break (suggest --exit-code); 2 error.";

#[derive(Debug, clap::Args)]
#[command(group(
    clap::ArgGroup::new("egress_proof").args(["without_flow_logs", "flow_logs", "flows_csv"]).multiple(false)
))]
pub struct MigrateArgs {
    #[command(flatten)]
    pub paths: PathArgs,

    /// Apply the changes instead of printing them.
    #[arg(long)]
    pub write: bool,

    /// Write the egress half of each one-sided ingress rule whose peer is a security group
    /// (B admits A: the connection A -> B). Egress rules whose ingress half is missing are
    /// never completed: they are listed as half-open.
    #[arg(long)]
    pub add_egress: bool,

    /// Remove the open egress (to 0.0.0.0/0 or ::/0, all traffic or every port) of each
    /// group whose needed egress is now explicit; each group left open is listed with why.
    /// Needs the proof: --flow-logs (or --flows-csv) with --interfaces, or --without-flow-logs.
    #[arg(long, requires = "egress_proof")]
    pub close_egress: bool,

    /// Close egress on the rules alone, with no flow logs to prove that nothing else is sent.
    #[arg(long)]
    pub without_flow_logs: bool,

    /// With --close-egress: VPC Flow Logs (a file or a directory, read as `suggest` reads
    /// them; repeatable). A group closes only when nothing it sent would break; its
    /// destinations outside the VPC are drafted as connections.
    #[arg(long = "flow-logs", value_name = "FILE|DIR", requires_all = ["close_egress", "interfaces"])]
    pub flow_logs: Vec<PathBuf>,

    /// With --close-egress: the CSV result of `suggest --athena-sql`, instead of --flow-logs.
    #[arg(long, value_name = "FILE", requires_all = ["close_egress", "interfaces"])]
    pub flows_csv: Option<PathBuf>,

    /// `aws ec2 describe-network-interfaces` JSON (repeatable): whose addresses the flows
    /// are. A group is known by its `name`, or by its address in --state.
    #[arg(long, value_name = "FILE", requires = "close_egress")]
    pub interfaces: Vec<PathBuf>,

    /// `terraform show -json` output: ties group ids to Terraform addresses, for groups
    /// without a literal `name`.
    #[arg(long, value_name = "FILE", requires = "close_egress")]
    pub state: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct GraphArgs {
    #[command(flatten)]
    pub paths: PathArgs,

    /// Mermaid (renders inline on GitHub and GitLab), Graphviz DOT, JSON, or Markdown (a
    /// summary table and the Mermaid chart, to post as a pull-request comment).
    #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
    pub format: GraphFormat,

    /// Draw only what changed since this git revision (`origin/main`, a commit): flows
    /// added, removed, widened or narrowed, and the groups they touch. The revision is read
    /// from git's objects; the work tree is read as it is.
    #[arg(long, value_name = "REV")]
    pub since: Option<String>,

    /// With --since: also draw the unchanged flows of the groups the change touches (grey).
    #[arg(long, requires = "since")]
    pub context: bool,

    /// Draw one group and every flow in and out of it: `aws_security_group.web`, or
    /// `DIR:aws_security_group.web` where several modules have one.
    #[arg(long, value_name = "ADDRESS")]
    pub focus: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub paths: PathArgs,

    #[command(flatten)]
    pub state: StateArgs,

    /// How to report problems: for people, as JSON, or as GitHub Actions annotations.
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    pub format: ReportFormat,
}

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub paths: PathArgs,

    /// How to report findings: for people, as JSON, as GitHub Actions annotations, SARIF, or
    /// a pull-request comment in Markdown.
    #[arg(long, value_enum, default_value_t = AuditFormat::Human)]
    pub format: AuditFormat,

    /// Fail on unverified findings too (halves whose other side the tree cannot show).
    #[arg(long)]
    pub strict: bool,

    /// Fail only on findings this baseline does not record, and report its entries that
    /// match nothing any more.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Record today's findings in FILE (exit 0 unless an error), for `--baseline`.
    #[arg(long, value_name = "FILE", conflicts_with = "baseline")]
    pub write_baseline: Option<PathBuf>,

    /// Report only the findings that the change since this git revision introduces (a gate
    /// for a repository that cannot fix its past yet).
    #[arg(long, value_name = "REV")]
    pub since: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub paths: PathArgs,

    #[command(flatten)]
    pub state: StateArgs,

    /// Exit 1 when a file was created, changed or deleted (for pre-commit, which does not
    /// notice a new untracked file).
    #[arg(long)]
    pub exit_code: bool,
}

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub paths: PathArgs,

    #[command(flatten)]
    pub state: StateArgs,
}

#[derive(Debug, clap::Args)]
pub struct StateArgs {
    /// The JSON of `terraform show -json` (the state), run where the module is applied: a
    /// `style` switch to the aws_vpc_* rules imports each rule by the sgr- id it holds.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct PathArgs {
    /// Directories (walked recursively) or files (their module directory is processed).
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    /// Colour a stream only when it is a terminal and NO_COLOR is unset.
    Auto,
    Always,
    Never,
}

impl Color {
    /// Whether a stream that is (or is not) a terminal gets colour.
    pub fn enabled(self, is_terminal: bool) -> bool {
        match self {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }
}

/// How `suggest` prints its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SuggestFormat {
    /// The draft and every section of the report, for people.
    Human,
    /// The whole report as one JSON object.
    Json,
    /// The draft alone: `locals { mutual_rules = [...] }` per module.
    Hcl,
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("input").args(["flow_logs", "flows_csv"]).multiple(false)))]
pub struct SuggestArgs {
    /// A flow-log file (plain or gzip; S3 delivery with its header line, or a CloudWatch
    /// Logs export) or a directory of them; repeatable.
    #[arg(long = "flow-logs", value_name = "FILE|DIR")]
    pub flow_logs: Vec<PathBuf>,

    /// The CSV result of the `--athena-sql` query, instead of --flow-logs.
    #[arg(long, value_name = "FILE")]
    pub flows_csv: Option<PathBuf>,

    /// `aws ec2 describe-network-interfaces` JSON: interfaces, their addresses and groups.
    /// Repeatable: other VPCs, and older snapshots (give them first: for an interface two
    /// files list, the later file's is taken).
    #[arg(long, value_name = "FILE")]
    pub interfaces: Vec<PathBuf>,

    /// `aws ec2 describe-subnets` JSON (repeatable): an address whose interface is gone is
    /// drafted as its subnet's block instead of being left out.
    #[arg(long, value_name = "FILE")]
    pub subnets: Vec<PathBuf>,

    /// Aggregate each rule's public addresses into at most N CIDR blocks (never a block
    /// holding a private range). Default: every address listed as it is.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub max_cidrs: Option<u16>,

    /// `terraform show -json` output: names groups by Terraform address instead of id.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,

    /// The VPC's CIDR blocks (repeatable): traffic to addresses outside them and outside
    /// every known interface leaves the VPC; an address inside them that no interface or
    /// subnet names is reported, never drafted. Default: outside every known interface.
    #[arg(long = "vpc-cidr", value_name = "CIDR")]
    pub vpc_cidr: Vec<String>,

    /// The format string of files without a header (CloudWatch Logs exports), as in the
    /// flow log's definition: '${version} ${account-id} ...'. Default: the default format.
    #[arg(long, value_name = "FORMAT")]
    pub log_format: Option<String>,

    /// Print the Athena (Trino) query that reduces the flow-log table TABLE to what
    /// --flows-csv reads, and exit (the columns follow --log-format, else the default format).
    #[arg(long, value_name = "TABLE")]
    pub athena_sql: Option<String>,

    #[arg(long, value_enum, default_value_t = SuggestFormat::Human)]
    pub format: SuggestFormat,

    /// Exit 1 when an observed flow would break once egress is closed (needs PATH).
    #[arg(long)]
    pub exit_code: bool,

    /// Terraform directories or files: compare with the rules they declare.
    pub paths: Vec<PathBuf>,
}

/// How `graph` draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// A Mermaid flowchart (renders inline on GitHub and GitLab).
    Mermaid,
    /// Graphviz DOT (`mutualsg graph --format dot | dot -Tsvg > flows.svg`).
    Dot,
    /// Nodes and edges with their attributes, rules and findings.
    Json,
    /// A summary table and the Mermaid chart, to post as a pull-request comment.
    Markdown,
}

/// How `audit` prints its findings: the shared report formats, and a pull-request comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    /// Located reports for people, on stderr.
    Human,
    /// One JSON array on stdout.
    Json,
    /// GitHub Actions annotations.
    Github,
    /// One SARIF 2.1.0 log, for GitHub code scanning.
    Sarif,
    /// A pull-request comment: the summary, then a table per status, failing first.
    Markdown,
}

/// How `check` reports, through the shared emitters of [`crate::report`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Diffs, located diagnostics and a summary.
    Human,
    /// One JSON array on stdout: an object per drifted or stale file and per diagnostic.
    Json,
    /// GitHub Actions `::error`/`::warning` annotations, one per problem, then the diffs.
    Github,
    /// One SARIF 2.1.0 log on stdout, for GitHub code scanning.
    Sarif,
}
