resource "aws_security_group" "frontend" {
  name   = "frontend"
  vpc_id = "vpc-0123456789abcdef0"
}

resource "aws_security_group" "api" {
  name   = "api"
  vpc_id = "vpc-0123456789abcdef0"
}

locals {
  # The module's v2 map form: the key names the pair.
  mutual_rules = {
    frontend_to_api = {
      source_sg_id       = aws_security_group.frontend.id
      target_sg_id       = aws_security_group.api.id
      from_port          = 8443
      description_source = "API calls from the frontend"
      description_target = "API calls to the api tier"
    }
    "api-grpc" = {
      source_sg_id = aws_security_group.api.id
      target_sg_id = aws_security_group.frontend.id
      from_port    = 50051
      to_port      = 50052
      description  = "gRPC push to the frontend"
    }
  }
}
