resource "aws_security_group" "a" {
  name = "a"
}

locals {
  mutual_rules = [
    {
      source_cidr_blocks = ["10.0.0.0/8"]
      target_cidr_blocks = ["192.168.0.0/16"]
      destination_port   = 443
    },
  ]
}
