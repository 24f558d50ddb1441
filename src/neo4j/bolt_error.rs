//! What can go wrong on the Bolt side, and how a neo4rs error is sorted
//! into it (unreachable, refused credentials, a Neo4j status code, …).

use super::bolt::BoltSettings;

/// A Bolt-side failure.
#[derive(Debug, thiserror::Error)]
pub enum BoltError {
    #[error("cannot reach Neo4j at {uri}: {detail}. Check [neo4j] bolt_uri and that the server is up")]
    Unreachable { uri: String, detail: String },
    #[error("Neo4j at {uri} refused the credentials of user '{user}': check [neo4j] user and the password (password_file or GRAPHVAULT_NEO4J_PASSWORD)")]
    Unauthorized { uri: String, user: String },
    #[error("{what} did not finish within {secs} s")]
    Timeout { what: String, secs: u64 },
    #[error("database '{name}' does not exist")]
    DatabaseNotFound { name: String },
    #[error("database '{name}' is {status}, not online")]
    NotOnline { name: String, status: String },
    #[error("Neo4j error {code} during {what}: {message}")]
    Server {
        what: String,
        code: String,
        message: String,
    },
    #[error("unexpected reply to {what}: {detail}")]
    Protocol { what: String, detail: String },
    #[error("cannot seed database '{name}' from cluster server id {server_id:?}: not a plain server id")]
    BadSeed { name: String, server_id: String },
}

pub(super) fn classify(settings: &BoltSettings, what: &str, e: neo4rs::Error) -> BoltError {
    let unauthorized = || BoltError::Unauthorized {
        uri: settings.uri.clone(),
        user: settings.user.clone(),
    };
    match e {
        neo4rs::Error::Neo4j(e) if e.code().starts_with("Neo.ClientError.Security.") => unauthorized(),
        // A FAILURE to HELLO/LOGON: neo4rs keeps only the message.
        neo4rs::Error::AuthenticationError(_) => unauthorized(),
        neo4rs::Error::Neo4j(e) if e.code() == "Neo.ClientError.Database.DatabaseNotFound" => {
            BoltError::DatabaseNotFound {
                name: e.message().to_string(),
            }
        }
        neo4rs::Error::Neo4j(e) => BoltError::Server {
            what: what.to_string(),
            code: e.code().to_string(),
            message: e.message().to_string(),
        },
        e @ (neo4rs::Error::IOError { .. }
        | neo4rs::Error::ConnectionError
        | neo4rs::Error::UnsupportedVersion(..)
        | neo4rs::Error::ProtocolMismatch(_)
        | neo4rs::Error::UrlParseError(_)
        | neo4rs::Error::UnsupportedScheme(_)
        | neo4rs::Error::InvalidDnsName(_)) => BoltError::Unreachable {
            uri: settings.uri.clone(),
            detail: e.to_string(),
        },
        // A refused login can also surface as a closed connection.
        other if other.to_string().contains("Neo.ClientError.Security.") => unauthorized(),
        other => BoltError::Protocol {
            what: what.to_string(),
            detail: other.to_string(),
        },
    }
}
