//! Whether a store's root holds a graphvault repository, asked when it
//! holds no backup: a brand-new repository is no error (`list` says "no
//! backups yet", exit 0), but a mistyped prefix must not read as one.
//!
//! The rule (docs/EXIT_CODES.md, 7): the root is a repository when anything
//! graphvault writes is under it (`manifests/`, `data/`, `locks/`,
//! `aliases/`, `reports/`, `probe/`). When nothing is, and a folder under it, or one
//! next to it whose name is close to its own (a typo: `prd` for `prod`),
//! holds a repository, the URL is taken as a mistake: exit 7 naming those.
//! Otherwise it is taken as new. A neighbour that cannot be read (a role
//! allowed only its own prefix) counts as no repository; this never fails
//! on it.

use crate::model::{DATA, MANIFESTS};
use crate::store::ObjectStore;

use super::known_names::closest;
use super::OpsError;

/// The top-level folders graphvault writes.
const OURS: [&str; 6] = [MANIFESTS, DATA, "locks/", "aliases/", "reports/", "probe/"];
/// Folders looked into at most, under the root and next to it.
const MAX_PROBES: usize = 10;

/// The store one level up and the root's name in it (`s3://b/neo4j` and
/// `prod` for `s3://b/neo4j/prod`).
pub struct Parent<'a> {
    pub store: &'a dyn ObjectStore,
    pub name: &'a str,
}

/// What the root holds when it holds no backup.
#[derive(Debug, PartialEq, Eq)]
pub enum Emptiness {
    /// A repository without backups yet, or a new one.
    NoBackupsYet,
    /// Not a repository; these locations (close by) are.
    Elsewhere(Vec<String>),
}

/// `Err(NoRepository)` when the root is not a repository but one is close
/// by (see the module doc); call it only when the root holds no manifest.
pub async fn require_repository(store: &dyn ObjectStore, parent: Option<Parent<'_>>) -> Result<(), OpsError> {
    match look_around(store, parent).await? {
        Emptiness::NoBackupsYet => Ok(()),
        Emptiness::Elsewhere(nearby) => Err(OpsError::NoRepository {
            location: store.location(),
            nearby,
        }),
    }
}

/// Looks at the root's folders, then its subfolders' and its close
/// siblings' (only their top level: one small listing each).
pub async fn look_around(store: &dyn ObjectStore, parent: Option<Parent<'_>>) -> Result<Emptiness, OpsError> {
    let store_err = |source| OpsError::Store {
        location: store.location(),
        source,
    };
    let own = store.folders("").await.map_err(store_err)?;
    if own.iter().any(|f| OURS.contains(&f.as_str())) {
        return Ok(Emptiness::NoBackupsYet);
    }
    let mut nearby = Vec::new();
    for child in own.iter().take(MAX_PROBES) {
        if holds_repository(store, child).await {
            nearby.push(format!("{}/{}", store.location(), child.trim_end_matches('/')));
        }
    }
    if let Some(parent) = parent {
        let siblings = parent.store.folders("").await.unwrap_or_else(|e| {
            tracing::debug!(error = %e, "cannot list next to the storage prefix; not suggesting another");
            Vec::new()
        });
        let names: Vec<&str> = siblings
            .iter()
            .map(|f| f.trim_end_matches('/'))
            .filter(|n| *n != parent.name)
            .collect();
        for name in closest(parent.name, &names).into_iter().take(MAX_PROBES) {
            if holds_repository(parent.store, &format!("{name}/")).await {
                nearby.push(format!("{}/{name}", parent.store.location()));
            }
        }
    }
    Ok(judge(nearby))
}

/// Nothing of ours under the root: a mistake when a repository is close by.
fn judge(nearby: Vec<String>) -> Emptiness {
    if nearby.is_empty() {
        Emptiness::NoBackupsYet
    } else {
        Emptiness::Elsewhere(nearby)
    }
}

/// Whether `folder` (ending in `/`) has a `manifests/` folder: a repository
/// with backups. An error reads as no.
async fn holds_repository(store: &dyn ObjectStore, folder: &str) -> bool {
    let want = format!("{folder}{MANIFESTS}");
    store.folders(folder).await.is_ok_and(|inner| inner.contains(&want))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{FsStore, ObjectStore};

    fn put(root: &std::path::Path, key: &str) {
        let path = root.join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b"x").unwrap();
    }

    async fn around(root: &std::path::Path, name: &str) -> Emptiness {
        let own = FsStore::new(root.join(name)).unwrap();
        let up = FsStore::new(root).unwrap();
        let parent = Parent {
            store: &up as &dyn ObjectStore,
            name,
        };
        look_around(&own, Some(parent)).await.unwrap()
    }

    #[tokio::test]
    async fn a_mistyped_prefix_next_to_a_repository_is_told_where_the_repository_is() {
        let dir = tempfile::tempdir().unwrap();
        put(dir.path(), "prod/manifests/customer1/x.json");
        put(dir.path(), "staging/manifests/customer1/x.json");
        let got = around(dir.path(), "prd").await;
        let want = format!("file://{}/prod", dir.path().display());
        assert_eq!(got, Emptiness::Elsewhere(vec![want]));
    }

    #[tokio::test]
    async fn a_parent_of_repositories_is_told_the_repositories_under_it() {
        let dir = tempfile::tempdir().unwrap();
        put(dir.path(), "neo4j/prod/manifests/customer1/x.json");
        let got = around(dir.path(), "neo4j").await;
        let want = format!("file://{}/neo4j/prod", dir.path().display());
        assert_eq!(got, Emptiness::Elsewhere(vec![want]));
    }

    #[tokio::test]
    async fn a_new_or_started_repository_is_no_mistake() {
        let dir = tempfile::tempdir().unwrap();
        put(dir.path(), "prod/manifests/customer1/x.json");
        // A new prefix whose name is not close to any repository's.
        assert_eq!(around(dir.path(), "staging").await, Emptiness::NoBackupsYet);
        // Close to one, but graphvault has written there (a lease): a repository.
        put(dir.path(), "prd/locks/repository/00000000000000000001.json");
        assert_eq!(around(dir.path(), "prd").await, Emptiness::NoBackupsYet);
    }
}
