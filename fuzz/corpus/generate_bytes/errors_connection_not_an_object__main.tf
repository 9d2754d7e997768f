locals {
  mutual_rules = [
    "sg-123 to sg-456",
  ]
}
