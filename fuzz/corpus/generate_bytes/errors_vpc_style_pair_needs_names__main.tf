resource "aws_security_group" "web" {
  name = "web"
}

resource "aws_security_group" "db" {
  name = "db"
}

locals {
  # With the aws_vpc_* style a derived name is <source>_to_<target>, so that a port change
  # updates the rule in place: two connections between the same groups need a `name`.
  mutual_rules = [
    {
      source_sg_id     = aws_security_group.web.id
      target_sg_id     = aws_security_group.db.id
      destination_port = 5432
    },
    {
      source_sg_id     = aws_security_group.web.id
      target_sg_id     = aws_security_group.db.id
      destination_port = 6432
    },
  ]
}
