locals {
  mutual_rules = [
    {
      source_sg_id     = aws_security_group.web.id
      target_sg_id     = aws_security_group.db.id
      destination_port = 5432
      description      = "Postgres"
    },
  ]
}
