resource "aws_security_group" "a" {
  name   = "a"
  vpc_id = "vpc-0123456789abcdef0"
}

resource "aws_security_group" "b" {
  name   = "b"
  vpc_id = "vpc-0123456789abcdef0"
}

locals {
  mutual_rules = [
    {
      source_sg_id     = aws_security_group.a.id
      target_sg_id     = aws_security_group.b.id
      destination_port = "9000-8000"
    },
  ]
}
