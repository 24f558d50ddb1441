# Three least-privilege IAM policies, one per kind of graphvault host, and
# for each an optional role that the given principals may assume:
#
#   writer   - backup hosts: write new backups, never delete (explicit Deny)
#   pruner   - the host running `graphvault prune`: the only one that deletes
#   restorer - restore, verify and drill hosts: read, plus leases, alias
#              switch records and drill reports
#
# The policy documents live in policies/*.json.tftpl (rendered with the
# bucket name and the normalized key prefix only) so that
# scripts/check-infra.sh can lint them with parliament without Terraform.

locals {
  graphvault_roles = {
    writer = {
      description = "graphvault backup hosts: write backups under s3://${var.bucket_name}/${local.prefix}, no delete"
      principals  = var.writer_principals
    }
    pruner = {
      description = "graphvault prune: apply the retention policy to s3://${var.bucket_name}/${local.prefix}"
      principals  = var.pruner_principals
    }
    restorer = {
      description = "graphvault restore, verify and drill hosts: read s3://${var.bucket_name}/${local.prefix}"
      principals  = var.restorer_principals
    }
  }

  graphvault_roles_created = {
    for name, role in local.graphvault_roles : name => role if length(role.principals) > 0
  }

  kms_policy_enabled = var.sse_algorithm == "aws:kms" && var.kms_key_arn != null
}

resource "aws_iam_policy" "graphvault" {
  for_each = local.graphvault_roles

  name        = "${var.name_prefix}-${each.key}"
  description = each.value.description
  # jsondecode() fails the plan on a template that is not valid JSON.
  policy = jsonencode(jsondecode(templatefile("${path.module}/policies/${each.key}.json.tftpl", {
    bucket = var.bucket_name
    prefix = local.prefix
  })))
  tags = var.tags
}

resource "aws_iam_role" "graphvault" {
  for_each = local.graphvault_roles_created

  name        = "${var.name_prefix}-${each.key}"
  description = each.value.description
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect    = "Allow"
        Action    = "sts:AssumeRole"
        Principal = { AWS = each.value.principals }
      },
    ]
  })
  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "graphvault" {
  for_each = local.graphvault_roles_created

  role       = aws_iam_role.graphvault[each.key].name
  policy_arn = aws_iam_policy.graphvault[each.key].arn
}

# SSE-KMS with a customer managed key: every role reads and writes objects
# (writers their backups, all of them the lease objects), so each needs the
# data key permissions on that key.
resource "aws_iam_policy" "kms" {
  count = local.kms_policy_enabled ? 1 : 0

  name        = "${var.name_prefix}-kms"
  description = "graphvault: use the SSE-KMS key of s3://${var.bucket_name}"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "UseTheBucketKey"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = var.kms_key_arn
        Condition = {
          StringEquals = { "kms:ViaService" = "s3.${aws_s3_bucket.this.region}.amazonaws.com" }
        }
      },
    ]
  })
  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "kms" {
  for_each = local.kms_policy_enabled ? local.graphvault_roles_created : {}

  role       = aws_iam_role.graphvault[each.key].name
  policy_arn = aws_iam_policy.kms[0].arn
}
