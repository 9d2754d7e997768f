# The classic three tiers: an internet-facing ALB, web servers, a MySQL database, an
# interface endpoint for S3 that the web servers reach over HTTPS, and the S3 gateway
# endpoint's prefix list for the same traffic through the route table.

variable "vpc_id" {
  description = "The VPC the groups live in."
  type        = string
  default     = "vpc-0123456789abcdef0"
}

variable "s3_prefix_list_id" {
  description = "The S3 gateway endpoint's prefix list (aws_vpc_endpoint.s3.prefix_list_id in a full module)."
  type        = string
  default     = "pl-63a5400a"
}

resource "aws_security_group" "alb" {
  name        = "alb"
  description = "Application load balancer"
  vpc_id      = var.vpc_id
}

resource "aws_security_group" "web" {
  name        = "web"
  description = "Web servers"
  vpc_id      = var.vpc_id
}

resource "aws_security_group" "db" {
  name        = "db"
  description = "MySQL database"
  vpc_id      = var.vpc_id
}

resource "aws_security_group" "s3_endpoint" {
  name        = "s3-endpoint"
  description = "S3 interface endpoint"
  vpc_id      = var.vpc_id
}
