locals {
  # Every connection between the tiers, written once: mutualsg generates the egress rule on
  # the source group and the ingress rule on the target group.
  mutual_rules = [
    {
      # The internet reaches the ALB: one ingress rule, no egress rule to write.
      source_cidr_blocks = ["0.0.0.0/0"]
      target_sg_id       = aws_security_group.alb.id
      destination_port   = 443
      description        = "HTTPS from the internet"
    },
    {
      source_sg_id     = aws_security_group.alb.id
      target_sg_id     = aws_security_group.web.id
      destination_port = 80
      description      = "HTTP from the ALB to the web servers"
    },
    {
      source_sg_id     = aws_security_group.web.id
      target_sg_id     = aws_security_group.db.id
      destination_port = 3306
      description      = "MySQL from the web servers"
    },
    {
      source_sg_id     = aws_security_group.web.id
      target_sg_id     = aws_security_group.s3_endpoint.id
      destination_port = 443
      description      = "HTTPS from the web servers to the S3 endpoint"
    },
    {
      # S3 through the gateway endpoint: one egress rule to its prefix list.
      source_sg_id           = aws_security_group.web.id
      target_prefix_list_ids = [var.s3_prefix_list_id]
      destination_port       = 443
      description            = "HTTPS from the web servers to S3"
    },
  ]
}
