locals {
  mutual_rules = [
    {
      source_sg_id = aws_security_group.a.id
      target_sg_id = = aws_security_group.b.id
    },
  ]
}
