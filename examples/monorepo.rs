//! Writes a synthetic Terraform monorepo for benchmarking mutualsg (see `benches/run.sh`).
//!
//! ```sh
//! cargo run --release --example monorepo -- --out target/bench/tree
//! cargo run --release --example monorepo -- --out target/bench/huge --single-module-connections 100000
//! ```
//!
//! The default tree: 2,000 modules of 10 `.tf` files each (~4.4 KB a file, ~88 MB in all),
//! spread over `<area>/<team>/<service>-NNNN/` directories, each with a
//! `.terraform.lock.hcl`. Files hold what real modules hold: resources of many types with
//! many attributes, variables with descriptions and validations, heredocs, `for`
//! expressions, `dynamic` blocks, `#`, `//` and `/* */` comments, locals, outputs and
//! module calls. A tenth of the modules (`--rules-fraction`) get a `rules.tf` (in place of
//! their last regular file) holding `locals { mutual_rules = [...] }` with `--connections`
//! valid connections between `aws_security_group`s the module defines: unique rules, at most
//! 60 inbound and 60 outbound per group (the default AWS quota), list and map forms, v1 and
//! v2 keys, several protocols and port spellings.
//!
//! The output depends only on the flags: each module draws from its own splitmix64 stream
//! (seed and module index), so `--modules 10` writes the first ten modules of the default
//! tree. `DIR/.monorepo-manifest` (hidden: neither mutualsg nor `rg` reads it) lists the
//! flags, totals, the modules with rules (`rules_module=`) and one without
//! (`plain_module=`). No text outside `rules.tf` mentions the local's name, so the generated
//! files are the only other files `rg -l mutual_rules` finds.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

#[derive(Debug, Parser)]
#[command(about = "Write a synthetic Terraform monorepo for benchmarking mutualsg")]
struct Args {
    /// Directory to write the tree into: must be absent or empty, or hold an earlier tree of
    /// this generator (its manifest), which is then replaced.
    #[arg(long)]
    out: PathBuf,
    /// Number of modules (directories of `.tf` files).
    #[arg(long, default_value_t = 2000)]
    modules: usize,
    /// `.tf` files in each module (`rules.tf` takes the last one's place).
    #[arg(long, default_value_t = 10)]
    files_per_module: usize,
    /// Mean size of a `.tf` file in bytes (`versions.tf` is smaller, `main.tf` larger).
    #[arg(long, default_value_t = 4400)]
    file_bytes: usize,
    /// Fraction of modules with a `rules.tf` defining `mutual_rules`.
    #[arg(long, default_value_t = 0.1)]
    rules_fraction: f64,
    /// Connections in each `mutual_rules`.
    #[arg(long, default_value_t = 20)]
    connections: usize,
    /// Seed of the pseudo-random generator; the same flags give the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Instead of a tree, write one module (`DIR/huge/`) whose `mutual_rules` has this many
    /// connections (list form), with the groups they need and a few ordinary files.
    #[arg(long)]
    single_module_connections: Option<usize>,
    /// Parse every written file with mutualsg's syntax layer and fail on a syntax error.
    #[arg(long)]
    verify: bool,
}

const MANIFEST: &str = ".monorepo-manifest";

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("monorepo: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    prepare_out(&args.out)?;
    // Written first, so an interrupted run's directory can still be replaced.
    write(&args.out.join(MANIFEST), "# incomplete\n")?;
    let mut stats = Stats::default();
    let mut manifest = format!(
        "# written by `cargo run --example monorepo`\nseed={}\n",
        args.seed
    );
    if let Some(connections) = args.single_module_connections {
        let _ = writeln!(manifest, "single_module_connections={connections}");
        let dir = args.out.join("huge");
        let mut rng = Rng::for_module(args.seed, u64::MAX);
        write_huge_module(&mut rng, &dir, connections, args.file_bytes, &mut stats)?;
        let _ = writeln!(manifest, "rules_module=huge");
    } else {
        if args.files_per_module == 0 {
            return Err("--files-per-module must be at least 1".into());
        }
        let _ = writeln!(
            manifest,
            "modules={}\nfiles_per_module={}\nfile_bytes={}\nrules_fraction={}\nconnections={}",
            args.modules,
            args.files_per_module,
            args.file_bytes,
            args.rules_fraction,
            args.connections
        );
        let mut rules_modules = Vec::new();
        let mut plain_module = None;
        for index in 0..args.modules {
            let mut rng = Rng::for_module(args.seed, index as u64);
            let module = ModuleCtx::new(&mut rng, index);
            let with_rules = rng.chance(args.rules_fraction);
            let dir = args.out.join(&module.path);
            write_module(&mut rng, &dir, &module, args, with_rules, &mut stats)?;
            if with_rules {
                rules_modules.push(module.path.clone());
            } else if plain_module.is_none() {
                plain_module = Some(module.path.clone());
            }
        }
        if let Some(path) = plain_module {
            let _ = writeln!(manifest, "plain_module={path}");
        }
        for path in &rules_modules {
            let _ = writeln!(manifest, "rules_module={path}");
        }
    }
    let _ = writeln!(
        manifest,
        "tf_files={}\ntf_bytes={}\nrules_files={}\nconnections_total={}",
        stats.files, stats.bytes, stats.rules_files, stats.connections
    );
    write(&args.out.join(MANIFEST), &manifest)?;
    eprintln!(
        "monorepo: wrote {} .tf files, {:.1} MB, {} with mutual_rules ({} connections) under {}",
        stats.files,
        stats.bytes as f64 / 1e6,
        stats.rules_files,
        stats.connections,
        args.out.display()
    );
    if args.verify {
        verify(&args.out)?;
    }
    Ok(())
}

/// Makes `out` an empty directory, removing only what this generator wrote before.
fn prepare_out(out: &Path) -> Result<(), String> {
    match fs::read_dir(out) {
        Ok(mut entries) => {
            if entries.next().is_none() {
                return Ok(());
            }
            if !out.join(MANIFEST).is_file() {
                return Err(format!(
                    "{} is not empty and holds no {MANIFEST}: refusing to replace it",
                    out.display()
                ));
            }
            fs::remove_dir_all(out).map_err(|e| format!("removing {}: {e}", out.display()))?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("{}: {e}", out.display())),
    }
    fs::create_dir_all(out).map_err(|e| format!("creating {}: {e}", out.display()))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    }
    fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))
}

fn verify(out: &Path) -> Result<(), String> {
    let mut stack = vec![out.to_path_buf()];
    let mut checked = 0usize;
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).map_err(|e| e.to_string())? {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|ext| ext == "tf") {
                let text = fs::read_to_string(&path).map_err(|e| e.to_string())?;
                mutualsg::syntax::parse(&text)
                    .map_err(|e| format!("{}: {} at {:?}", path.display(), e.message, e.span))?;
                checked += 1;
            }
        }
    }
    eprintln!("monorepo: {checked} files parse");
    Ok(())
}

#[derive(Debug, Default)]
struct Stats {
    files: usize,
    bytes: usize,
    rules_files: usize,
    connections: usize,
}

impl Stats {
    fn add(&mut self, text: &str) {
        self.files += 1;
        self.bytes += text.len();
    }
}

// ---------------------------------------------------------------------------------------
// Pseudo-random numbers

/// splitmix64: tiny, fast, and good enough to pick words.
struct Rng(u64);

impl Rng {
    fn for_module(seed: u64, index: u64) -> Rng {
        let mut rng = Rng(seed ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03));
        rng.next();
        rng
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next()) * n as u128) >> 64) as usize
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn pick<'a, T: ?Sized>(&mut self, items: &'a [&'a T]) -> &'a T {
        items[self.below(items.len())]
    }

    fn hex(&mut self, len: usize) -> String {
        let mut s = String::with_capacity(len);
        while s.len() < len {
            let _ = write!(s, "{:016x}", self.next());
        }
        s.truncate(len);
        s
    }
}

// ---------------------------------------------------------------------------------------
// Vocabulary

const AREAS: &[&str] = &[
    "platform",
    "payments",
    "identity",
    "data",
    "search",
    "growth",
    "infra",
    "mobile",
    "messaging",
    "analytics",
    "security",
    "shared",
];
const TEAMS: &[&str] = &[
    "core", "edge", "batch", "realtime", "internal", "public", "ops", "ml",
];
const SERVICES: &[&str] = &[
    "api",
    "web",
    "worker",
    "queue",
    "cache",
    "db",
    "search",
    "auth",
    "billing",
    "ledger",
    "gateway",
    "ingest",
    "etl",
    "report",
    "notify",
    "media",
    "cdn",
    "admin",
    "metrics",
    "logs",
    "scheduler",
    "export",
    "import",
    "checkout",
    "catalog",
    "profile",
    "session",
    "inventory",
];
const ENVS: &[&str] = &["dev", "staging", "prod", "sandbox", "qa"];
const REGIONS: &[&str] = &[
    "us-east-1",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-southeast-2",
    "ap-northeast-1",
];
const INSTANCE_TYPES: &[&str] = &[
    "t3.micro",
    "t3.small",
    "t3.medium",
    "m5.large",
    "m5.xlarge",
    "c5.large",
    "c6g.xlarge",
    "r6g.large",
    "m6i.2xlarge",
];
const WORDS: &[&str] = &[
    "the",
    "service",
    "traffic",
    "from",
    "internal",
    "clients",
    "only",
    "used",
    "by",
    "for",
    "when",
    "this",
    "is",
    "set",
    "enables",
    "default",
    "value",
    "which",
    "must",
    "be",
    "a",
    "valid",
    "identifier",
    "of",
    "cluster",
    "nodes",
    "in",
    "each",
    "availability",
    "zone",
    "requests",
    "are",
    "routed",
    "through",
    "load",
    "balancer",
    "retention",
    "days",
    "logs",
    "kept",
    "encryption",
    "key",
    "managed",
    "rotation",
    "backup",
    "window",
    "maintenance",
    "replica",
    "count",
    "subnet",
    "private",
    "public",
    "ingress",
    "egress",
    "health",
    "check",
    "path",
    "timeout",
    "seconds",
    "threshold",
    "alarm",
    "metric",
    "namespace",
    "dimension",
];
const COMMON_PORTS: &[(u16, &str)] = &[
    (22, "SSH"),
    (53, "DNS"),
    (80, "HTTP"),
    (443, "HTTPS"),
    (1433, "SQL Server"),
    (2049, "NFS"),
    (3000, "Grafana"),
    (3306, "MySQL"),
    (4222, "NATS"),
    (5432, "PostgreSQL"),
    (5439, "Redshift"),
    (5672, "AMQP"),
    (6379, "Redis"),
    (7000, "Cassandra"),
    (8080, "HTTP alt"),
    (8443, "HTTPS alt"),
    (9000, "app metrics"),
    (9092, "Kafka"),
    (9200, "OpenSearch"),
    (9300, "OpenSearch transport"),
    (11211, "Memcached"),
    (15672, "RabbitMQ admin"),
    (27017, "MongoDB"),
    (50051, "gRPC"),
];

fn sentence(rng: &mut Rng, words: usize) -> String {
    let mut s = String::new();
    for i in 0..words {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(rng.pick(WORDS));
    }
    if let Some(first) = s.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    s.push('.');
    s
}

// ---------------------------------------------------------------------------------------
// Modules

struct ModuleCtx {
    /// Relative to the tree root.
    path: String,
    service: &'static str,
    env: &'static str,
    region: &'static str,
    /// The module's `aws_security_group` names.
    groups: Vec<String>,
}

impl ModuleCtx {
    fn new(rng: &mut Rng, index: usize) -> ModuleCtx {
        let area = rng.pick(AREAS);
        let team = rng.pick(TEAMS);
        let service = rng.pick(SERVICES);
        let groups = (0..rng.range(2, 5))
            .map(|i| format!("{}_{i:02}", rng.pick(SERVICES)))
            .collect();
        ModuleCtx {
            path: format!("{area}/{team}/{service}-{index:04}"),
            service,
            env: rng.pick(ENVS),
            region: rng.pick(REGIONS),
            groups,
        }
    }
}

/// The regular files of a module, in order, with their size relative to the mean.
const KINDS: &[(&str, f64)] = &[
    ("main", 1.3),
    ("security_groups", 1.0),
    ("variables", 1.3),
    ("outputs", 0.7),
    ("versions", 0.2),
    ("locals", 0.8),
    ("iam", 1.2),
    ("compute", 1.3),
    ("storage", 1.1),
    ("monitoring", 1.1),
    ("network", 1.0),
    ("data", 0.6),
    ("lambda", 1.1),
    ("ecs", 1.2),
    ("dns", 0.6),
    ("database", 1.2),
];

fn write_module(
    rng: &mut Rng,
    dir: &Path,
    module: &ModuleCtx,
    args: &Args,
    with_rules: bool,
    stats: &mut Stats,
) -> Result<(), String> {
    let mut files: Vec<(String, &str, f64)> = (0..args.files_per_module)
        .map(|i| {
            let (kind, weight) = KINDS[i % KINDS.len()];
            let name = match i / KINDS.len() {
                0 => format!("{kind}.tf"),
                round => format!("{kind}_{round}.tf"),
            };
            (name, kind, weight)
        })
        .collect();
    let mean_weight = files.iter().map(|f| f.2).sum::<f64>() / files.len() as f64;
    let mut rule_groups = Vec::new();
    if with_rules {
        files.pop();
        let count = (args.connections / 4)
            .clamp(4, 8)
            .max(args.connections.div_ceil(40));
        rule_groups = group_names(rng, count);
    }
    let sg_home = files.iter().any(|f| f.1 == "security_groups");
    for (name, kind, weight) in &files {
        let target = (args.file_bytes as f64 * weight / mean_weight * (0.5 + rng.unit())) as usize;
        let mut out = String::with_capacity(target + 2048);
        file_header(rng, &mut out, module, kind);
        if *kind == "security_groups" {
            for group in &rule_groups {
                block_security_group(rng, &mut out, module, group);
            }
        }
        fill(rng, &mut out, module, kind, target);
        write(&dir.join(name), &out)?;
        stats.add(&out);
    }
    if with_rules {
        let mut out = String::new();
        if !sg_home {
            for group in &rule_groups {
                block_security_group(rng, &mut out, module, group);
            }
        }
        let map_form = rng.chance(0.25);
        rules_local(rng, &mut out, &rule_groups, args.connections, map_form);
        write(&dir.join("rules.tf"), &out)?;
        stats.add(&out);
        stats.rules_files += 1;
        stats.connections += args.connections;
    }
    write(&dir.join(".terraform.lock.hcl"), &lock_file(rng))
}

fn write_huge_module(
    rng: &mut Rng,
    dir: &Path,
    connections: usize,
    file_bytes: usize,
    stats: &mut Stats,
) -> Result<(), String> {
    let mut module = ModuleCtx::new(rng, 0);
    module.path = "huge".into();
    let groups = group_names(rng, connections.div_ceil(40).max(4));
    for kind in ["versions", "variables", "outputs"] {
        let mut out = String::new();
        file_header(rng, &mut out, &module, kind);
        fill(rng, &mut out, &module, kind, file_bytes);
        write(&dir.join(format!("{kind}.tf")), &out)?;
        stats.add(&out);
    }
    let mut out = String::new();
    file_header(rng, &mut out, &module, "security_groups");
    for group in &groups {
        block_security_group(rng, &mut out, &module, group);
    }
    write(&dir.join("security_groups.tf"), &out)?;
    stats.add(&out);
    let mut out = String::new();
    rules_local(rng, &mut out, &groups, connections, false);
    write(&dir.join("rules.tf"), &out)?;
    stats.add(&out);
    stats.rules_files += 1;
    stats.connections += connections;
    Ok(())
}

/// Unique group names such as `billing_0007`.
fn group_names(rng: &mut Rng, count: usize) -> Vec<String> {
    let width = if count > 100 { 4 } else { 2 };
    (0..count)
        .map(|i| format!("{}_{i:0width$}", rng.pick(SERVICES)))
        .collect()
}

fn lock_file(rng: &mut Rng) -> String {
    let version = format!("5.{}.{}", rng.range(30, 80), rng.below(3));
    let mut out = format!(
        "# This file is maintained automatically by \"terraform init\".\n\
         # Manual edits may be lost in future updates.\n\n\
         provider \"registry.terraform.io/hashicorp/aws\" {{\n  version     = \"{version}\"\n  constraints = \">= 5.0.0\"\n  hashes = [\n"
    );
    for _ in 0..rng.range(3, 14) {
        let _ = writeln!(out, "    \"zh:{}\",", rng.hex(64));
    }
    out.push_str("  ]\n}\n");
    out
}

// ---------------------------------------------------------------------------------------
// mutual_rules

/// Port spellings of one connection.
enum Ports {
    /// `destination_port = 443`, or `"443"` when quoted.
    Destination(u16, bool),
    /// `destination_port = "8000-8100"`.
    DestinationRange(u16, u16),
    /// `from_port`, with `to_port` when it differs.
    FromTo(u16, u16),
    /// ICMP type and code.
    Icmp(i16, i16),
}

struct Conn {
    source: usize,
    target: usize,
    /// As written: `None` for the default tcp.
    protocol: Option<&'static str>,
    ports: Ports,
    label: String,
}

/// Draws `count` connections between `groups`: no two make the same AWS rule, and no group
/// gets more than 60 rules of a direction.
fn draw_connections(rng: &mut Rng, groups: &[String], count: usize) -> Vec<Conn> {
    const QUOTA: usize = 60;
    let mut outbound = vec![0usize; groups.len()];
    let mut inbound = vec![0usize; groups.len()];
    let mut seen = HashSet::new();
    let mut connections = Vec::with_capacity(count);
    let capacity = groups.len() * QUOTA;
    assert!(
        count <= capacity * 3 / 4,
        "too few groups for {count} connections"
    );
    while connections.len() < count {
        let source = rng.below(groups.len());
        let target = if rng.chance(0.05) {
            source
        } else {
            rng.below(groups.len())
        };
        if outbound[source] >= QUOTA || inbound[target] >= QUOTA {
            continue;
        }
        let roll = rng.unit();
        let (protocol, canonical, ports, label) = if roll < 0.02 {
            const ICMP: [(i16, i16, &str); 4] = [
                (8, 0, "ICMP echo"),
                (0, 0, "ICMP echo reply"),
                (3, 4, "path MTU discovery"),
                (-1, -1, "all ICMP"),
            ];
            let (t, c, label) = ICMP[rng.below(ICMP.len())];
            (Some("icmp"), "icmp", Ports::Icmp(t, c), label.to_string())
        } else {
            let udp = roll < 0.10;
            let protocol = if udp {
                Some("udp")
            } else if roll < 0.20 {
                Some("tcp")
            } else if roll < 0.24 {
                Some("TCP")
            } else {
                None
            };
            let (port, name) = if rng.chance(0.7) {
                COMMON_PORTS[rng.below(COMMON_PORTS.len())]
            } else {
                (rng.range(1024, 60000) as u16, "service")
            };
            let shape = rng.unit();
            let ports = if shape < 0.70 {
                Ports::Destination(port, false)
            } else if shape < 0.80 {
                Ports::Destination(port, true)
            } else if shape < 0.90 {
                Ports::DestinationRange(port, port + rng.range(1, 100) as u16)
            } else if rng.chance(0.5) {
                Ports::FromTo(port, port)
            } else {
                Ports::FromTo(port, port + rng.range(1, 20) as u16)
            };
            let canonical = if udp { "udp" } else { "tcp" };
            (protocol, canonical, ports, name.to_string())
        };
        let key = match ports {
            Ports::Destination(p, _) => (i32::from(p), i32::from(p)),
            Ports::DestinationRange(a, b) | Ports::FromTo(a, b) => (i32::from(a), i32::from(b)),
            Ports::Icmp(t, c) => (i32::from(t), i32::from(c)),
        };
        if !seen.insert((source, target, canonical, key)) {
            continue;
        }
        outbound[source] += 1;
        inbound[target] += 1;
        connections.push(Conn {
            source,
            target,
            protocol,
            ports,
            label,
        });
    }
    connections
}

/// `locals { mutual_rules = ... }`, list form (v1 keys, some v2) or map form (v2 keys).
fn rules_local(rng: &mut Rng, out: &mut String, groups: &[String], count: usize, map_form: bool) {
    let connections = draw_connections(rng, groups, count);
    out.push_str(
        "# Every connection between this module's security groups, written once: mutualsg\n\
         # generates the egress rule on the source group and the ingress rule on the target.\n\
         # Run `mutualsg generate` after editing.\n",
    );
    out.push_str("locals {\n");
    let _ = writeln!(out, "  rules_owner = \"{}\"", rng.pick(TEAMS));
    out.push('\n');
    out.push_str(if map_form {
        "  mutual_rules = {\n"
    } else {
        "  mutual_rules = [\n"
    });
    for (i, conn) in connections.iter().enumerate() {
        let source = &groups[conn.source];
        let target = &groups[conn.target];
        if rng.chance(0.05) {
            let _ = writeln!(out, "    # {}", sentence(rng, 6));
        }
        let mut attrs: Vec<(&str, String)> = vec![
            ("source_sg_id", format!("aws_security_group.{source}.id")),
            ("target_sg_id", format!("aws_security_group.{target}.id")),
        ];
        match conn.ports {
            Ports::Destination(port, false) => attrs.push(("destination_port", port.to_string())),
            Ports::Destination(port, true) => {
                attrs.push(("destination_port", format!("\"{port}\"")))
            }
            Ports::DestinationRange(from, to) if !map_form => {
                attrs.push(("destination_port", format!("\"{from}-{to}\"")))
            }
            Ports::DestinationRange(from, to) | Ports::FromTo(from, to) => {
                attrs.push(("from_port", from.to_string()));
                if to != from {
                    attrs.push(("to_port", to.to_string()));
                }
            }
            Ports::Icmp(t, c) => {
                attrs.push(("from_port", t.to_string()));
                attrs.push(("to_port", c.to_string()));
            }
        }
        if let Some(protocol) = conn.protocol {
            attrs.push(("protocol", format!("\"{protocol}\"")));
        }
        if !map_form && rng.chance(0.05) {
            attrs.push(("name", format!("\"custom_{i}_{source}_{target}\"")));
        }
        let label = &conn.label;
        if map_form && rng.chance(0.5) {
            attrs.push(("description_source", format!("\"{label} from {source}\"")));
            attrs.push(("description_target", format!("\"{label} to {target}\"")));
        } else if rng.chance(0.85) {
            attrs.push((
                "description",
                format!("\"{label} from {source} to {target}\""),
            ));
        }
        if map_form {
            let _ = writeln!(out, "    c{i:03}_{source}_{target} = {{");
        } else {
            out.push_str("    {\n");
        }
        let width = attrs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        for (key, value) in &attrs {
            let _ = writeln!(out, "      {key:width$} = {value}");
        }
        out.push_str(if map_form { "    }\n" } else { "    },\n" });
    }
    out.push_str(if map_form { "  }\n" } else { "  ]\n" });
    out.push_str("}\n");
}

// ---------------------------------------------------------------------------------------
// Ordinary content

fn file_header(rng: &mut Rng, out: &mut String, module: &ModuleCtx, kind: &str) {
    match rng.below(4) {
        0 => {
            let _ = writeln!(
                out,
                "# {} for the {} service ({}, {}).\n# {}\n",
                kind.replace('_', " "),
                module.service,
                module.env,
                module.region,
                sentence(rng, 12)
            );
        }
        1 => {
            let _ = writeln!(
                out,
                "/*\n * {kind}.tf\n *\n * {}\n * {}\n */\n",
                sentence(rng, 10),
                sentence(rng, 8)
            );
        }
        _ => {}
    }
}

type Template = fn(&mut Rng, &mut String, &ModuleCtx);

fn templates(kind: &str) -> &'static [Template] {
    match kind {
        "main" => &[
            block_module_call,
            block_lambda,
            block_ecs_service,
            block_locals,
            block_comment,
        ],
        "security_groups" => &[block_any_security_group, block_vpc_endpoint],
        "variables" => &[block_variable],
        "outputs" => &[block_output],
        "versions" => &[block_provider],
        "locals" => &[block_locals],
        "iam" => &[block_iam_role, block_policy_document, block_iam_policy],
        "compute" => &[
            block_instance,
            block_launch_template,
            block_autoscaling_group,
        ],
        "storage" => &[block_s3_bucket, block_kms_key],
        "monitoring" => &[block_alarm, block_log_group, block_comment],
        "network" => &[
            block_lb,
            block_target_group,
            block_listener,
            block_vpc_endpoint,
        ],
        "data" => &[block_data_sources],
        "lambda" => &[block_lambda, block_iam_role, block_log_group],
        "ecs" => &[block_ecs_task, block_ecs_service],
        "dns" => &[block_route53_record],
        "database" => &[block_db_instance, block_elasticache],
        _ => &[block_comment],
    }
}

fn fill(rng: &mut Rng, out: &mut String, module: &ModuleCtx, kind: &str, target: usize) {
    if kind == "versions" {
        block_terraform(rng, out, module);
    }
    let templates = templates(kind);
    // Stop half a block early on average, so files come out near their target size.
    while out.len() + 300 < target {
        let template = templates[rng.below(templates.len())];
        template(rng, out, module);
    }
}

fn tags(rng: &mut Rng, out: &mut String, indent: &str, name: &str) {
    if rng.chance(0.5) {
        let _ = writeln!(
            out,
            "{indent}tags = merge(local.common_tags, {{\n{indent}  Name = \"{name}\"\n{indent}}})"
        );
    } else {
        let _ = writeln!(
            out,
            "{indent}tags = {{\n{indent}  Name        = \"{name}\"\n{indent}  Environment = var.environment\n{indent}  Team        = \"{}\"\n{indent}  CostCenter  = \"cc-{}\"\n{indent}}}",
            rng.pick(TEAMS),
            rng.range(1000, 9999)
        );
    }
}

fn ident(rng: &mut Rng, module: &ModuleCtx) -> String {
    format!("{}_{}", module.service, rng.pick(SERVICES))
}

fn block_comment(rng: &mut Rng, out: &mut String, _module: &ModuleCtx) {
    match rng.below(3) {
        0 => {
            let _ = writeln!(
                out,
                "# ---------------------------------------------------------------------------\n# {}\n# ---------------------------------------------------------------------------\n",
                sentence(rng, 5)
            );
        }
        1 => {
            let _ = writeln!(out, "// {}\n// {}\n", sentence(rng, 11), sentence(rng, 9));
        }
        _ => {
            let _ = writeln!(
                out,
                "/*\nresource \"aws_sqs_queue\" \"legacy_{}\" {{\n  name = \"legacy\"\n}}\n*/\n",
                rng.below(100)
            );
        }
    }
}

fn block_security_group(rng: &mut Rng, out: &mut String, module: &ModuleCtx, name: &str) {
    let _ = writeln!(
        out,
        "resource \"aws_security_group\" \"{name}\" {{\n  name        = \"${{var.name_prefix}}-{}\"\n  description = \"{}\"\n  vpc_id      = var.vpc_id\n",
        name.replace('_', "-"),
        sentence(rng, 4).trim_end_matches('.')
    );
    tags(rng, out, "  ", name);
    let _ = writeln!(
        out,
        "\n  lifecycle {{\n    create_before_destroy = true\n  }}\n}}\n"
    );
    let _ = module;
}

fn block_any_security_group(rng: &mut Rng, out: &mut String, module: &ModuleCtx) {
    let name = format!(
        "{}_{}",
        module.groups[rng.below(module.groups.len())],
        rng.below(1000)
    );
    let _ = writeln!(
        out,
        "resource \"aws_security_group\" \"{name}\" {{\n  name_prefix = \"{}-\"\n  description = \"{}\"\n  vpc_id      = var.vpc_id\n",
        name.replace('_', "-"),
        sentence(rng, 6).trim_end_matches('.')
    );
    for _ in 0..rng.range(1, 3) {
        let port = COMMON_PORTS[rng.below(COMMON_PORTS.len())];
        let _ = writeln!(
            out,
            "  ingress {{\n    description = \"{} from the VPC\"\n    from_port   = {}\n    to_port     = {}\n    protocol    = \"tcp\"\n    cidr_blocks = [\"10.{}.0.0/16\"]\n  }}\n",
            port.1,
            port.0,
            port.0,
            rng.below(256)
        );
    }
    let _ = writeln!(
        out,
        "  dynamic \"ingress\" {{\n    for_each = var.extra_ingress\n    content {{\n      description     = ingress.value.description\n      from_port       = ingress.value.port\n      to_port         = ingress.value.port\n      protocol        = \"tcp\"\n      prefix_list_ids = ingress.value.prefix_lists\n    }}\n  }}\n"
    );
    tags(rng, out, "  ", &name);
    out.push_str("}\n\n");
}

fn block_vpc_endpoint(rng: &mut Rng, out: &mut String, module: &ModuleCtx) {
    let service = rng.pick(&[
        "s3",
        "dynamodb",
        "sqs",
        "sns",
        "ecr.api",
        "ecr.dkr",
        "logs",
        "kms",
        "secretsmanager",
    ]);
    let _ = writeln!(
        out,
        "resource \"aws_vpc_endpoint\" \"{}_{}\" {{\n  vpc_id              = var.vpc_id\n  service_name        = \"com.amazonaws.{}.{service}\"\n  vpc_endpoint_type   = \"Interface\"\n  private_dns_enabled = true\n  subnet_ids          = var.private_subnet_ids\n  security_group_ids  = [for sg in values(aws_security_group.endpoints) : sg.id]\n\n  policy = jsonencode({{\n    Version = \"2012-10-17\"\n    Statement = [{{\n      Effect    = \"Allow\"\n      Principal = \"*\"\n      Action    = [\"{}:*\"]\n      Resource  = \"*\"\n      Condition = {{\n        StringEquals = {{ \"aws:PrincipalAccount\" = data.aws_caller_identity.current.account_id }}\n      }}\n    }}]\n  }})\n",
        service.replace('.', "_"),
        rng.below(100),
        module.region,
        service.split('.').next().unwrap_or("s3")
    );
    tags(rng, out, "  ", service);
    out.push_str("}\n\n");
}

fn block_variable(rng: &mut Rng, out: &mut String, module: &ModuleCtx) {
    let name = format!("{}_{}", rng.pick(WORDS), rng.pick(WORDS)).replace(' ', "_");
    let name = format!("{name}_{}", rng.below(1000));
    let words = rng.range(6, 18);
    let description = sentence(rng, words);
    let _ = writeln!(
        out,
        "variable \"{name}\" {{\n  description = \"{description}\""
    );
    match rng.below(7) {
        0 => {
            let _ = writeln!(
                out,
                "  type        = string\n  default     = \"{}-{}\"",
                module.service, module.env
            );
        }
        1 => {
            let _ = writeln!(
                out,
                "  type        = number\n  default     = {}",
                rng.range(1, 3600)
            );
        }
        2 => {
            let _ = writeln!(
                out,
                "  type        = bool\n  default     = {}",
                rng.chance(0.5)
            );
        }
        3 => {
            let _ = writeln!(
                out,
                "  type        = list(string)\n  default     = [\"{}a\", \"{}b\", \"{}c\"]",
                module.region, module.region, module.region
            );
        }
        4 => {
            let _ = writeln!(
                out,
                "  type = map(object({{\n    port        = number\n    description = string\n    cidrs       = optional(list(string), [])\n  }}))\n  default = {{}}"
            );
        }
        5 => {
            let _ = writeln!(
                out,
                "  type = object({{\n    enabled           = bool\n    retention_in_days = optional(number, 30)\n    kms_key_arn       = optional(string)\n    tags              = optional(map(string), {{}})\n  }})\n  default = {{\n    enabled = true\n  }}"
            );
        }
        _ => {
            let _ = writeln!(
                out,
                "  type        = string\n  sensitive   = true\n  nullable    = false"
            );
        }
    }
    if rng.chance(0.4) {
        let _ = writeln!(
            out,
            "\n  validation {{\n    condition     = can(regex(\"^[a-z0-9-]{{3,{}}}$\", var.{name})) || var.{name} == null\n    error_message = \"{} must be 3 to {} lower-case letters, digits or dashes.\"\n  }}",
            rng.range(16, 64),
            name,
            rng.range(16, 64)
        );
    }
    out.push_str("}\n\n");
}

fn block_output(rng: &mut Rng, out: &mut String, module: &ModuleCtx) {
    let name = ident(rng, module);
    let n = rng.below(1000);
    let words = rng.range(4, 12);
    let description = sentence(rng, words);
    match rng.below(4) {
        0 => {
            let _ = writeln!(
                out,
                "output \"{name}_ids_{n}\" {{\n  description = \"{description}\"\n  value       = [for instance in aws_instance.{name} : instance.id]\n}}\n"
            );
        }
        1 => {
            let _ = writeln!(
                out,
                "output \"{name}_by_az_{n}\" {{\n  description = \"{description}\"\n  value = {{\n    for subnet in data.aws_subnet.private :\n    subnet.availability_zone => subnet.id...\n  }}\n}}\n"
            );
        }
        2 => {
            let _ = writeln!(
                out,
                "output \"{name}_connection_{n}\" {{\n  description = \"{description}\"\n  sensitive   = true\n  value = {{\n    endpoint = aws_db_instance.{name}.endpoint\n    port     = aws_db_instance.{name}.port\n    username = aws_db_instance.{name}.username\n  }}\n}}\n"
            );
        }
        _ => {
            let _ = writeln!(
                out,
                "output \"{name}_arn_{n}\" {{\n  description = \"{description}\"\n  value       = try(aws_lb.{name}[0].arn, null)\n}}\n"
            );
        }
    }
}

fn block_terraform(rng: &mut Rng, out: &mut String, _module: &ModuleCtx) {
    let _ = writeln!(
        out,
        "terraform {{\n  required_version = \">= 1.{}.0\"\n\n  required_providers {{\n    aws = {{\n      source  = \"hashicorp/aws\"\n      version = \"~> 5.{}\"\n    }}\n    random = {{\n      source  = \"hashicorp/random\"\n      version = \">= 3.5\"\n    }}\n  }}\n\n  backend \"s3\" {{\n    bucket         = \"tfstate-{}\"\n    key            = \"{}/terraform.tfstate\"\n    region         = \"us-east-1\"\n    dynamodb_table = \"tfstate-lock\"\n    encrypt        = true\n  }}\n}}\n",
        rng.range(3, 9),
        rng.range(20, 80),
        rng.hex(8),
        rng.hex(12)
    );
}

fn block_provider(rng: &mut Rng, out: &mut String, module: &ModuleCtx) {
    let alias = rng.pick(&["replica", "dns", "shared", "logging", "audit"]);
    let _ = writeln!(
        out,
        "provider \"aws\" {{\n  alias  = \"{alias}_{}\"\n  region = \"{}\"\n\n  assume_role {{\n    role_arn     = \"arn:aws:iam::{}:role/terraform\"\n    session_name = \"terraform-{}\"\n  }}\n\n  default_tags {{\n    tags = {{\n      ManagedBy   = \"terraform\"\n      Service     = \"{}\"\n      Environment = \"{}\"\n    }}\n  }}\n}}\n",
        rng.below(100),
        rng.pick(REGIONS),
        rng.range(100_000_000_000, 999_999_999_999),
        module.env,
        module.service,
        module.env
    );
}

fn block_locals(rng: &mut Rng, out: &mut String, module: &ModuleCtx) {
    let n = rng.below(1000);
    let _ = writeln!(
        out,
        "locals {{\n  name_{n} = \"${{var.name_prefix}}-{}-{}\"\n\n  common_tags_{n} = {{\n    Service     = \"{}\"\n    Environment = \"{}\"\n    Repository  = \"infrastructure\"\n    Owner       = \"{}\"\n  }}\n\n  # {}\n  subnets_by_az_{n} = {{\n    for s in data.aws_subnet.private : s.availability_zone => s.id\n  }}\n  enabled_{n}  = var.enabled && var.environment != \"sandbox\"\n  replicas_{n} = var.environment == \"prod\" ? {} : 1\n  ports_{n}    = distinct(concat([for r in var.extra_ingress : r.port], [{}, {}]))\n  upper_{n}    = {{ for k, v in var.settings : upper(k) => v if v != null }}\n}}\n",
        module.service,
        module.env,
        module.service,
        module.env,
        rng.pick(TEAMS),
        sentence(rng, 9),
        rng.range(2, 6),
        COMMON_PORTS[rng.below(COMMON_PORTS.len())].0,
        COMMON_PORTS[rng.below(COMMON_PORTS.len())].0
    );
}

fn block_iam_role(rng: &mut Rng, out: &mut String, module: &ModuleCtx) {
    let name = ident(rng, module);
    let principal = rng.pick(&["ec2", "lambda", "ecs-tasks", "states", "events"]);
    let _ = writeln!(
        out,
        "resource \"aws_iam_role\" \"{name}\" {{\n  name                 = \"${{local.name}}-{}\"\n  description          = \"{}\"\n  max_session_duration = {}\n  permissions_boundary = var.permissions_boundary_arn\n\n  assume_role_policy = <<EOF\n{{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {{\n      \"Effect\": \"Allow\",\n      \"Principal\": {{ \"Service\": \"{principal}.amazonaws.com\" }},\n      \"Action\": \"sts:AssumeRole\"\n    }}\n  ]\n}}\nEOF\n",
        name.replace('_', "-"),
        sentence(rng, 7).trim_end_matches('.'),
        rng.pick(&["3600", "7200", "43200"])
    );
    tags(rng, out, "  ", &name);
    let _ = writeln!(
        out,
        "}}\n\nresource \"aws_iam_role_policy_attachment\" \"{name}\" {{\n  for_each   = toset(var.managed_policy_arns)\n  role       = aws_iam_role.{name}.name\n  policy_arn = each.value\n}}\n"
    );
}

fn block_policy_document(rng: &mut Rng, out: &mut String, module: &ModuleCtx) {
    let name = ident(rng, module);
    let _ = writeln!(
        out,
        "data \"aws_iam_policy_document\" \"{name}\" {{\n  statement {{\n    sid       = \"Read{}\"\n    effect    = \"Allow\"\n    actions   = [\"s3:GetObject\", \"s3:ListBucket\", \"s3:GetBucketLocation\"]\n    resources = [aws_s3_bucket.{name}.arn, \"${{aws_s3_bucket.{name}.arn}}/*\"]\n  }}\n\n  dynamic \"statement\" {{\n    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]\n    content {{\n      sid       = \"Decrypt\"\n      actions   = [\"kms:Decrypt\", \"kms:GenerateDataKey\"]\n      resources = [statement.value]\n    }}\n  }}\n\n  statement {{\n    sid     = \"DenyInsecureTransport\"\n    effect  = \"Deny\"\n    actions = [\"s3:*\"]\n    principals {{\n      type        = \"*\"\n      identifiers = [\"*\"]\n    }}\n    condition {{\n      test     = \"Bool\"\n      variable = \"aws:SecureTransport\"\n      values   = [\"false\"]\n    }}\n  }}\n}}\n",
        rng.below(100)
    );
}

fn block_iam_policy(rng: &mut Rng, out: &mut String, module: &ModuleCtx) {
    let name = ident(rng, module);
    let _ = writeln!(
        out,
        "resource \"aws_iam_policy\" \"{name}\" {{\n  name        = \"${{local.name}}-{}\"\n  path        = \"/{}/\"\n  description = \"{}\"\n  policy = jsonencode({{\n    Version = \"2012-10-17\"\n    Statement = [\n      {{\n        Effect   = \"Allow\"\n        Action   = [\"sqs:SendMessage\", \"sqs:ReceiveMessage\", \"sqs:DeleteMessage\", \"sqs:GetQueueAttributes\"]\n        Resource = [for q in aws_sqs_queue.this : q.arn]\n      }},\n      {{\n        Effect   = \"Allow\"\n        Action   = [\"logs:CreateLogStream\", \"logs:PutLogEvents\"]\n        Resource = \"arn:aws:logs:{}:${{data.aws_caller_identity.current.account_id}}:log-group:/aws/{}/*\"\n      }},\n    ]\n  }})\n}}\n",
        name.replace('_', "-"),
        module.service,
        sentence(rng, 8).trim_end_matches('.'),
        module.region,
        module.service
    );
}

fn block_instance(rng: &mut Rng, out: &mut String, module: &ModuleCtx) {
    let name = ident(rng, module);
    let _ = writeln!(
        out,
        "resource \"aws_instance\" \"{name}\" {{\n  count                  = var.instance_count\n  ami                    = \"ami-0{}\"\n  instance_type          = \"{}\"\n  subnet_id              = element(var.private_subnet_ids, count.index)\n  vpc_security_group_ids = [aws_security_group.{}.id]\n  iam_instance_profile   = aws_iam_instance_profile.{name}.name\n  monitoring             = true\n  ebs_optimized          = true\n\n  user_data = <<-EOT\n    #!/bin/bash\n    set -euo pipefail\n    echo \"ECS_CLUSTER=${{var.cluster_name}}\" >> /etc/ecs/ecs.config\n    yum install -y amazon-cloudwatch-agent\n    systemctl enable --now amazon-cloudwatch-agent\n    # {}\n  EOT\n\n  root_block_device {{\n    volume_type           = \"gp3\"\n    volume_size           = {}\n    encrypted             = true\n    delete_on_termination = true\n  }}\n\n  metadata_options {{\n    http_endpoint               = \"enabled\"\n    http_tokens                 = \"required\"\n    http_put_response_hop_limit = 1\n  }}\n",
        rng.hex(16),
        rng.pick(INSTANCE_TYPES),
        module.groups[0],
        sentence(rng, 6),
        rng.range(8, 500)
    );
    tags(rng, out, "  ", &name);
    out.push_str("}\n\n");
}

fn block_launch_template(rng: &mut Rng, out: &mut String, module: &ModuleCtx) {
    let name = ident(rng, module);
    let _ = writeln!(
        out,
        "resource \"aws_launch_template\" \"{name}\" {{\n  name_prefix   = \"{}-\"\n  image_id      = data.aws_ami.al2023.id\n  instance_type = \"{}\"\n  key_name      = var.key_name\n\n  network_interfaces {{\n    associate_public_ip_address = false\n    security_groups             = [aws_security_group.{}.id]\n  }}\n\n  dynamic \"block_device_mappings\" {{\n    for_each = var.volumes\n    content {{\n      device_name = block_device_mappings.value.device\n      ebs {{\n        volume_size = block_device_mappings.value.size\n        volume_type = \"gp3\"\n        encrypted   = true\n      }}\n    }}\n  }}\n\n  tag_specifications {{\n    resource_type = \"instance\"\n    tags          = local.common_tags\n  }}\n}}\n",
        name.replace('_', "-"),
        rng.pick(INSTANCE_TYPES),
        module.groups[module.groups.len() - 1]
    );
}

fn block_autoscaling_group(rng: &mut Rng, out: &mut String, module: &ModuleCtx) {
    let name = ident(rng, module);
    let _ = writeln!(
        out,
        "resource \"aws_autoscaling_group\" \"{name}\" {{\n  name_prefix               = \"{}-\"\n  min_size                  = {}\n  max_size                  = {}\n  desired_capacity          = null\n  health_check_type         = \"ELB\"\n  health_check_grace_period = 300\n  vpc_zone_identifier       = var.private_subnet_ids\n  target_group_arns         = [aws_lb_target_group.{name}.arn]\n\n  launch_template {{\n    id      = aws_launch_template.{name}.id\n    version = \"$Latest\"\n  }}\n\n  instance_refresh {{\n    strategy = \"Rolling\"\n    preferences {{\n      min_healthy_percentage = 90\n    }}\n  }}\n\n  dynamic \"tag\" {{\n    for_each = merge(local.common_tags, {{ Name = \"{name}\" }})\n    content {{\n      key                 = tag.key\n      value               = tag.value\n      propagate_at_launch = true\n    }}\n  }}\n}}\n",
        name.replace('_', "-"),
        rng.range(1, 3),
        rng.range(4, 40)
    );
}

fn block_s3_bucket(rng: &mut Rng, out: &mut String, module: &ModuleCtx) {
    let name = ident(rng, module);
    let _ = writeln!(
        out,
        "resource \"aws_s3_bucket\" \"{name}\" {{\n  bucket        = \"${{local.name}}-{}-{}\"\n  force_destroy = false\n",
        name.replace('_', "-"),
        rng.hex(6)
    );
    tags(rng, out, "  ", &name);
    let _ = writeln!(
        out,
        "}}\n\nresource \"aws_s3_bucket_versioning\" \"{name}\" {{\n  bucket = aws_s3_bucket.{name}.id\n  versioning_configuration {{\n    status = \"Enabled\"\n  }}\n}}\n\nresource \"aws_s3_bucket_server_side_encryption_configuration\" \"{name}\" {{\n  bucket = aws_s3_bucket.{name}.id\n\n  rule {{\n    apply_server_side_encryption_by_default {{\n      sse_algorithm     = \"aws:kms\"\n      kms_master_key_id = aws_kms_key.{name}.arn\n    }}\n    bucket_key_enabled = true\n  }}\n}}\n\nresource \"aws_s3_bucket_lifecycle_configuration\" \"{name}\" {{\n  bucket = aws_s3_bucket.{name}.id\n\n  dynamic \"rule\" {{\n    for_each = var.lifecycle_rules\n    content {{\n      id     = rule.key\n      status = \"Enabled\"\n      filter {{\n        prefix = rule.value.prefix\n      }}\n      expiration {{\n        days = rule.value.days\n      }}\n    }}\n  }}\n}}\n"
    );
}

fn block_kms_key(rng: &mut Rng, out: &mut String, module: &ModuleCtx) {
    let name = ident(rng, module);
    let _ = writeln!(
        out,
        "resource \"aws_kms_key\" \"{name}\" {{\n  description             = \"{}\"\n  deletion_window_in_days = {}\n  enable_key_rotation     = true\n  policy                  = <<-POLICY\n    {{\n      \"Version\": \"2012-10-17\",\n      \"Id\": \"key-{}\",\n      \"Statement\": [\n        {{\n          \"Sid\": \"EnableRoot\",\n          \"Effect\": \"Allow\",\n          \"Principal\": {{ \"AWS\": \"arn:aws:iam::${{data.aws_caller_identity.current.account_id}}:root\" }},\n          \"Action\": \"kms:*\",\n          \"Resource\": \"*\"\n        }}\n      ]\n    }}\n  POLICY\n}}\n\nresource \"aws_kms_alias\" \"{name}\" {{\n  name          = \"alias/{}/{}\"\n  target_key_id = aws_kms_key.{name}.key_id\n}}\n",
        sentence(rng, 6).trim_end_matches('.'),
        rng.range(7, 30),
        rng.hex(8),
        module.service,
        name.replace('_', "-")
    );
}

fn block_alarm(rng: &mut Rng, out: &mut String, module: &ModuleCtx) {
    let name = ident(rng, module);
    let metric = rng.pick(&[
        "CPUUtilization",
        "HTTPCode_Target_5XX_Count",
        "TargetResponseTime",
        "FreeStorageSpace",
        "ApproximateAgeOfOldestMessage",
    ]);
    let _ = writeln!(
        out,
        "resource \"aws_cloudwatch_metric_alarm\" \"{name}_{}\" {{\n  alarm_name          = \"${{local.name}}-{}-{}\"\n  alarm_description   = \"{}\"\n  comparison_operator = \"GreaterThanOrEqualToThreshold\"\n  evaluation_periods  = {}\n  metric_name         = \"{metric}\"\n  namespace           = \"AWS/{}\"\n  period              = {}\n  statistic           = \"Average\"\n  threshold           = {}\n  treat_missing_data  = \"notBreaching\"\n  alarm_actions       = [var.alarm_topic_arn]\n  ok_actions          = [var.alarm_topic_arn]\n\n  dimensions = {{\n    LoadBalancer = aws_lb.{name}.arn_suffix\n    TargetGroup  = aws_lb_target_group.{name}.arn_suffix\n  }}\n",
        metric.to_lowercase(),
        name.replace('_', "-"),
        metric.to_lowercase(),
        sentence(rng, 9).trim_end_matches('.'),
        rng.range(1, 5),
        rng.pick(&["EC2", "ApplicationELB", "RDS", "SQS"]),
        rng.pick(&["60", "300", "900"]),
        rng.range(1, 95)
    );
    tags(rng, out, "  ", &name);
    out.push_str("}\n\n");
}

fn block_log_group(rng: &mut Rng, out: &mut String, module: &ModuleCtx) {
    let name = ident(rng, module);
    let _ = writeln!(
        out,
        "resource \"aws_cloudwatch_log_group\" \"{name}\" {{\n  name              = \"/aws/{}/{}\"\n  retention_in_days = var.log_retention_days\n  kms_key_id        = var.kms_key_arn\n}}\n\nresource \"aws_cloudwatch_log_metric_filter\" \"{name}_errors\" {{\n  name           = \"{}-errors\"\n  log_group_name = aws_cloudwatch_log_group.{name}.name\n  pattern        = \"{{ $.level = \\\"error\\\" }}\"\n\n  metric_transformation {{\n    name      = \"Errors\"\n    namespace = \"{}/{}\"\n    value     = \"1\"\n  }}\n}}\n",
        module.service,
        name.replace('_', "-"),
        name.replace('_', "-"),
        module.service,
        module.env
    );
}

fn block_lb(rng: &mut Rng, out: &mut String, module: &ModuleCtx) {
    let name = ident(rng, module);
    let _ = writeln!(
        out,
        "resource \"aws_lb\" \"{name}\" {{\n  count                      = var.create_lb ? 1 : 0\n  name                       = substr(\"${{local.name}}-{}\", 0, 32)\n  internal                   = {}\n  load_balancer_type         = \"application\"\n  security_groups            = [aws_security_group.{}.id]\n  subnets                    = var.public_subnet_ids\n  idle_timeout               = {}\n  enable_deletion_protection = var.environment == \"prod\"\n  drop_invalid_header_fields = true\n\n  access_logs {{\n    bucket  = var.access_log_bucket\n    prefix  = \"{}\"\n    enabled = true\n  }}\n",
        name.replace('_', "-"),
        rng.chance(0.5),
        module.groups[0],
        rng.range(30, 400),
        module.service
    );
    tags(rng, out, "  ", &name);
    out.push_str("}\n\n");
}

fn block_target_group(rng: &mut Rng, out: &mut String, module: &ModuleCtx) {
    let name = ident(rng, module);
    let port = COMMON_PORTS[rng.below(COMMON_PORTS.len())].0;
    let _ = writeln!(
        out,
        "resource \"aws_lb_target_group\" \"{name}\" {{\n  name_prefix          = \"{}\"\n  port                 = {port}\n  protocol             = \"HTTP\"\n  target_type          = \"ip\"\n  vpc_id               = var.vpc_id\n  deregistration_delay = {}\n\n  health_check {{\n    enabled             = true\n    path                = \"/healthz\"\n    matcher             = \"200-299\"\n    interval            = {}\n    timeout             = 5\n    healthy_threshold   = 3\n    unhealthy_threshold = 3\n  }}\n\n  stickiness {{\n    type            = \"lb_cookie\"\n    cookie_duration = 86400\n    enabled         = false\n  }}\n}}\n",
        &module.service[..module.service.len().min(6)],
        rng.range(0, 300),
        rng.range(10, 60)
    );
}

fn block_listener(rng: &mut Rng, out: &mut String, module: &ModuleCtx) {
    let name = ident(rng, module);
    let _ = writeln!(
        out,
        "resource \"aws_lb_listener\" \"{name}_https\" {{\n  load_balancer_arn = aws_lb.{name}[0].arn\n  port              = 443\n  protocol          = \"HTTPS\"\n  ssl_policy        = \"ELBSecurityPolicy-TLS13-1-2-2021-06\"\n  certificate_arn   = var.certificate_arn\n\n  default_action {{\n    type = \"fixed-response\"\n    fixed_response {{\n      content_type = \"text/plain\"\n      message_body = \"Not found\"\n      status_code  = \"404\"\n    }}\n  }}\n}}\n\nresource \"aws_lb_listener_rule\" \"{name}\" {{\n  for_each     = var.routes\n  listener_arn = aws_lb_listener.{name}_https.arn\n  priority     = {} + index(keys(var.routes), each.key)\n\n  action {{\n    type             = \"forward\"\n    target_group_arn = aws_lb_target_group.{name}.arn\n  }}\n\n  condition {{\n    path_pattern {{\n      values = each.value.paths\n    }}\n  }}\n}}\n",
        rng.range(1, 50) * 100
    );
}

fn block_data_sources(rng: &mut Rng, out: &mut String, module: &ModuleCtx) {
    let n = rng.below(1000);
    let _ = writeln!(
        out,
        "data \"aws_vpc\" \"selected_{n}\" {{\n  filter {{\n    name   = \"tag:Name\"\n    values = [\"{}-{}\"]\n  }}\n}}\n\ndata \"aws_subnets\" \"private_{n}\" {{\n  filter {{\n    name   = \"vpc-id\"\n    values = [data.aws_vpc.selected_{n}.id]\n  }}\n  tags = {{\n    Tier = \"private\"\n  }}\n}}\n\ndata \"aws_ami\" \"al2023_{n}\" {{\n  most_recent = true\n  owners      = [\"amazon\"]\n\n  filter {{\n    name   = \"name\"\n    values = [\"al2023-ami-2023.*-x86_64\"]\n  }}\n}}\n",
        module.env, module.region
    );
}

fn block_module_call(rng: &mut Rng, out: &mut String, module: &ModuleCtx) {
    let name = ident(rng, module);
    let _ = writeln!(
        out,
        "module \"{name}\" {{\n  source = \"../../../shared/modules/{}\"\n\n  name               = \"${{local.name}}-{}\"\n  environment        = var.environment\n  vpc_id             = var.vpc_id\n  subnet_ids         = var.private_subnet_ids\n  security_group_ids = [aws_security_group.{}.id]\n  instance_type      = \"{}\"\n  min_size           = {}\n  max_size           = {}\n  enable_monitoring  = true\n\n  settings = {{\n    for key, value in var.settings : key => value\n    if !startswith(key, \"_\")\n  }}\n\n  tags = local.common_tags\n}}\n",
        rng.pick(SERVICES),
        name.replace('_', "-"),
        module.groups[0],
        rng.pick(INSTANCE_TYPES),
        rng.range(1, 3),
        rng.range(3, 30)
    );
}

fn block_lambda(rng: &mut Rng, out: &mut String, module: &ModuleCtx) {
    let name = ident(rng, module);
    let _ = writeln!(
        out,
        "resource \"aws_lambda_function\" \"{name}\" {{\n  function_name = \"${{local.name}}-{}\"\n  description   = \"{}\"\n  role          = aws_iam_role.{name}.arn\n  handler       = \"main.handler\"\n  runtime       = \"{}\"\n  memory_size   = {}\n  timeout       = {}\n  s3_bucket     = var.artifact_bucket\n  s3_key        = \"{}/{}/${{var.release}}.zip\"\n\n  environment {{\n    variables = {{\n      SERVICE     = \"{}\"\n      ENVIRONMENT = var.environment\n      LOG_LEVEL   = var.environment == \"prod\" ? \"info\" : \"debug\"\n      QUEUE_URL   = aws_sqs_queue.{name}.url\n    }}\n  }}\n\n  dynamic \"vpc_config\" {{\n    for_each = var.vpc_id == null ? [] : [1]\n    content {{\n      subnet_ids         = var.private_subnet_ids\n      security_group_ids = [aws_security_group.{}.id]\n    }}\n  }}\n\n  tracing_config {{\n    mode = \"Active\"\n  }}\n",
        name.replace('_', "-"),
        sentence(rng, 7).trim_end_matches('.'),
        rng.pick(&["python3.12", "nodejs20.x", "provided.al2023", "java21"]),
        rng.pick(&["128", "256", "512", "1024"]),
        rng.range(3, 900),
        module.service,
        name,
        module.service,
        module.groups[0]
    );
    tags(rng, out, "  ", &name);
    out.push_str("}\n\n");
}

fn block_ecs_task(rng: &mut Rng, out: &mut String, module: &ModuleCtx) {
    let name = ident(rng, module);
    let port = COMMON_PORTS[rng.below(COMMON_PORTS.len())].0;
    let _ = writeln!(
        out,
        "resource \"aws_ecs_task_definition\" \"{name}\" {{\n  family                   = \"{}\"\n  requires_compatibilities = [\"FARGATE\"]\n  network_mode             = \"awsvpc\"\n  cpu                      = {}\n  memory                   = {}\n  execution_role_arn       = aws_iam_role.execution.arn\n  task_role_arn            = aws_iam_role.{name}.arn\n\n  container_definitions = jsonencode([\n    {{\n      name      = \"{}\"\n      image     = \"${{var.ecr_repository_url}}:${{var.image_tag}}\"\n      essential = true\n      portMappings = [\n        {{ containerPort = {port}, protocol = \"tcp\" }}\n      ]\n      environment = [\n        for key, value in var.environment_variables : {{ name = key, value = value }}\n      ]\n      logConfiguration = {{\n        logDriver = \"awslogs\"\n        options = {{\n          awslogs-group         = aws_cloudwatch_log_group.{name}.name\n          awslogs-region        = \"{}\"\n          awslogs-stream-prefix = \"{}\"\n        }}\n      }}\n    }}\n  ])\n}}\n",
        name.replace('_', "-"),
        rng.pick(&["256", "512", "1024", "2048"]),
        rng.pick(&["512", "1024", "2048", "4096"]),
        module.service,
        module.region,
        module.service
    );
}

fn block_ecs_service(rng: &mut Rng, out: &mut String, module: &ModuleCtx) {
    let name = ident(rng, module);
    let _ = writeln!(
        out,
        "resource \"aws_ecs_service\" \"{name}\" {{\n  name                               = \"{}\"\n  cluster                            = var.cluster_arn\n  task_definition                    = aws_ecs_task_definition.{name}.arn\n  desired_count                      = {}\n  launch_type                        = \"FARGATE\"\n  deployment_minimum_healthy_percent = 100\n  deployment_maximum_percent         = 200\n  enable_execute_command             = var.environment != \"prod\"\n\n  network_configuration {{\n    subnets          = var.private_subnet_ids\n    security_groups  = [aws_security_group.{}.id]\n    assign_public_ip = false\n  }}\n\n  dynamic \"load_balancer\" {{\n    for_each = var.target_group_arn == null ? [] : [var.target_group_arn]\n    content {{\n      target_group_arn = load_balancer.value\n      container_name   = \"{}\"\n      container_port   = {}\n    }}\n  }}\n\n  lifecycle {{\n    ignore_changes = [desired_count]\n  }}\n}}\n",
        name.replace('_', "-"),
        rng.range(1, 12),
        module.groups[module.groups.len() - 1],
        module.service,
        COMMON_PORTS[rng.below(COMMON_PORTS.len())].0
    );
}

fn block_route53_record(rng: &mut Rng, out: &mut String, module: &ModuleCtx) {
    let name = ident(rng, module);
    let _ = writeln!(
        out,
        "resource \"aws_route53_record\" \"{name}\" {{\n  for_each = toset(var.hostnames)\n  zone_id  = data.aws_route53_zone.{}.zone_id\n  name     = \"${{each.key}}.{}.{}.example.com\"\n  type     = \"A\"\n\n  alias {{\n    name                   = aws_lb.{name}[0].dns_name\n    zone_id                = aws_lb.{name}[0].zone_id\n    evaluate_target_health = true\n  }}\n}}\n",
        module.env, module.service, module.env
    );
}

fn block_db_instance(rng: &mut Rng, out: &mut String, module: &ModuleCtx) {
    let name = ident(rng, module);
    let engine = rng.pick(&["postgres", "mysql", "mariadb"]);
    let _ = writeln!(
        out,
        "resource \"aws_db_instance\" \"{name}\" {{\n  identifier                      = \"${{local.name}}-{}\"\n  engine                          = \"{engine}\"\n  engine_version                  = var.{engine}_version\n  instance_class                  = \"db.{}\"\n  allocated_storage               = {}\n  max_allocated_storage           = {}\n  storage_encrypted               = true\n  kms_key_id                      = var.kms_key_arn\n  db_subnet_group_name            = aws_db_subnet_group.{name}.name\n  vpc_security_group_ids          = [aws_security_group.{}.id]\n  multi_az                        = var.environment == \"prod\"\n  backup_retention_period         = {}\n  backup_window                   = \"03:00-04:00\"\n  maintenance_window              = \"sun:04:30-sun:05:30\"\n  deletion_protection             = true\n  skip_final_snapshot             = false\n  final_snapshot_identifier       = \"${{local.name}}-{}-final\"\n  performance_insights_enabled    = true\n  enabled_cloudwatch_logs_exports = [\"postgresql\", \"upgrade\"]\n  username                        = \"app\"\n  manage_master_user_password     = true\n",
        name.replace('_', "-"),
        rng.pick(INSTANCE_TYPES),
        rng.range(20, 500),
        rng.range(500, 4000),
        module.groups[0],
        rng.range(1, 35),
        name.replace('_', "-")
    );
    tags(rng, out, "  ", &name);
    out.push_str("}\n\n");
}

fn block_elasticache(rng: &mut Rng, out: &mut String, module: &ModuleCtx) {
    let name = ident(rng, module);
    let _ = writeln!(
        out,
        "resource \"aws_elasticache_replication_group\" \"{name}\" {{\n  replication_group_id       = \"{}\"\n  description                = \"{}\"\n  engine                     = \"redis\"\n  node_type                  = \"cache.{}\"\n  num_cache_clusters         = {}\n  port                       = 6379\n  subnet_group_name          = aws_elasticache_subnet_group.{name}.name\n  security_group_ids         = [aws_security_group.{}.id]\n  at_rest_encryption_enabled = true\n  transit_encryption_enabled = true\n  automatic_failover_enabled = true\n  snapshot_retention_limit   = {}\n}}\n",
        name.replace('_', "-"),
        sentence(rng, 5).trim_end_matches('.'),
        rng.pick(INSTANCE_TYPES),
        rng.range(2, 6),
        module.groups[0],
        rng.range(0, 14)
    );
}
