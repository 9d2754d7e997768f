//! `mutualsg migrate`: its goldens (every case under `fixtures/migrate/*` holds what
//! `migrate --write` produces, with the flags of the case's `args` file: every file it creates
//! or changes, its exit code and its stderr; `MUTUALSG_BLESS=1` rewrites them), and migrate
//! end to end with real Terraform: build the "before" tree as a user has it, apply it to local
//! state, migrate, and read the plan with `terraform show -json`. Every rule change must be a
//! no-op move, an import, or a forget of a module-owned address; after the apply the next plan
//! is empty, and a second `migrate` finds nothing to do.
//!
//! The Terraform tests need Terraform with the offline stand-in aws provider
//! (`../shared/tools/terraform/`); skipped with a message without it, unless
//! `MUTUALSG_REQUIRE_TERRAFORM=1`.

mod common;
mod goldens;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;
use goldens::{Produced, cases, compare_dir};
use serde_json::Value;

const GROUPS: &str = r#"resource "aws_security_group" "web" {
  name   = "web"
  vpc_id = "vpc-0123456789abcdef0"
}

resource "aws_security_group" "db" {
  name   = "db"
  vpc_id = "vpc-0123456789abcdef0"
}
"#;

const V1_CALL: &str = r#"
# The tiers' rules, from the registry module.
module "sg_rules" {
  source  = "skwashd/mutual-security-groups/aws"
  version = "1.0.1"

  rules = [
    {
      source_sg_id     = aws_security_group.web.id
      target_sg_id     = aws_security_group.db.id
      destination_port = "5432"
      description      = "Postgres from web"
    },
    {
      source_sg_id     = aws_security_group.web.id
      target_sg_id     = aws_security_group.db.id
      destination_port = "8000"
      to_port          = "8100"
      protocol         = "TCP"
      description      = "Admin ports"
    },
  ]
}
"#;

const V2_CALL: &str = r#"
module "rules" {
  source  = "registry.terraform.io/skwashd/mutual-security-groups/aws"
  version = "2.0.1"

  rules = {
    web_to_db = {
      source_sg_id       = aws_security_group.web.id
      target_sg_id       = aws_security_group.db.id
      from_port          = 5432
      description_source = "Postgres from web"
      description_target = "Postgres to db"
    }
    db_peers = {
      source_sg_id = aws_security_group.db.id
      target_sg_id = aws_security_group.db.id
      from_port    = 5433
      description  = "Replication"
    }
  }
  TAGS
}
"#;

const PAIRS: &str = r#"
resource "aws_security_group_rule" "web_out_to_db" {
  type                     = "egress"
  security_group_id        = aws_security_group.web.id
  source_security_group_id = aws_security_group.db.id
  protocol                 = "TCP"
  from_port                = 5432
  to_port                  = 5432
  description              = "Postgres"
}

# Left alone: no partner, and a CIDR peer.
resource "aws_security_group_rule" "web_out_to_https" {
  type              = "egress"
  security_group_id = aws_security_group.web.id
  cidr_blocks       = ["10.0.0.0/8"]
  protocol          = "tcp"
  from_port         = 443
  to_port           = 443
}
"#;

const PAIRS_OTHER_FILE: &str = r#"# The ingress halves live in another file.

resource "aws_security_group_rule" "db_in_from_web" {
  type                     = "ingress"
  security_group_id        = aws_security_group.db.id
  source_security_group_id = aws_security_group.web.id
  protocol                 = "tcp"
  from_port                = 5432
  to_port                  = 5432
  description              = "Postgres"
}

resource "aws_security_group_rule" "db_cluster_in" {
  type              = "ingress"
  security_group_id = aws_security_group.db.id
  self              = true
  protocol          = "all"
  from_port         = 0
  to_port           = 0
}

resource "aws_security_group_rule" "db_cluster_out" {
  type              = "egress"
  security_group_id = aws_security_group.db.id
  self              = true
  protocol          = "-1"
  from_port         = 0
  to_port           = 0
}
"#;

/// A registry module call of a test tree, and the stand-in (`fixtures/migrate/modules/NAME`)
/// placed where `terraform init` would have put the module.
struct RegistryModule {
    key: String,
    source: String,
    version: String,
    stand_in: String,
}

/// A golden case's registry module calls: its `registry_modules` file, one
/// `KEY SOURCE VERSION STAND_IN` a line (`sg+ssh`: the `//modules/ssh` preset, stand-ins
/// `sg` at the package root and `sg_ssh` at `modules/ssh`).
fn registry_modules(case: &Path) -> Vec<RegistryModule> {
    fs::read_to_string(case.join("registry_modules"))
        .unwrap_or_default()
        .lines()
        .filter_map(
            |line| match line.split_whitespace().collect::<Vec<_>>()[..] {
                [key, source, version, stand_in] => Some(RegistryModule {
                    key: key.to_string(),
                    source: source.to_string(),
                    version: version.to_string(),
                    stand_in: stand_in.to_string(),
                }),
                _ => None,
            },
        )
        .collect()
}

/// A user's Terraform root module in a temporary directory.
struct Root {
    dir: assert_fs::TempDir,
    terraform: PathBuf,
}

impl Root {
    /// Writes the files and, for a registry module call, puts the stand-in module where
    /// `terraform init` would have (NOTES.md, Migrating). `None` without Terraform and the
    /// stand-in aws provider.
    fn new(test: &str, files: &[(&str, &str)], module: Option<(&str, &str, &str)>) -> Option<Root> {
        let modules: Vec<RegistryModule> = module
            .map(|(key, version, stand_in)| RegistryModule {
                key: key.to_string(),
                source: "skwashd/mutual-security-groups/aws".to_string(),
                version: version.to_string(),
                stand_in: stand_in.to_string(),
            })
            .into_iter()
            .collect();
        Root::with_modules(test, files, &modules)
    }

    /// As [`Root::new`], with any number of registry module calls, each with its stand-in.
    fn with_modules(
        test: &str,
        files: &[(&str, &str)],
        modules: &[RegistryModule],
    ) -> Option<Root> {
        let terraform = terraform_with_aws(test)?;
        let root = Root {
            dir: tree(files),
            terraform,
        };
        if !modules.is_empty() {
            let mut manifest = vec![serde_json::json!({ "Key": "", "Source": "", "Dir": "." })];
            for module in modules {
                let package = format!(".terraform/modules/{}", module.key);
                let stand_in = |name: &str, dir: &str| {
                    let dir = root.path().join(dir);
                    fs::create_dir_all(&dir).unwrap();
                    let source = fixtures()
                        .join("migrate/modules")
                        .join(name)
                        .join("main.tf");
                    fs::copy(source, dir.join("main.tf")).unwrap();
                };
                // `ROOT+PRESET`: a `//modules/PRESET` call, the package's root at `module.sg`.
                match module.stand_in.split_once('+') {
                    Some((package_root, preset)) => {
                        let preset_dir = format!("{package}/modules/{preset}");
                        stand_in(package_root, &package);
                        stand_in(&format!("{package_root}_{preset}"), &preset_dir);
                        manifest.push(serde_json::json!({
                            "Key": module.key,
                            "Source": format!("registry.terraform.io/{}", module.source),
                            "Version": module.version,
                            "Dir": preset_dir,
                        }));
                        manifest.push(serde_json::json!({
                            "Key": format!("{}.sg", module.key),
                            "Source": "../../",
                            "Dir": package,
                        }));
                    }
                    None => {
                        stand_in(&module.stand_in, &package);
                        manifest.push(serde_json::json!({
                            "Key": module.key,
                            "Source": format!("registry.terraform.io/{}", module.source),
                            "Version": module.version,
                            "Dir": package,
                        }));
                    }
                }
            }
            fs::write(
                root.path().join(".terraform/modules/modules.json"),
                serde_json::json!({ "Modules": manifest }).to_string(),
            )
            .unwrap();
        }
        root.ok(&["init", "-input=false", "-no-color"]);
        Some(root)
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn run(&self, args: &[&str]) -> Output {
        run_terraform(&self.terraform, self.path(), args)
    }

    fn ok(&self, args: &[&str]) -> String {
        terraform_ok(&self.terraform, self.path(), args)
    }

    fn apply(&self) {
        self.ok(&["apply", "-input=false", "-no-color", "-auto-approve"]);
    }

    fn mutualsg(&self, args: &[&str]) -> Output {
        let output = mutualsg(self.path(), args);
        assert_eq!(
            output.status.code(),
            Some(0),
            "mutualsg {args:?}: {}",
            text(&output.stderr)
        );
        output
    }

    /// Plans, checks that every rule change is a move, an import or a forget of a module-owned
    /// address (nothing is created, updated, destroyed or replaced), applies, and checks that
    /// the next plan is empty and a second migrate has nothing to do. Returns the counts of
    /// (moves, imports, forgets).
    fn assert_migration_destroys_nothing(&self) -> (usize, usize, usize) {
        let (moves, imports, forgets, created) = self.assert_migration_adds_only_egress(false, &[]);
        assert_eq!(created, 0);
        (moves, imports, forgets)
    }

    /// As [`Root::assert_migration_destroys_nothing`], where `--add-egress` may also create
    /// egress rules (of either style) and nothing else; returns (moves,
    /// imports, forgets, created).
    /// `closed`: the open egress rules `--close-egress` removes, the only destroys allowed.
    fn assert_migration_adds_only_egress(
        &self,
        add_egress: bool,
        closed: &[String],
    ) -> (usize, usize, usize, usize) {
        let mut created = 0;
        self.ok(&["plan", "-input=false", "-no-color", "-out=migration.tfplan"]);
        let plan: Value =
            serde_json::from_str(&self.ok(&["show", "-json", "migration.tfplan"])).unwrap();
        let (mut moves, mut imports, mut forgets) = (0, 0, 0);
        for change in plan["resource_changes"].as_array().unwrap() {
            let address = change["address"].as_str().unwrap();
            let actions: Vec<&str> = change["change"]["actions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|action| action.as_str().unwrap())
                .collect();
            match actions.as_slice() {
                ["no-op"] if change.get("previous_address").is_some() => moves += 1,
                ["no-op"] if change["change"].get("importing").is_some() => imports += 1,
                // Untouched resources.
                ["no-op"] => {}
                // A module's rules, and aws_vpc_* rules the default style retypes.
                ["forget"]
                    if address.starts_with("module.")
                        || address.starts_with("aws_vpc_security_group_") =>
                {
                    forgets += 1
                }
                ["create"]
                    if add_egress
                        && (change["type"] == "aws_vpc_security_group_egress_rule"
                            || change["type"] == "aws_security_group_rule"
                                && change["change"]["after"]["type"] == "egress") =>
                {
                    created += 1
                }
                ["delete"] if closed.iter().any(|rule| rule == address) => {}
                other => panic!("{address}: {other:?} in a migration plan\n{plan:#}"),
            }
        }
        self.ok(&["apply", "-input=false", "-no-color", "migration.tfplan"]);
        let after = self.run(&["plan", "-input=false", "-no-color", "-detailed-exitcode"]);
        assert_eq!(
            after.status.code(),
            Some(0),
            "plan after the migration:\n{}",
            text(&after.stdout)
        );
        let again = self.mutualsg(&["migrate"]);
        assert!(
            again.stdout.is_empty(),
            "a second migrate changed:\n{}",
            text(&again.stdout)
        );
        (moves, imports, forgets, created)
    }
}

#[test]
fn module_v1_list_moves_every_rule() {
    let main = format!("{GROUPS}{V1_CALL}");
    let Some(root) = Root::new(
        "migrate v1",
        &[("main.tf", &main)],
        Some(("sg_rules", "1.0.1", "v1")),
    ) else {
        return;
    };
    root.apply();
    let preview = root.mutualsg(&["migrate"]);
    assert!(text(&preview.stdout).contains("+++ b/mutual_rules.migrate.tf"));
    assert_eq!(
        fs::read_to_string(root.path().join("main.tf")).unwrap(),
        main,
        "migrate without --write wrote"
    );
    root.mutualsg(&["migrate", "--write"]);
    let migrated = fs::read_to_string(root.path().join("main.tf")).unwrap();
    assert!(
        migrated.contains(
            "# The tiers' rules, from the registry module.\nlocals {\n  mutual_rules = ["
        )
    );
    assert!(!migrated.contains("module \"sg_rules\""));
    assert_eq!(root.assert_migration_destroys_nothing(), (4, 0, 0));
}

#[test]
fn module_v2_map_moves_with_the_vpc_style() {
    let main = format!(
        "{GROUPS}{}",
        V2_CALL.replace("TAGS", "tags = { Team = \"data\" }")
    );
    let config = "style = \"aws_vpc_security_group_rule\"\n";
    let Some(root) = Root::new(
        "migrate v2 (vpc style)",
        &[("main.tf", &main), (".mutualsg.toml", config)],
        Some(("rules", "2.0.1", "v2")),
    ) else {
        return;
    };
    root.apply();
    root.mutualsg(&["migrate", "--write"]);
    // The module-wide tags are carried onto every rule.
    let generated = fs::read_to_string(root.path().join("mutual_rules.gen.tf")).unwrap();
    assert_eq!(
        generated.matches("Team = \"data\"").count(),
        4,
        "{generated}"
    );
    assert_eq!(root.assert_migration_destroys_nothing(), (4, 0, 0));
}

#[test]
fn module_v2_map_forgets_and_imports_with_the_default_style() {
    let main = format!("{GROUPS}{}", V2_CALL.replace("TAGS", ""));
    let Some(root) = Root::new(
        "migrate v2 (default style)",
        &[("main.tf", &main)],
        Some(("rules", "2.0.1", "v2")),
    ) else {
        return;
    };
    root.apply();
    root.mutualsg(&["migrate", "--write"]);
    let blocks = fs::read_to_string(root.path().join("mutual_rules.migrate.tf")).unwrap();
    assert!(
        blocks.contains("# Needs Terraform >= 1.7 (removed blocks)."),
        "{blocks}"
    );
    // Four module rules forgotten, four generated rules imported.
    assert_eq!(root.assert_migration_destroys_nothing(), (0, 4, 4));
}

#[test]
fn module_v2_tags_need_the_vpc_style() {
    let main = format!(
        "{GROUPS}{}",
        V2_CALL.replace("TAGS", "tags = { Team = \"data\" }")
    );
    let dir = tree(&[("main.tf", &main)]);
    let output = mutualsg(dir.path(), &["migrate", "--write"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("the module call sets `tags`"));
    assert_eq!(
        fs::read_to_string(dir.path().join("main.tf")).unwrap(),
        main
    );
}

#[test]
fn hand_written_pairs_move_and_the_rest_is_listed() {
    let main = format!("{GROUPS}{PAIRS}");
    let files = [("main.tf", main.as_str()), ("db.tf", PAIRS_OTHER_FILE)];
    let Some(root) = Root::new("migrate hand-written pairs", &files, None) else {
        return;
    };
    root.apply();
    let output = root.mutualsg(&["migrate", "--write"]);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(
            "aws_security_group_rule.web_out_to_https is left as it is: its peer is a CIDR block"
        ),
        "{stderr}"
    );
    let db = fs::read_to_string(root.path().join("db.tf")).unwrap();
    assert_eq!(
        db, "# The ingress halves live in another file.\n\n",
        "only the paired resources go (a comment set apart by a blank line stays)"
    );
    assert!(
        fs::read_to_string(root.path().join("main.tf"))
            .unwrap()
            .contains("web_out_to_https")
    );
    assert_eq!(root.assert_migration_destroys_nothing(), (4, 0, 0));
}

#[test]
fn adding_names_moves_instead_of_replacing() {
    let rules = r#"
locals {
  mutual_rules = [
    {
      source_sg_id     = aws_security_group.web.id
      target_sg_id     = aws_security_group.db.id
      destination_port = 5432
    },
  ]
}
"#;
    let main = format!("{GROUPS}{rules}");
    let Some(root) = Root::new("renames", &[("main.tf", &main)], None) else {
        return;
    };
    root.mutualsg(&["generate"]);
    root.apply();
    let named = main.replace(
        "      source_sg_id",
        "      name             = \"web_to_db\"\n      source_sg_id",
    );
    fs::write(root.path().join("main.tf"), named).unwrap();
    let output = root.mutualsg(&["generate"]);
    assert!(
        text(&output.stderr).contains("created mutual_rules.migrate.tf"),
        "{}",
        text(&output.stderr)
    );
    let blocks = fs::read_to_string(root.path().join("mutual_rules.migrate.tf")).unwrap();
    assert!(blocks.contains("from = aws_security_group_rule.web_to_db_tcp_5432_egress\n  to   = aws_security_group_rule.web_to_db_egress"), "{blocks}");
    assert_eq!(root.assert_migration_destroys_nothing(), (2, 0, 0));
}

const VARIABLES: &str = r#"
variable "on" {
  type    = bool
  default = true
}

variable "off" {
  type    = bool
  default = false
}
"#;

/// Two `count` pairs in the shapes `migrate` accepts: one with an instance (`C ? 1 : 0`, C
/// true), one without (`C ? 0 : 1`, C true); and one with a `count` it leaves.
const COUNT_PAIRS: &str = r#"
# Postgres, when the database is on.
resource "aws_security_group_rule" "web_to_db" {
  count                    = var.on ? 1 : 0
  type                     = "egress"
  security_group_id        = aws_security_group.web.id
  source_security_group_id = aws_security_group.db.id
  protocol                 = "tcp"
  from_port                = 5432
  to_port                  = 5432
  description              = "Postgres"
}

resource "aws_security_group_rule" "db_from_web" {
  count                    = var.on ? 1 : 0
  type                     = "ingress"
  security_group_id        = aws_security_group.db.id
  source_security_group_id = aws_security_group.web.id
  protocol                 = "tcp"
  from_port                = 5432
  to_port                  = 5432
  description              = "Postgres"
}

resource "aws_security_group_rule" "web_to_cache" {
  count                    = var.on ? 0 : 1
  type                     = "egress"
  security_group_id        = aws_security_group.web.id
  source_security_group_id = aws_security_group.db.id
  protocol                 = "tcp"
  from_port                = 6379
  to_port                  = 6379
}

resource "aws_security_group_rule" "cache_from_web" {
  count                    = var.on ? 0 : 1
  type                     = "ingress"
  security_group_id        = aws_security_group.db.id
  source_security_group_id = aws_security_group.web.id
  protocol                 = "tcp"
  from_port                = 6379
  to_port                  = 6379
}

resource "aws_security_group_rule" "web_to_db_many" {
  count                    = var.off ? 2 : 0
  type                     = "egress"
  security_group_id        = aws_security_group.web.id
  source_security_group_id = aws_security_group.db.id
  protocol                 = "tcp"
  from_port                = 9000
  to_port                  = 9000
}

resource "aws_security_group_rule" "db_from_web_many" {
  count                    = var.off ? 2 : 0
  type                     = "ingress"
  security_group_id        = aws_security_group.db.id
  source_security_group_id = aws_security_group.web.id
  protocol                 = "tcp"
  from_port                = 9000
  to_port                  = 9000
}
"#;

#[test]
fn count_pairs_move_onto_enabled() {
    let main = format!("{GROUPS}{VARIABLES}{COUNT_PAIRS}");
    let Some(root) = Root::new("migrate count pairs", &[("main.tf", &main)], None) else {
        return;
    };
    root.apply();
    let output = root.mutualsg(&["migrate", "--write"]);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("its `count = var.off ? 2 : 0` is not `C ? 1 : 0` or `C ? 0 : 1`"),
        "{stderr}"
    );
    let rules = fs::read_to_string(root.path().join("mutual_rules.tf")).unwrap();
    assert!(
        rules.contains("    # Postgres, when the database is on.\n    {\n"),
        "{rules}"
    );
    assert!(rules.contains("enabled      = var.on\n"), "{rules}");
    assert!(rules.contains("enabled      = !(var.on)\n"), "{rules}");
    let generated = fs::read_to_string(root.path().join("mutual_rules.gen.tf")).unwrap();
    assert_eq!(generated.matches("count = var.on ? 1 : 0\n").count(), 2);
    assert_eq!(generated.matches("count = !(var.on) ? 1 : 0\n").count(), 2);
    let main_after = fs::read_to_string(root.path().join("main.tf")).unwrap();
    assert!(main_after.contains("web_to_db_many") && !main_after.contains("\"web_to_db\""));
    // Two instances move (the disabled pair has none); the whole resources are moved.
    let blocks = fs::read_to_string(root.path().join("mutual_rules.migrate.tf")).unwrap();
    assert_eq!(blocks.matches("moved {").count(), 4, "{blocks}");
    assert_eq!(root.assert_migration_destroys_nothing(), (2, 0, 0));
}

const PROVIDERS: &str = r#"
provider "aws" {
  region = "eu-west-2"
}

provider "aws" {
  alias  = "core-vpc"
  region = "eu-west-2"
}
"#;

/// A pair with `provider`, `depends_on` and `timeouts` on both halves (carried), one whose
/// halves have different providers (carried as `source_provider`), and one with `lifecycle`
/// (left), in a CRLF file.
const PROVIDER_PAIRS: &str = r#"
# HTTPS into the shared VPC's database, through the core-vpc account.
resource "aws_security_group_rule" "web_to_db_core" {
  provider                 = aws.core-vpc
  type                     = "egress"
  security_group_id        = aws_security_group.web.id
  source_security_group_id = aws_security_group.db.id
  protocol                 = "tcp"
  from_port                = 443
  to_port                  = 443
  description              = "HTTPS"
  depends_on               = [aws_security_group.db]

  timeouts {
    create = "5m"
  }
}

resource "aws_security_group_rule" "db_from_web_core" {
  provider                 = aws.core-vpc
  type                     = "ingress"
  security_group_id        = aws_security_group.db.id
  source_security_group_id = aws_security_group.web.id
  protocol                 = "tcp"
  from_port                = 443
  to_port                  = 443
  description              = "HTTPS"
  depends_on               = [aws_security_group.db]

  timeouts {
    create = "5m"
  }
}

resource "aws_security_group_rule" "web_to_db_split" {
  provider                 = aws.core-vpc
  type                     = "egress"
  security_group_id        = aws_security_group.web.id
  source_security_group_id = aws_security_group.db.id
  protocol                 = "tcp"
  from_port                = 8443
  to_port                  = 8443
}

resource "aws_security_group_rule" "db_from_web_split" {
  type                     = "ingress"
  security_group_id        = aws_security_group.db.id
  source_security_group_id = aws_security_group.web.id
  protocol                 = "tcp"
  from_port                = 8443
  to_port                  = 8443
}

resource "aws_security_group_rule" "web_to_db_kept" {
  type                     = "egress"
  security_group_id        = aws_security_group.web.id
  source_security_group_id = aws_security_group.db.id
  protocol                 = "tcp"
  from_port                = 22
  to_port                  = 22
  description              = "SSH"

  lifecycle {
    ignore_changes = [description]
  }
}

resource "aws_security_group_rule" "db_from_web_kept" {
  type                     = "ingress"
  security_group_id        = aws_security_group.db.id
  source_security_group_id = aws_security_group.web.id
  protocol                 = "tcp"
  from_port                = 22
  to_port                  = 22
  description              = "SSH"
}
"#;

#[test]
fn provider_pairs_carry_their_arguments_or_stay() {
    let rules = PROVIDER_PAIRS.replace('\n', "\r\n");
    let files = [
        ("main.tf", GROUPS),
        ("providers.tf", PROVIDERS),
        ("rules.tf", rules.as_str()),
    ];
    let Some(root) = Root::new("migrate provider pairs", &files, None) else {
        return;
    };
    root.apply();
    let output = root.mutualsg(&["migrate", "--write"]);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("its `lifecycle` block has no form inside locals"),
        "{stderr}"
    );
    let after = fs::read_to_string(root.path().join("rules.tf")).unwrap();
    assert!(!after.contains("web_to_db_core") && !after.contains("HTTPS into"));
    // Halves with different providers: each keeps its own.
    assert!(!after.contains("web_to_db_split") && after.contains("web_to_db_kept"));
    // The removal keeps the file's line endings: no bare LF, no blank CRLF line left behind.
    assert!(!after.replace("\r\n", "").contains('\n'), "{after:?}");
    assert!(!after.contains("\r\n\r\n\r\n"), "{after:?}");
    let local = fs::read_to_string(root.path().join("mutual_rules.tf")).unwrap();
    assert!(
        local.contains(
            "    # HTTPS into the shared VPC's database, through the core-vpc account.\n"
        ),
        "{local}"
    );
    assert!(
        local.contains("provider     = \"aws.core-vpc\"\n"),
        "{local}"
    );
    assert!(
        local.contains("timeouts     = { create = \"5m\" }\n"),
        "{local}"
    );
    assert!(
        local.contains("depends_on   = [aws_security_group.db]\n"),
        "{local}"
    );
    let generated = fs::read_to_string(root.path().join("mutual_rules.gen.tf")).unwrap();
    assert!(
        local.contains("source_provider = \"aws.core-vpc\"\n"),
        "{local}"
    );
    // Two halves of the shared pair, and the egress half of the split one.
    assert_eq!(generated.matches("  provider = aws.core-vpc\n").count(), 3);
    assert_eq!(
        generated
            .matches("  timeouts {\n    create = \"5m\"\n  }\n")
            .count(),
        2
    );
    assert_eq!(
        generated
            .matches("  depends_on = [aws_security_group.db]\n")
            .count(),
        2
    );
    // The local validates: the provider is a string there, not a reference.
    root.ok(&["validate", "-no-color"]);
    assert_eq!(root.assert_migration_destroys_nothing(), (4, 0, 0));
    let summary = text(&root.mutualsg(&["migrate"]).stderr);
    assert!(summary.contains("1 module with mutual_rules"), "{summary}");
}

/// Every golden migration case (`fixtures/migrate/*/input`), proven with real Terraform: the
/// before tree applied, migrated, planned (moves only), applied, then an empty plan.
#[test]
fn every_golden_migration_destroys_nothing() {
    let mut cases: Vec<PathBuf> = fs::read_dir(fixtures().join("migrate"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.join("input").is_dir())
        // An input AWS itself would reject (the case says why): its golden output is checked.
        .filter(|path| !path.join("unapplied").exists())
        .collect();
    cases.sort();
    assert!(cases.len() >= 3);
    for case in cases {
        let input = read_tree(&case.join("input"));
        let files: Vec<(String, String)> = input
            .iter()
            .map(|(path, bytes)| (path.to_string_lossy().into_owned(), text(bytes)))
            .collect();
        let files: Vec<(&str, &str)> = files
            .iter()
            .map(|(path, text)| (path.as_str(), text.as_str()))
            .collect();
        let modules = registry_modules(&case);
        let Some(root) = Root::with_modules(&case.display().to_string(), &files, &modules) else {
            return;
        };
        root.apply();
        let mut args = vec!["migrate".to_string(), "--write".to_string()];
        if let Ok(extra) = fs::read_to_string(case.join("args")) {
            args.extend(extra.lines().map(str::to_string));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = root.mutualsg(&args);
        root.ok(&["validate", "-no-color"]);
        let add_egress = args.contains(&"--add-egress");
        // The summary names every rule `--close-egress` removes.
        let closed: Vec<String> = text(&output.stderr)
            .lines()
            .filter_map(|line| {
                let rest = line.trim_start_matches([' ', '⚠', '│']).trim();
                rest.split_once(" is removed: the open egress")
                    .map(|(what, _)| what.to_string())
            })
            .collect();
        assert_eq!(
            !closed.is_empty(),
            args.contains(&"--close-egress"),
            "{}: {closed:?}",
            case.display()
        );
        let (moves, imports, forgets, created) =
            root.assert_migration_adds_only_egress(add_egress, &closed);
        assert!(moves + imports > 0, "{}: nothing moved", case.display());
        // A registry module's rules are forgotten (and imported), and so are aws_vpc_* rules
        // that become aws_security_group_rules; nothing else is. A module whose rules are all
        // aws_vpc_* keeps that style (in a .mutualsg.toml it writes), and a module mixing the
        // families keeps each rule's type, but for a pair of one rule of each (every mixed
        // case has one); every aws_vpc_* rule changes type where .mutualsg.toml says so.
        let inputs: Vec<String> = fs::read_dir(case.join("input"))
            .unwrap()
            .flatten()
            .filter_map(|entry| fs::read_to_string(entry.path()).ok())
            .collect();
        let declares = |kind: &str| inputs.iter().any(|text| text.contains(kind));
        let retypes = declares("resource \"aws_vpc_security_group_")
            && declares("resource \"aws_security_group_rule\"")
            && !declares("style = \"aws_vpc_security_group_rule\"");
        assert_eq!(
            forgets > 0,
            !modules.is_empty() || retypes,
            "{}",
            case.display()
        );
        if add_egress {
            assert!(created > 0, "{}: no egress half written", case.display());
        }
    }
}

const SWITCHED_RULES: &str = r#"
variable "office" {
  type    = list(string)
  default = ["198.51.100.0/24", "203.0.113.0/24"]
}

locals {
  mutual_rules = [
    {
      source_sg_id     = aws_security_group.web.id
      target_sg_id     = aws_security_group.db.id
      destination_port = 5432
      description      = "Postgres"
    },
    {
      source_sg_id = aws_security_group.db.id
      target_sg_id = aws_security_group.db.id
      protocol     = "all"
    },
    {
      source_cidr_blocks      = ["0.0.0.0/0"]
      source_ipv6_cidr_blocks = ["::/0"]
      target_sg_id            = aws_security_group.web.id
      destination_port        = 443
      description             = "HTTPS"
    },
    {
      source_cidr_blocks = var.office
      target_sg_id       = aws_security_group.web.id
      destination_port   = 22
    },
    {
      source_sg_id     = aws_security_group.web.id
      target_sg_id     = aws_security_group.db.id
      destination_port = 6379
      enabled          = false
      name             = "redis"
    },
  ]
}
"#;

/// The plan's rule changes, by action: every one must be an import or a forget.
fn imports_and_forgets(root: &Root) -> (usize, usize) {
    root.ok(&["plan", "-input=false", "-no-color", "-out=switch.tfplan"]);
    let plan: Value = serde_json::from_str(&root.ok(&["show", "-json", "switch.tfplan"])).unwrap();
    let (mut imports, mut forgets) = (0, 0);
    for change in plan["resource_changes"].as_array().unwrap() {
        let address = change["address"].as_str().unwrap();
        let actions: Vec<&str> = change["change"]["actions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|action| action.as_str().unwrap())
            .collect();
        match actions.as_slice() {
            ["no-op"] if change["change"].get("importing").is_some() => imports += 1,
            ["no-op"] => {}
            ["forget"] => forgets += 1,
            other => panic!("{address}: {other:?} after a style switch\n{plan:#}"),
        }
    }
    (imports, forgets)
}

/// Switching `style` from the `aws_vpc_*` rules to `aws_security_group_rule` writes `removed`
/// and `import` blocks (the route `migrate` takes for the module's v2), so Terraform forgets
/// the old resources and imports the new ones: nothing destroyed, nothing created twice.
#[test]
fn switching_style_to_security_group_rule_forgets_and_imports() {
    let files = [
        ("main.tf", format!("{GROUPS}{SWITCHED_RULES}")),
        (
            ".mutualsg.toml",
            "style = \"aws_vpc_security_group_rule\"\n".to_string(),
        ),
    ];
    let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    let Some(root) = Root::new("switching_style", &files, None) else {
        return;
    };
    root.mutualsg(&["generate"]);
    root.apply();

    fs::remove_file(root.path().join(".mutualsg.toml")).unwrap();
    let output = root.mutualsg(&["generate"]);
    let stderr = text(&output.stderr);
    // Diagnostics wrap at 80 columns.
    let message = stderr
        .split_whitespace()
        .filter(|word| *word != "│")
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        message.contains("the style changed from aws_vpc_security_group_rule to aws_security_group_rule: 9 resources are forgotten and 6 imported, none destroyed"),
        "{stderr}"
    );
    root.ok(&["validate", "-no-color"]);
    let (imports, forgets) = imports_and_forgets(&root);
    // Rules now: 2 + 2 + 1 (both families in one) + 1 (the office list); the disabled pair
    // has none. Before: 2 + 2 + 2 (one per address) + 2 (for_each over the office list).
    assert_eq!((imports, forgets), (6, 8), "{stderr}");
    root.ok(&["apply", "-input=false", "-no-color", "switch.tfplan"]);
    let after = root.run(&["plan", "-input=false", "-no-color", "-detailed-exitcode"]);
    assert_eq!(after.status.code(), Some(0), "{}", text(&after.stdout));

    // Up to date: the next generate writes nothing and says nothing of a switch.
    let again = root.mutualsg(&["generate"]);
    assert!(
        !text(&again.stderr).contains("style changed"),
        "{}",
        text(&again.stderr)
    );
    assert!(
        !text(&again.stderr).contains("written"),
        "{}",
        text(&again.stderr)
    );
}

/// A `for_each` pair moves whole resource to whole resource (moved blocks without keys), and
/// Terraform carries every instance over under its own key; halves in two accounts keep
/// their providers. Plans only moves.
#[test]
fn for_each_pairs_move_whole_and_keep_their_instance_keys() {
    let case = fixtures().join("migrate/for_each_and_cross_account_pairs/input");
    let main = fs::read_to_string(case.join("main.tf")).unwrap();
    let Some(root) = Root::new("migrate for_each pairs", &[("main.tf", &main)], None) else {
        return;
    };
    root.apply();
    root.mutualsg(&["migrate", "--write"]);
    let migration = fs::read_to_string(root.path().join("mutual_rules.migrate.tf")).unwrap();
    assert!(
        !migration.contains('['),
        "moved blocks name whole resources:\n{migration}"
    );
    root.ok(&["plan", "-input=false", "-no-color", "-out=keys.tfplan"]);
    let plan: Value = serde_json::from_str(&root.ok(&["show", "-json", "keys.tfplan"])).unwrap();
    let moves: BTreeSet<(String, String)> = plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|change| {
            let from = change.get("previous_address")?.as_str()?.to_string();
            Some((from, change["address"].as_str().unwrap().to_string()))
        })
        .collect();
    let rule = |name: &str| format!("aws_security_group_rule.{name}");
    let want: BTreeSet<(String, String)> = [
        (
            "web_to_db[\"postgres\"]",
            "web_to_db_tcp_each_egress[\"postgres\"]",
        ),
        (
            "web_to_db[\"pgbouncer\"]",
            "web_to_db_tcp_each_egress[\"pgbouncer\"]",
        ),
        (
            "db_from_web[\"postgres\"]",
            "web_to_db_tcp_each_ingress[\"postgres\"]",
        ),
        (
            "db_from_web[\"pgbouncer\"]",
            "web_to_db_tcp_each_ingress[\"pgbouncer\"]",
        ),
        (
            "web_to_proxy[\"3128\"]",
            "web_to_proxy_tcp_each_egress[\"3128\"]",
        ),
        (
            "web_to_proxy[\"8080\"]",
            "web_to_proxy_tcp_each_egress[\"8080\"]",
        ),
        (
            "proxy_from_web[\"3128\"]",
            "web_to_proxy_tcp_each_ingress[\"3128\"]",
        ),
        (
            "proxy_from_web[\"8080\"]",
            "web_to_proxy_tcp_each_ingress[\"8080\"]",
        ),
        ("db_to_proxy", "db_to_proxy_tcp_443_egress"),
        ("proxy_from_db", "db_to_proxy_tcp_443_ingress"),
    ]
    .into_iter()
    .map(|(from, to)| (rule(from), rule(to)))
    .collect();
    assert_eq!(moves, want);
    assert_eq!(root.assert_migration_destroys_nothing(), (10, 0, 0));
}

const RULES_BEFORE_VPC_SWITCH: &str = r#"
variable "redis" {
  type    = bool
  default = true
}

locals {
  mutual_rules = [
    {
      source_sg_id     = aws_security_group.web.id
      target_sg_id     = aws_security_group.db.id
      destination_port = 5432
      description      = "Postgres"
    },
    {
      source_sg_id = aws_security_group.db.id
      target_sg_id = aws_security_group.db.id
      protocol     = "all"
    },
    {
      source_cidr_blocks      = ["0.0.0.0/0"]
      source_ipv6_cidr_blocks = ["::/0"]
      target_sg_id            = aws_security_group.web.id
      destination_port        = 443
      description             = "HTTPS"
    },
    {
      source_cidr_blocks = ["198.51.100.0/24"]
      target_sg_id       = aws_security_group.web.id
      destination_port   = 22
    },
    {
      source_sg_id     = aws_security_group.web.id
      target_sg_id     = aws_security_group.db.id
      destination_port = 6379
      enabled          = var.redis
      name             = "redis"
    },
    {
      source_sg_id     = aws_security_group.web.id
      target_sg_id     = aws_security_group.db.id
      destination_port = 11211
      enabled          = false
      name             = "memcached"
    },
  ]
}
"#;

/// Diagnostics wrap at 80 columns: the words of stderr, joined by single spaces.
fn words(stderr: &str) -> String {
    stderr
        .split_whitespace()
        .filter(|word| *word != "│")
        .collect::<Vec<_>>()
        .join(" ")
}

/// The issue's own example: apply in the default style, set `style =
/// "aws_vpc_security_group_rule"`, generate. The new rules import only by their sgr- id, so
/// `generate --state` takes each from the old rule's `security_group_rule_id`; a dual-stack
/// rule holds two EC2 rules under one id and is refused until its imports are written by
/// hand, as the hint says.
#[test]
fn switching_style_to_the_vpc_rules_with_the_state_forgets_and_imports() {
    let files = [("main.tf", format!("{GROUPS}{RULES_BEFORE_VPC_SWITCH}"))];
    let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    let Some(root) = Root::new("switching_style_vpc", &files, None) else {
        return;
    };
    root.mutualsg(&["generate"]);
    root.apply();
    fs::write(
        root.path().join(".mutualsg.toml"),
        "style = \"aws_vpc_security_group_rule\"\n",
    )
    .unwrap();

    // Without the state: refused, and the hint names the command.
    let generated = fs::read_to_string(root.path().join("mutual_rules.gen.tf")).unwrap();
    let refused = mutualsg(root.path(), &["generate"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        words(&text(&refused.stderr))
            .contains("terraform show -json > state.json && mutualsg generate --state state.json"),
        "{}",
        text(&refused.stderr)
    );

    // With it: the dual-stack rule has no single sgr- id; nothing is written.
    fs::write(root.path().join("state.json"), root.ok(&["show", "-json"])).unwrap();
    let refused = mutualsg(root.path(), &["generate", "--state", "state.json"]);
    let message = words(&text(&refused.stderr));
    assert_eq!(refused.status.code(), Some(2), "{message}");
    assert!(
        message.contains("aws_security_group_rule.anywhere_anywhere_ipv6_to_web_tcp_443_ingress holds 2 EC2 rules"),
        "{message}"
    );
    assert_eq!(
        fs::read_to_string(root.path().join("mutual_rules.gen.tf")).unwrap(),
        generated
    );
    assert!(!root.path().join("mutual_rules.migrate.tf").exists());

    // The hint's route: look the two rules' ids up in AWS (the stand-in's account) and write
    // their imports by hand.
    let account: Value = serde_json::from_str(
        &fs::read_to_string(root.path().join(".terraform/standin-aws-ec2.json")).unwrap(),
    )
    .unwrap();
    let id_of = |source: &str| {
        account["rules"]
            .as_object()
            .unwrap()
            .iter()
            .find(|(_, rule)| rule["source"] == source && rule["from_port"] == 443)
            .map(|(id, _)| id.clone())
            .unwrap()
    };
    fs::write(
        root.path().join("mutual_rules.migrate.tf"),
        format!(
            "import {{\n  to = aws_vpc_security_group_ingress_rule.anywhere_to_web\n  id = \"{}\"\n}}\n\n\
             import {{\n  to = aws_vpc_security_group_ingress_rule.anywhere_ipv6_to_web\n  id = \"{}\"\n}}\n",
            id_of("0.0.0.0/0"),
            id_of("::/0")
        ),
    )
    .unwrap();
    // check --state reports the same route as drift, and writes nothing.
    let checked = mutualsg(root.path(), &["check", "--state", "state.json"]);
    assert_eq!(checked.status.code(), Some(1), "{}", text(&checked.stderr));
    assert!(
        text(&checked.stdout).contains("+removed {"),
        "{}",
        text(&checked.stdout)
    );
    assert_eq!(
        fs::read_to_string(root.path().join("mutual_rules.gen.tf")).unwrap(),
        generated
    );
    let output = root.mutualsg(&["generate", "--state", "state.json"]);
    let message = words(&text(&output.stderr));
    assert!(
        message.contains("the style changed from aws_security_group_rule to aws_vpc_security_group_rule: 10 resources are forgotten and 7 imported, none destroyed"),
        "{message}"
    );
    root.ok(&["validate", "-no-color"]);

    // Rules: 2 + 2 (self) + 2 (by hand) + 1 + 2 (redis, enabled); memcached has none, so
    // its two old resources have no instance to forget.
    let plan = plan_json(&root);
    let (mut imports, mut forgets) = (0, 0);
    for change in plan["resource_changes"].as_array().unwrap() {
        let address = change["address"].as_str().unwrap();
        let actions: Vec<&str> = change["change"]["actions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|action| action.as_str().unwrap())
            .collect();
        match actions.as_slice() {
            ["no-op"] if change["change"].get("importing").is_some() => imports += 1,
            // AWS reports the ports of an all-traffic rule as -1, which the generated rule
            // leaves unset: set in place, nothing replaced.
            ["update"]
                if change["change"].get("importing").is_some()
                    && changed_keys(&change["change"]) == ["from_port", "to_port"] =>
            {
                imports += 1
            }
            ["no-op"] => {}
            ["forget"] => forgets += 1,
            other => panic!("{address}: {other:?} after a style switch\n{plan:#}"),
        }
    }
    assert_eq!((imports, forgets), (9, 8), "{message}");
    let applied = root.ok(&["apply", "-input=false", "-no-color", "switch.tfplan"]);
    assert!(
        !applied.contains("InvalidPermission.Duplicate"),
        "{applied}"
    );
    let after = root.run(&["plan", "-input=false", "-no-color", "-detailed-exitcode"]);
    assert_eq!(after.status.code(), Some(0), "{}", text(&after.stdout));
    let again = root.mutualsg(&["generate", "--state", "state.json"]);
    assert!(
        !text(&again.stderr).contains("written"),
        "{}",
        text(&again.stderr)
    );
}

fn plan_json(root: &Root) -> Value {
    root.ok(&["plan", "-input=false", "-no-color", "-out=switch.tfplan"]);
    serde_json::from_str(&root.ok(&["show", "-json", "switch.tfplan"])).unwrap()
}

/// The attributes a planned change sets to other values.
fn changed_keys(change: &Value) -> Vec<String> {
    let (before, after) = (&change["before"], &change["after"]);
    let mut keys: Vec<String> = after
        .as_object()
        .unwrap()
        .iter()
        .filter(|(key, value)| before.get(key.as_str()) != Some(*value))
        .map(|(key, _)| key.clone())
        .collect();
    keys.sort();
    keys
}

/// Runs `migrate --write` on a copy of the case's input: every file it created or changed,
/// with its exit code and stderr. A second `migrate` must find nothing to do.
fn produce_migration(case: &Path) -> Produced {
    let work = assert_fs::TempDir::new().unwrap();
    copy_tree(&case.join("input"), work.path());
    let before = read_tree(work.path());
    let args = migrate_args(case);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = mutualsg(work.path(), &args);
    let code = output.status.code().unwrap();
    let after = read_tree(work.path());
    let again = mutualsg(work.path(), &["migrate"]);
    assert!(
        again.stdout.is_empty(),
        "{}: a second migrate changed:\n{}",
        case.display(),
        text(&again.stdout)
    );
    let mut files = vec![
        (PathBuf::from("exit-code"), format!("{code}\n").into_bytes()),
        (PathBuf::from("stderr"), output.stderr),
    ];
    files.extend(
        after
            .into_iter()
            .filter(|(path, bytes)| before.get(path) != Some(bytes)),
    );
    Produced { files }
}

/// `migrate --write`, plus the flags of the case's `args` file (one a line), if it has one.
fn migrate_args(case: &Path) -> Vec<String> {
    let mut args = vec!["migrate".to_string(), "--write".to_string()];
    if let Ok(extra) = fs::read_to_string(case.join("args")) {
        args.extend(extra.lines().map(str::to_string));
    }
    args
}

#[test]
fn migrate_cases() {
    let cases = cases("migrate");
    assert!(!cases.is_empty());
    let mut failures = Vec::new();
    for case in &cases {
        let produced = produce_migration(case);
        failures.extend(compare_dir(case, produced));
    }
    assert!(
        failures.is_empty(),
        "{} golden mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
