locals {
  # café, saved as Latin-1
  mutual_rules = []
}
