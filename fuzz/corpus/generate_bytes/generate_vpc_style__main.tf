resource "aws_security_group" "lb" {
  name   = "lb"
  vpc_id = "vpc-0123456789abcdef0"
}

resource "aws_security_group" "app" {
  name   = "app"
  vpc_id = "vpc-0123456789abcdef0"
}

resource "aws_security_group" "ops" {
  name   = "ops"
  vpc_id = "vpc-0123456789abcdef0"
}

locals {
  mutual_rules = {
    lb_to_app = {
      source_sg_id       = aws_security_group.lb.id
      target_sg_id       = aws_security_group.app.id
      from_port          = 8080
      description_source = "From the load balancer"
      description_target = "To the app servers"
      tags = {
        Team = "web"
        Tier = "app"
      }
    }
    ops_ping = {
      source_sg_id = aws_security_group.ops.id
      target_sg_id = aws_security_group.app.id
      protocol     = "ICMP"
      from_port    = 8
      to_port      = -1
      description  = "Ping from ops"
    }
    app_peers = {
      source_sg_id = aws_security_group.app.id
      target_sg_id = aws_security_group.app.id
      protocol     = "all"
      description  = "App cluster traffic"
    }
  }

  # Not part of mutual_rules: checks that only the local is read.
  other = [1, 2]
}

locals {
  ops_rules = "unused"
}
