resource "aws_security_group" "a" {
  name   = "a"
  vpc_id = "vpc-0123456789abcdef0"
}

locals {
  mutual_rules = [
    {
      source_sg_id = aws_security_group.a.id
      description  = "No target and no port"
    },
  ]
}
