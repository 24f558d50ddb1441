//! The commands that read backups: `list`, `restore`, `verify`.

use std::sync::Arc;

use crate::cli::{Cli, ListArgs, RestoreArgs, VerifyArgs};
use crate::model::DbName;
use crate::neo4j::ProcessAdmin;
use crate::ops::{self, BackupFilter, ListFormat, OpsError};
use crate::pipeline::{Identities, KeyError};

use super::{load_config, print, store_for};

pub(super) async fn list(cli: &Cli, args: &ListArgs) -> anyhow::Result<()> {
    let config = load_config(cli)?;
    let filter = BackupFilter {
        database: args.database.as_deref().map(str::parse).transpose()?,
    };
    let store = store_for(&config).await?;
    let keys = ops::list_backups(store.as_ref(), &filter).await?;
    let format = if args.json { ListFormat::Json } else { ListFormat::Table };
    print(&ops::render_list(&keys, format))
}

pub(super) async fn restore(cli: &Cli, args: &RestoreArgs) -> anyhow::Result<()> {
    let config = load_config(cli)?;
    let identity_file = args
        .identity
        .clone()
        .or(config.identity_file.clone())
        .ok_or(KeyError::NoIdentity)?;
    let identities = Arc::new(Identities::from_file(&identity_file)?);
    let store = store_for(&config).await?;
    let written = ops::restore_to_dir(store, identities, &args.backup, &args.to_dir).await?;
    let mut out = String::new();
    for path in written {
        out.push_str(&format!("{}\n", path.display()));
    }
    print(&out)
}

pub(super) async fn verify(cli: &Cli, args: &VerifyArgs) -> anyhow::Result<()> {
    use crate::ops::verify::{self, VerifyContext, Which};
    let config = load_config(cli)?;
    let database = args.database.as_deref().map(str::parse::<DbName>).transpose()?;
    let which = match (&args.backup, args.all) {
        (Some(id), _) => Which::Id(id.clone()),
        (None, true) => Which::All,
        (None, false) => Which::Latest,
    };
    let identity_file = args.identity.clone().or(config.identity_file.clone());
    let identities = match &identity_file {
        Some(f) => Some(Arc::new(Identities::from_file(f)?)),
        None if args.deep => return Err(KeyError::NoIdentity.into()),
        None => None,
    };
    let store = store_for(&config).await?;
    let keys = verify::select(store.as_ref(), database.as_ref(), &which).await?;
    if keys.is_empty() {
        return Err(OpsError::BackupNotFound {
            id: "(none to verify)".into(),
            location: store.location(),
        }
        .into());
    }
    let admin = ProcessAdmin::new(config.neo4j.admin.clone());
    let ctx = VerifyContext {
        store,
        identities,
        deep: args.deep.then(|| {
            (
                &admin as &dyn crate::neo4j::Neo4jAdmin,
                config.backup.staging_dir.clone(),
            )
        }),
    };
    let results = verify::verify(&ctx, &keys).await;
    if args.json {
        print(&format!("{}\n", serde_json::to_string_pretty(&results)?))?;
    } else {
        print(&verify::render(&results))?;
    }
    let failed = results.iter().filter(|r| !r.ok()).count();
    if failed > 0 {
        return Err(OpsError::VerifyFailed {
            failed,
            total: results.len(),
        }
        .into());
    }
    Ok(())
}
