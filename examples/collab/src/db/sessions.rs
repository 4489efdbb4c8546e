//! Login sessions: one row per login, its id in the signed cookie. The cookie only says which
//! session; who the user is (id and name) is read here, so logging out (deleting the row)
//! revokes the cookie at once and a cookie cannot claim another name.

use rusqlite::{OptionalExtension, params};

use super::{Db, DbError, User};

impl Db {
    /// Stores a new session `id` of `user_id`, valid until `expires_at` (Unix seconds), and
    /// deletes the sessions that expired before `now`.
    ///
    /// # Errors
    /// [`DbError`] if the write fails.
    pub async fn create_session(
        &self,
        id: &str,
        user_id: i64,
        now: i64,
        expires_at: i64,
    ) -> Result<(), DbError> {
        let id = id.to_owned();
        self.run(move |c| {
            c.execute("DELETE FROM sessions WHERE expires_at <= ?1", [now])?;
            c.execute(
                "INSERT INTO sessions (id, user_id, expires_at) VALUES (?1, ?2, ?3)",
                params![id, user_id, expires_at],
            )?;
            Ok(())
        })
        .await
    }

    /// The user of session `id` if it exists and has not expired at `now` (Unix seconds).
    ///
    /// # Errors
    /// [`DbError`] if the query fails.
    pub async fn session_user(&self, id: &str, now: i64) -> Result<Option<User>, DbError> {
        let id = id.to_owned();
        self.run(move |c| {
            c.query_row(
                "SELECT u.id, u.name FROM sessions s JOIN users u ON u.id = s.user_id \
                 WHERE s.id = ?1 AND s.expires_at > ?2",
                params![id, now],
                |r| {
                    Ok(User {
                        id: r.get(0)?,
                        name: r.get(1)?,
                    })
                },
            )
            .optional()
        })
        .await
    }

    /// Deletes session `id` (logout); true if it existed.
    ///
    /// # Errors
    /// [`DbError`] if the write fails.
    pub async fn delete_session(&self, id: &str) -> Result<bool, DbError> {
        let id = id.to_owned();
        self.run(move |c| Ok(c.execute("DELETE FROM sessions WHERE id = ?1", [id])? == 1))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sessions_resolve_until_they_expire_or_are_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("s.sqlite3")).unwrap();
        let alice = db.user_by_name("alice").await.unwrap();
        db.create_session("s1", alice.id, 1000, 2000).await.unwrap();
        assert_eq!(db.session_user("s1", 1999).await.unwrap(), Some(alice));
        assert_eq!(db.session_user("s1", 2000).await.unwrap(), None, "expired");
        assert_eq!(db.session_user("nope", 1500).await.unwrap(), None);
        assert!(db.delete_session("s1").await.unwrap());
        assert_eq!(db.session_user("s1", 1500).await.unwrap(), None, "revoked");
        // Creating a session prunes the expired ones.
        let bob = db.user_by_name("bob").await.unwrap();
        db.create_session("old", bob.id, 0, 10).await.unwrap();
        db.create_session("new", bob.id, 11, 100).await.unwrap();
        assert!(!db.delete_session("old").await.unwrap(), "pruned");
    }
}
