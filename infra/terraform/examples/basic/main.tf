# A production bucket for graphvault with the default retention policy
# (7 daily, 4 weekly, 12 monthly), object lock in GOVERNANCE mode and one
# role per kind of host. Apply, then put the `graphvault_storage_url` output
# into storage.url and give each host the matching role.

terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

provider "aws" {
  region = "eu-central-1"
}

data "aws_caller_identity" "current" {}

locals {
  account = data.aws_caller_identity.current.account_id
}

module "graphvault_bucket" {
  source = "../.."

  bucket_name = "acme-graphvault-backups"
  prefix      = "neo4j/prod"

  versioning_enabled  = true
  object_lock_enabled = true
  object_lock_mode    = "GOVERNANCE"

  # Must match [retention] in graphvault.toml (these are graphvault's defaults).
  keep_daily   = 7
  keep_weekly  = 4
  keep_monthly = 12
  keep_yearly  = 0

  # The instance roles of the hosts assume these roles (or attach the
  # *_policy_arn outputs to the instance roles directly).
  writer_principals   = ["arn:aws:iam::${local.account}:role/neo4j-backup-host"]
  pruner_principals   = ["arn:aws:iam::${local.account}:role/graphvault-prune-host"]
  restorer_principals = ["arn:aws:iam::${local.account}:role/neo4j-restore-host"]

  tags = {
    service = "graphvault"
  }
}

output "graphvault_storage_url" {
  value = module.graphvault_bucket.graphvault_storage_url
}

output "role_arns" {
  value = {
    writer   = module.graphvault_bucket.writer_role_arn
    pruner   = module.graphvault_bucket.pruner_role_arn
    restorer = module.graphvault_bucket.restorer_role_arn
  }
}
