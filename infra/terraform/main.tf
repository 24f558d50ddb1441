# S3 bucket for graphvault backups: versioning, optional object lock, default
# encryption, no public access, TLS only, and the lifecycle rules that
# `graphvault lifecycle suggest --json` prints for the same retention policy.

locals {
  # "neo4j/prod" -> "neo4j/prod/", "" -> "" (the key prefix graphvault uses).
  prefix = trim(var.prefix, "/") == "" ? "" : "${trim(var.prefix, "/")}/"

  storage_url = trim(var.prefix, "/") == "" ? "s3://${var.bucket_name}" : "s3://${var.bucket_name}/${trim(var.prefix, "/")}"

  # Days after which each retention tier expires (src/retention/tier.rs,
  # tier_days). A tier whose keep_* is 0 gets no rule; the daily tier always
  # has one; pinned backups never expire.
  tier_expiration_days = {
    daily   = max(var.keep_daily, var.keep_last, var.keep_within_days) + 2
    weekly  = 7 * var.keep_weekly + 7
    monthly = 31 * var.keep_monthly + 31
    yearly  = 366 * var.keep_yearly + 31
  }
  tier_keep = {
    daily   = 1
    weekly  = var.keep_weekly
    monthly = var.keep_monthly
    yearly  = var.keep_yearly
  }
  tier_rules = [
    for tier in ["daily", "weekly", "monthly", "yearly"] : {
      id   = "graphvault-expire-${tier}"
      tier = tier
      days = local.tier_expiration_days[tier]
    } if local.tier_keep[tier] > 0
  ]

  abort_incomplete_upload_days       = 1
  lease_generation_expiration_days   = 30
  noncurrent_version_expiration_days = 1
}

resource "aws_s3_bucket" "this" {
  bucket              = var.bucket_name
  force_destroy       = var.force_destroy
  object_lock_enabled = var.object_lock_enabled
  tags                = var.tags

  lifecycle {
    precondition {
      condition     = !var.object_lock_enabled || var.versioning_enabled
      error_message = "object_lock_enabled = true requires versioning_enabled = true."
    }
  }
}

resource "aws_s3_bucket_versioning" "this" {
  count  = var.versioning_enabled ? 1 : 0
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_object_lock_configuration" "this" {
  count  = var.object_lock_enabled && var.object_lock_default_retention_days > 0 ? 1 : 0
  bucket = aws_s3_bucket.this.id

  rule {
    default_retention {
      mode = var.object_lock_mode
      days = var.object_lock_default_retention_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.sse_algorithm
      kms_master_key_id = var.sse_algorithm == "aws:kms" ? var.kms_key_arn : null
    }
    bucket_key_enabled = var.sse_algorithm == "aws:kms"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket = aws_s3_bucket.this.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource = [
          aws_s3_bucket.this.arn,
          "${aws_s3_bucket.this.arn}/*",
        ]
        Condition = {
          Bool = { "aws:SecureTransport" = "false" }
        }
      },
    ]
  })

  # S3 refuses a bucket policy while the public access block is being set.
  depends_on = [aws_s3_bucket_public_access_block.this]
}

# The same rules, in the same order, as `graphvault lifecycle suggest --json`.
resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  # graphvault-expire-<tier>: objects tagged graphvault-tier=<tier>.
  dynamic "rule" {
    for_each = local.tier_rules
    content {
      id     = rule.value.id
      status = "Enabled"

      filter {
        and {
          prefix = local.prefix
          tags = {
            "graphvault-tier" = rule.value.tier
          }
        }
      }

      expiration {
        days = rule.value.days
      }
    }
  }

  rule {
    id     = "graphvault-abort-incomplete-uploads"
    status = "Enabled"

    filter {
      prefix = local.prefix
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = local.abort_incomplete_upload_days
    }
  }

  rule {
    id     = "graphvault-expire-old-lease-generations"
    status = "Enabled"

    filter {
      prefix = "${local.prefix}locks/repository/"
    }

    expiration {
      days = local.lease_generation_expiration_days
    }
  }

  dynamic "rule" {
    for_each = var.versioning_enabled ? ["graphvault-expire-noncurrent-versions"] : []
    content {
      id     = rule.value
      status = "Enabled"

      filter {
        prefix = local.prefix
      }

      noncurrent_version_expiration {
        noncurrent_days = local.noncurrent_version_expiration_days
      }
    }
  }

  # Lifecycle rules on a versioned bucket act on versions: set them after
  # versioning.
  depends_on = [aws_s3_bucket_versioning.this]
}
