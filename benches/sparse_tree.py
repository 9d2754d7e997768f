#!/usr/bin/env python3
"""Writes the sparse monorepo of benches/run.sh's section 6: `graph`, `audit` and `migrate`
against `rg -l mutual_rules`.

    benches/sparse_tree.py OUT [--modules 2000] [--files-per-module 10] [--fraction 0.1]

MODULES module directories of FILES .tf files each (~4.4 KB a file). A FRACTION of the
modules declare security groups, hand-written rules, attachments and `mutual_rules`
(groups.tf, rules.tf); the files of the other modules hold buckets, roles, queues,
variables and outputs and none of the strings the inventory looks for (`security_group`,
`mutual_rules`, `moved`, `import`, `removed`, `required_version`,
`mutual-security-groups`), as most files of a real monorepo do. The output depends only on
the arguments.
"""

import argparse
import os

FILLER_BLOCKS = [
    '''resource "aws_s3_bucket" "{n}" {{
  bucket = "${{var.prefix}}-{n}"

  tags = {{
    Name        = "{n}"
    Environment = var.environment
    Team        = "platform"
  }}
}}

resource "aws_s3_bucket_versioning" "{n}" {{
  bucket = aws_s3_bucket.{n}.id

  versioning_configuration {{
    status = "Enabled"
  }}
}}
''',
    '''resource "aws_iam_role" "{n}" {{
  name = "${{var.prefix}}-{n}"

  assume_role_policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{
      Effect    = "Allow"
      Principal = {{ Service = "lambda.amazonaws.com" }}
      Action    = "sts:AssumeRole"
    }}]
  }})
}}
''',
    '''variable "{n}_settings" {{
  description = "Settings of {n}, merged over the defaults"
  type        = map(string)
  default     = {{}}

  validation {{
    condition     = alltrue([for k, v in var.{n}_settings : length(k) > 0])
    error_message = "Setting names must not be empty."
  }}
}}
''',
    '''resource "aws_sqs_queue" "{n}" {{
  name                       = "${{var.prefix}}-{n}"
  visibility_timeout_seconds = 60
  message_retention_seconds  = 1209600
  kms_master_key_id          = var.kms_key_arn

  redrive_policy = jsonencode({{
    deadLetterTargetArn = aws_sqs_queue.{n}_dlq.arn
    maxReceiveCount     = 5
  }})
}}

resource "aws_sqs_queue" "{n}_dlq" {{
  name = "${{var.prefix}}-{n}-dlq"
}}
''',
    '''output "{n}_arn" {{
  description = "ARN of {n}"
  value       = aws_sqs_queue.{n}.arn
}}

locals {{
  {n}_labels = {{ for k, v in var.{n}_settings : k => upper(v) if v != "" }}
}}
''',
]


def filler(module, index, size):
    out = [f"# Module {module}, file {index}: ordinary resources.\n\n"]
    block = 0
    while sum(map(len, out)) < size:
        name = f"m{module}_f{index}_b{block}"
        out.append(FILLER_BLOCKS[(module + index + block) % len(FILLER_BLOCKS)].format(n=name))
        out.append("\n")
        block += 1
    return "".join(out)


def groups_file(module):
    names = ["lb", "web", "app", "db", "management"]
    out = []
    for name in names:
        out.append(f'resource "aws_security_group" "{name}" {{\n  name   = "m{module}-{name}"\n  vpc_id = var.vpc_id\n}}\n\n')
    out.append(
        'resource "aws_lb" "public" {\n  security_groups = [aws_security_group.lb.id]\n}\n\n'
        'resource "aws_instance" "web" {\n  ami                    = var.ami\n'
        "  vpc_security_group_ids = [aws_security_group.web.id, aws_security_group.management.id]\n}\n\n"
        'resource "aws_ecs_service" "app" {\n  network_configuration {\n'
        "    security_groups = [aws_security_group.app.id, aws_security_group.management.id]\n  }\n}\n\n"
        'resource "aws_db_instance" "db" {\n  vpc_security_group_ids = [aws_security_group.db.id]\n}\n\n'
        'resource "aws_security_group_rule" "management_out" {\n  type              = "egress"\n'
        "  security_group_id = aws_security_group.management.id\n"
        '  protocol          = "tcp"\n  from_port         = 443\n  to_port           = 443\n'
        '  cidr_blocks       = ["10.0.0.0/8"]\n}\n\n'
        'resource "aws_security_group_rule" "db_from_app" {\n  type                     = "ingress"\n'
        "  security_group_id        = aws_security_group.db.id\n"
        "  source_security_group_id = aws_security_group.app.id\n"
        '  protocol                 = "tcp"\n  from_port                = 5432\n  to_port                  = 5432\n}\n'
    )
    return "".join(out)


def rules_file():
    pairs = [("lb", "web", 8080), ("lb", "app", 8443), ("web", "app", 9000), ("app", "db", 5432)]
    out = ["locals {\n  mutual_rules = [\n"]
    for source, target, port in pairs:
        out.append(
            f"    {{\n      source_sg_id     = aws_security_group.{source}.id\n"
            f"      target_sg_id     = aws_security_group.{target}.id\n"
            f"      destination_port = {port}\n    }},\n"
        )
    out.append("  ]\n}\n")
    return "".join(out)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--modules", type=int, default=2000)
    parser.add_argument("--files-per-module", type=int, default=10)
    parser.add_argument("--fraction", type=float, default=0.1)
    parser.add_argument("--file-bytes", type=int, default=4400)
    args = parser.parse_args()
    every = max(1, round(1 / args.fraction)) if args.fraction > 0 else 0
    for module in range(args.modules):
        directory = os.path.join(args.out, f"area{module % 20:02d}", f"service-{module:04d}")
        os.makedirs(directory, exist_ok=True)
        with_rules = every and module % every == 0
        count = args.files_per_module - (2 if with_rules else 0)
        for index in range(count):
            with open(os.path.join(directory, f"file{index}.tf"), "w") as out:
                out.write(filler(module, index, args.file_bytes))
        if with_rules:
            with open(os.path.join(directory, "groups.tf"), "w") as out:
                out.write(groups_file(module))
            with open(os.path.join(directory, "rules.tf"), "w") as out:
                out.write(rules_file())


if __name__ == "__main__":
    main()
