resource "aws_security_group" "monitor" {
  name   = "monitor"
  vpc_id = "vpc-0123456789abcdef0"
}

resource "aws_security_group" "node" {
  name   = "node"
  vpc_id = "vpc-0123456789abcdef0"
}

resource "aws_security_group" "vpn" {
  name   = "vpn"
  vpc_id = "vpc-0123456789abcdef0"
}

locals {
  mutual_rules = [
    { # ICMP: from_port is the type, to_port the code (-1: any).
      source_sg_id = aws_security_group.monitor.id
      target_sg_id = aws_security_group.node.id
      protocol     = "icmp"
      from_port    = 8
      to_port      = 0
      description  = "Ping"
    },
    {
      source_sg_id = aws_security_group.monitor.id
      target_sg_id = aws_security_group.node.id
      protocol     = "icmpv6"
      from_port    = -1
      to_port      = -1
    },
    { # All traffic, spelled "all": written as "-1" with ports 0 and 0.
      source_sg_id = aws_security_group.vpn.id
      target_sg_id = aws_security_group.node.id
      protocol     = "all"
      description  = "Everything from the VPN"
    },
    { # Numbers: 17 is udp; 50 (ESP) has no name.
      source_sg_id     = aws_security_group.vpn.id
      target_sg_id     = aws_security_group.monitor.id
      protocol         = 17
      destination_port = 514
    },
    {
      source_sg_id     = aws_security_group.vpn.id
      target_sg_id     = aws_security_group.monitor.id
      protocol         = "50"
      destination_port = 0
    },
  ]
}
