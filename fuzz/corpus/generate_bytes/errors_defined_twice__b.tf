locals {
  mutual_rules = []
}
