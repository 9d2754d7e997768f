resource "aws_security_group" "lonely" {
  name   = "lonely"
  vpc_id = "vpc-0123456789abcdef0"
}
