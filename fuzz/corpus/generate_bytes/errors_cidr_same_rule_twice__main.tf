resource "aws_security_group" "a" {
  name = "a"
}

locals {
  mutual_rules = [
    {
      source_sg_id       = aws_security_group.a.id
      target_cidr_blocks = ["10.0.0.0/8", "192.168.0.0/16"]
      destination_port   = 443
    },
    {
      source_sg_id       = aws_security_group.a.id
      target_cidr_blocks = ["172.16.0.0/12", "10.0.0.0/8"]
      destination_port   = 443
      description        = "Overlaps the first in 10.0.0.0/8"
    },
  ]
}
