resource "aws_security_group" "a" {
  name = "a"
}

locals {
  mutual_rules = [
    {
      source_sg_id       = aws_security_group.a.id
      target_cidr_blocks = ["2001:db8::/32"]
      destination_port   = 443
    },
    {
      source_ipv6_cidr_blocks = ["10.0.0.0/8"]
      target_sg_id            = aws_security_group.a.id
      destination_port        = 443
    },
  ]
}
