resource "aws_security_group" "a" {
  name = "a"
}

locals {
  mutual_rules = [
    {
      source_sg_id       = aws_security_group.a.id
      target_cidr_blocks = ["10.0.0.1/16", "10.1.0.0/33", "10.2.0.0"]
      destination_port   = 443
    },
  ]
}
