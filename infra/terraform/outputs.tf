output "bucket_name" {
  description = "Name of the backup bucket."
  value       = aws_s3_bucket.this.id
}

output "bucket_arn" {
  description = "ARN of the backup bucket."
  value       = aws_s3_bucket.this.arn
}

output "prefix" {
  description = "Normalized key prefix (\"neo4j/prod/\", or \"\" for the whole bucket)."
  value       = local.prefix
}

output "graphvault_storage_url" {
  description = "Value for graphvault's storage.url (s3://BUCKET/PREFIX)."
  value       = local.storage_url
}

output "writer_policy_arn" {
  description = "IAM policy for backup hosts (`graphvault backup`)."
  value       = aws_iam_policy.graphvault["writer"].arn
}

output "pruner_policy_arn" {
  description = "IAM policy for the host running `graphvault prune`."
  value       = aws_iam_policy.graphvault["pruner"].arn
}

output "restorer_policy_arn" {
  description = "IAM policy for restore, verify and drill hosts."
  value       = aws_iam_policy.graphvault["restorer"].arn
}

output "kms_policy_arn" {
  description = "IAM policy for the SSE-KMS key (null without kms_key_arn); attach it wherever you attach one of the three policies yourself."
  value       = local.kms_policy_enabled ? aws_iam_policy.kms[0].arn : null
}

output "writer_role_arn" {
  description = "Writer role (null when writer_principals is empty)."
  value       = try(aws_iam_role.graphvault["writer"].arn, null)
}

output "pruner_role_arn" {
  description = "Pruner role (null when pruner_principals is empty)."
  value       = try(aws_iam_role.graphvault["pruner"].arn, null)
}

output "restorer_role_arn" {
  description = "Restorer role (null when restorer_principals is empty)."
  value       = try(aws_iam_role.graphvault["restorer"].arn, null)
}
