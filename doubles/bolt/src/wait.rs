//! `WAIT`: the result row of `CREATE/DROP/START/STOP DATABASE … WAIT`
//! (Operations Manual 5.x `standard-databases/wait-options.adoc`:
//! `address, state, message, success`) and when a waiting command may answer.

use std::time::Instant;

use crate::cypher::Wait;
use crate::packstream::Value;
use crate::state::{Rows, State};

impl State {
    /// The WAIT result row once the wait for `db` ended.
    pub fn wait_result(&mut self, db: &str) -> Rows {
        self.settle();
        let online = self.databases.get(db).is_some_and(|d| d.current_status == "online");
        wait_rows(
            Wait::Secs(0),
            online,
            if online {
                "caught up"
            } else {
                "timed out waiting for the database to come online"
            },
        )
    }

    /// When `db` will be online (`None`: now, or never without a restart).
    pub fn online_at(&mut self, db: &str) -> Option<Instant> {
        self.settle();
        self.databases.get(db).and_then(|d| d.online_at)
    }
}

/// The row `CREATE/DROP … WAIT` returns (columns as in Neo4j 5).
pub(crate) fn wait_rows(wait: Wait, success: bool, message: &str) -> Rows {
    if wait == Wait::No {
        return Rows::default();
    }
    Rows {
        columns: ["address", "state", "message", "success"].map(String::from).to_vec(),
        rows: vec![vec![
            Value::from("localhost:7687"),
            Value::from(if success { "CaughtUp" } else { "Waiting" }),
            Value::from(message),
            Value::Bool(success),
        ]],
    }
}
