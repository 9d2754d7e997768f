resource "aws_security_group" "cluster" {
  name   = "cluster"
  vpc_id = "vpc-0123456789abcdef0"
}

locals {
  mutual_rules = [
    {
      # A group talking to itself gets `self = true` on both rules.
      source_sg_id = aws_security_group.cluster.id
      target_sg_id = aws_security_group.cluster.id
      from_port    = 7946
      description  = "Cluster gossip"
    },
  ]
}
