locals {
  base_rules = []
  mutual_rules = concat(local.base_rules, [])
}
