resource "aws_security_group" "app" {
  name   = "app"
  vpc_id = "vpc-0123456789abcdef0"
}

resource "aws_security_group" "cache" {
  name   = "cache"
  vpc_id = "vpc-0123456789abcdef0"
}

resource "aws_security_group" "batch" {
  name   = "batch"
  vpc_id = "vpc-0123456789abcdef0"
}

locals {
  mutual_rules = [
    # destination_port as a number, a string and a "from-to" range.
    {
      source_sg_id     = aws_security_group.app.id
      target_sg_id     = aws_security_group.cache.id
      destination_port = 6379
      description      = "Redis from the app"
    },
    {
      source_sg_id     = aws_security_group.batch.id
      target_sg_id     = aws_security_group.cache.id
      destination_port = "6379"
      protocol         = "TCP"
      description      = "Redis from batch jobs"
    },
    {
      source_sg_id     = aws_security_group.app.id
      target_sg_id     = aws_security_group.batch.id
      destination_port = "8000-8100"
      description      = "Job API"
    },
    # v1's to_port widens destination_port into a range.
    {
      source_sg_id     = aws_security_group.batch.id
      target_sg_id     = aws_security_group.app.id
      destination_port = "9000"
      to_port          = "9010"
      protocol         = "udp"
      description      = "Metrics over UDP"
    },
  ]
}
