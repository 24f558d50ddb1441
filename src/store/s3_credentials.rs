//! Credential problems, told once with their fix: no credentials in the
//! AWS chain, an access key the store does not know, a secret that does not
//! match it, an expired session token. None of them is retried (another
//! attempt sends the same credentials), and the SDK's account of every
//! provider it tried is kept for `-v` (debug), not put in the message.

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

use super::StoreError;

/// Where credentials come from, for every fix.
const SOURCES: &str = "the AWS chain: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (plus AWS_SESSION_TOKEN \
     for temporary ones), or AWS_PROFILE naming a profile in ~/.aws/credentials or ~/.aws/config, or web \
     identity (AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE), or the instance or task role \
     (`aws sts get-caller-identity` checks what the chain finds)";

/// The credential problem `err` is, if it is one.
pub(super) fn credential_problem<E>(op: &'static str, err: &SdkError<E, HttpResponse>) -> Option<StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if let SdkError::ServiceError(se) = err {
        let (problem, fix) = match se.err().code()? {
            "InvalidAccessKeyId" | "InvalidClientTokenId" => (
                "the store does not know this access key id (InvalidAccessKeyId)",
                "the credentials found are wrong, deleted or for another store: fix them (or storage.endpoint)",
            ),
            "SignatureDoesNotMatch" => (
                "the request signature does not match (SignatureDoesNotMatch)",
                "the secret access key does not belong to the access key id: fix AWS_SECRET_ACCESS_KEY or the profile's aws_secret_access_key",
            ),
            "ExpiredToken" | "TokenRefreshRequired" | "InvalidToken" | "ExpiredTokenException" => (
                "the session token is expired or invalid (ExpiredToken)",
                "get fresh temporary credentials (aws sso login, assume the role again) or unset a stale AWS_SESSION_TOKEN",
            ),
            _ => return None,
        };
        return Some(StoreError::Credentials {
            op,
            problem: problem.into(),
            fix: format!("{fix}; graphvault takes credentials from {SOURCES}"),
        });
    }
    let cause = chain(err).find_map(|e| e.downcast_ref::<CredentialsError>())?;
    tracing::debug!(op, error = %crate::error_text::join_causes(cause), "AWS credential chain");
    let problem = match cause {
        CredentialsError::ProviderTimedOut(_) => return None,
        CredentialsError::CredentialsNotLoaded(_) => "no AWS credentials found".to_string(),
        // A profile or role that exists but failed: its first line says why.
        other => {
            let text = crate::error_text::join_causes(other);
            let first = text.lines().next().unwrap_or_default().trim_end_matches(':');
            format!("the AWS credentials could not be loaded: {first}")
        }
    };
    Some(StoreError::Credentials {
        op,
        problem,
        fix: format!("Provide them through {SOURCES}"),
    })
}

/// `err` and its causes.
fn chain<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(err), |e| e.source())
}
