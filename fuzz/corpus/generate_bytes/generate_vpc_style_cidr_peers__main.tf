resource "aws_security_group" "app" {
  name   = "app"
  vpc_id = "vpc-0123456789abcdef0"
}

resource "aws_security_group" "proxy" {
  name   = "proxy"
  vpc_id = "vpc-0123456789abcdef0"
}

variable "office_cidrs" {
  type    = list(string)
  default = ["198.51.100.0/24", "203.0.113.0/24"]
}

variable "dynamodb_prefix_list_id" {
  type    = string
  default = "pl-02cd2c6b"
}

locals {
  mutual_rules = [
    {
      # Literal lists are written sorted: the AWS provider replaces a rule whose
      # cidr_blocks order changes.
      source_sg_id       = aws_security_group.app.id
      target_cidr_blocks = ["10.20.0.0/16", "10.10.0.0/16"]
      destination_port   = 5432
      description        = "Postgres on the peered VPCs"
    },
    {
      source_sg_id            = aws_security_group.app.id
      target_ipv6_cidr_blocks = ["2001:db8:1234::/48"]
      destination_port        = 443
    },
    {
      source_sg_id           = aws_security_group.app.id
      target_prefix_list_ids = [var.dynamodb_prefix_list_id]
      destination_port       = 443
      description            = "DynamoDB gateway endpoint"
    },
    {
      # A list expression is copied as it is.
      source_cidr_blocks = var.office_cidrs
      target_sg_id       = aws_security_group.app.id
      destination_port   = 22
      description        = "SSH from the offices"
    },
    {
      # Egress to the whole internet: generated, with a warning.
      source_sg_id       = aws_security_group.proxy.id
      target_cidr_blocks = ["0.0.0.0/0"]
      protocol           = "tcp"
      destination_port   = 443
      description        = "The proxy reaches the internet"
    },
  ]
}
