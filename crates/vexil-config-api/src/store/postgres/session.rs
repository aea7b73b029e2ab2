//! A session on one connection: a pooled connection (`read`), or a transaction (`write`,
//! `read_snapshot`). The reads (`read.rs`) work on either; the writes (`write.rs`) only in
//! a transaction. Dropping a transaction that was not committed rolls it back (sqlx
//! issues the ROLLBACK before the connection is used again).

use std::ops::DerefMut;

use sqlx::{Executor, PgConnection, Postgres, Transaction};

use crate::store::StoreResult;

/// The one savepoint a write session may hold (savepoints do not nest). Fixed statements
/// without parameters or rows, so not checked queries.
const SAVEPOINT: &str = "SAVEPOINT vexil_savepoint";
const ROLLBACK_TO_SAVEPOINT: &str = "ROLLBACK TO SAVEPOINT vexil_savepoint";
const RELEASE_SAVEPOINT: &str = "RELEASE SAVEPOINT vexil_savepoint";

pub struct PgSession<C> {
    connection: C,
}

impl<C: DerefMut<Target = PgConnection>> PgSession<C> {
    pub fn new(connection: C) -> PgSession<C> {
        PgSession { connection }
    }

    /// The connection the session's statements run on.
    pub fn connection(&mut self) -> &mut PgConnection {
        &mut self.connection
    }
}

impl PgSession<Transaction<'static, Postgres>> {
    pub async fn commit(self) -> StoreResult<()> {
        self.connection.commit().await?;
        Ok(())
    }

    pub async fn savepoint(&mut self) -> StoreResult<()> {
        self.execute(SAVEPOINT).await
    }

    /// Rolls back to the savepoint and forgets it, so the next `savepoint` starts afresh.
    pub async fn rollback_to_savepoint(&mut self) -> StoreResult<()> {
        self.execute(ROLLBACK_TO_SAVEPOINT).await?;
        self.execute(RELEASE_SAVEPOINT).await
    }

    pub async fn release_savepoint(&mut self) -> StoreResult<()> {
        self.execute(RELEASE_SAVEPOINT).await
    }

    async fn execute(&mut self, statement: &'static str) -> StoreResult<()> {
        self.connection.execute(statement).await?;
        Ok(())
    }
}
