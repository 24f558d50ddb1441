# Inputs of the graphvault bucket module. The retention variables must match
# the [retention] section of graphvault's configuration: the lifecycle rules
# built from them are the ones `graphvault lifecycle suggest --json` prints
# (scripts/check-infra.sh compares the two).

variable "bucket_name" {
  description = "Name of the S3 bucket to create for graphvault backups."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be 3-63 characters of lowercase letters, digits, '-' and '.', not starting or ending with '-' or '.'."
  }
}

variable "prefix" {
  description = "Key prefix graphvault stores under (the PREFIX of storage.url = s3://BUCKET/PREFIX), e.g. \"neo4j/prod\". Leading and trailing '/' are ignored; \"\" means the whole bucket."
  type        = string
  default     = "neo4j/prod"

  validation {
    condition     = !can(regex("//|[*?$]", var.prefix)) && !contains(split("/", trim(var.prefix, "/")), ".") && !contains(split("/", trim(var.prefix, "/")), "..")
    error_message = "prefix must not contain '//', '.' or '..' segments, or the IAM wildcard characters '*', '?' and '$'."
  }
}

variable "force_destroy" {
  description = "Allow `terraform destroy` to delete a bucket that still holds backups. Keep false outside tests."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource that takes tags."
  type        = map(string)
  default     = {}
}

# --- Versioning and object lock --------------------------------------------

variable "versioning_enabled" {
  description = "Enable bucket versioning. Adds the graphvault-expire-noncurrent-versions lifecycle rule. Required by object lock."
  type        = bool
  default     = true
}

variable "object_lock_enabled" {
  description = "Create the bucket with S3 object lock (only possible at creation; requires versioning_enabled). graphvault sets per-object retention itself when [retention] object_lock_mode is set."
  type        = bool
  default     = false
}

variable "object_lock_mode" {
  description = "Mode of the bucket's default retention (GOVERNANCE or COMPLIANCE); used only when object_lock_default_retention_days > 0."
  type        = string
  default     = "GOVERNANCE"

  validation {
    condition     = contains(["GOVERNANCE", "COMPLIANCE"], var.object_lock_mode)
    error_message = "object_lock_mode must be GOVERNANCE or COMPLIANCE."
  }
}

variable "object_lock_default_retention_days" {
  description = "Default retention applied to every new object version, in days; 0 = no default rule (graphvault's own per-object retention still applies)."
  type        = number
  default     = 0

  validation {
    condition     = var.object_lock_default_retention_days >= 0 && floor(var.object_lock_default_retention_days) == var.object_lock_default_retention_days
    error_message = "object_lock_default_retention_days must be a whole number, 0 or more."
  }
}

# --- Encryption at rest (graphvault already encrypts every object with age) -

variable "sse_algorithm" {
  description = "Default server-side encryption: AES256 (SSE-S3) or aws:kms (SSE-KMS)."
  type        = string
  default     = "AES256"

  validation {
    condition     = contains(["AES256", "aws:kms"], var.sse_algorithm)
    error_message = "sse_algorithm must be AES256 or aws:kms."
  }
}

variable "kms_key_arn" {
  description = "KMS key for SSE-KMS (sse_algorithm = aws:kms); null uses the AWS managed key aws/s3. When set, the roles' policies also get the KMS permissions they need on it."
  type        = string
  default     = null
}

# --- Retention (same values as graphvault's [retention] section) ------------

variable "keep_last" {
  description = "[retention] keep_last: the daily tier lives at least this many days (plus 2)."
  type        = number
  default     = 0
}

variable "keep_within_days" {
  description = "[retention] keep_within_days (0 when unset): the daily tier lives at least this many days (plus 2)."
  type        = number
  default     = 0
}

variable "keep_daily" {
  description = "[retention] keep_daily. Daily-tier objects expire after max(keep_daily, keep_last, keep_within_days) + 2 days."
  type        = number
  default     = 7
}

variable "keep_weekly" {
  description = "[retention] keep_weekly. Weekly-tier objects expire after 7 * keep_weekly + 7 days (no rule when 0)."
  type        = number
  default     = 4
}

variable "keep_monthly" {
  description = "[retention] keep_monthly. Monthly-tier objects expire after 31 * keep_monthly + 31 days (no rule when 0)."
  type        = number
  default     = 12
}

variable "keep_yearly" {
  description = "[retention] keep_yearly. Yearly-tier objects expire after 366 * keep_yearly + 31 days (no rule when 0). Pinned backups never expire."
  type        = number
  default     = 0
}

# --- IAM --------------------------------------------------------------------

variable "name_prefix" {
  description = "Prefix of the IAM policy and role names (\"<name_prefix>-writer\", \"-pruner\", \"-restorer\")."
  type        = string
  default     = "graphvault"
}

variable "writer_principals" {
  description = "ARNs allowed to assume the writer role (backup hosts). The role is created only when the list is not empty."
  type        = list(string)
  default     = []
}

variable "pruner_principals" {
  description = "ARNs allowed to assume the pruner role (the host running `graphvault prune`). The role is created only when the list is not empty."
  type        = list(string)
  default     = []
}

variable "restorer_principals" {
  description = "ARNs allowed to assume the restorer role (restore, verify and drill hosts). The role is created only when the list is not empty."
  type        = list(string)
  default     = []
}
