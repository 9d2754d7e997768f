resource "aws_security_group" "web" {
  name = "web"

  # Inline rules and separate rule resources overwrite each other.
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/8"]
  }
}

resource "aws_security_group" "db" {
  name = "db"
}

resource "aws_vpc_security_group_rules_exclusive" "db" {
  security_group_id = aws_security_group.db.id
  ingress_rule_ids  = []
  egress_rule_ids   = []
}
