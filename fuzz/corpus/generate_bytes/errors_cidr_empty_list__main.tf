resource "aws_security_group" "a" {
  name = "a"
}

locals {
  mutual_rules = [
    {
      source_sg_id       = aws_security_group.a.id
      target_cidr_blocks = []
      destination_port   = 443
    },
  ]
}
