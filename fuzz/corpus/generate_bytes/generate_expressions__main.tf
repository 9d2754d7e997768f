resource "aws_security_group" "worker" {
  name   = "worker"
  vpc_id = "vpc-0123456789abcdef0"
}

variable "queue_sg_id" {
  type    = string
  default = "sg-0aaaaaaaaaaaaaaaa"
}

variable "queue_port" {
  type    = number
  default = 5671
}

variable "team" {
  type    = string
  default = "platform"
}

locals {
  mutual_rules = [
    {
      # Expressions are copied as they are; what cannot be checked is not guessed at.
      name             = "worker_to_queue"
      source_sg_id     = aws_security_group.worker.id
      target_sg_id     = var.queue_sg_id
      destination_port = var.queue_port
      description      = "AMQPS for team ${var.team}"
    },
    {
      source_sg_id     = var.queue_sg_id
      target_sg_id     = aws_security_group.worker.id
      destination_port = 15672
      description      = null
    },
  ]
}
