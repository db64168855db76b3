//! The `operators` table: who may log in, their role, their PIN hash and
//! their wrong-PIN count.
//!
//! The table is not part of the event log, so any process may write it: the
//! command line adds operators, and each console counts wrong PINs here, so
//! that a lockout holds across consoles and restarts. Changes to operators
//! reach the duty log separately, as actions handed to the recorder.

use jiff::Timestamp;
use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::{Store, StoreError};
use crate::domain::operator::{
    Account, Attempts, LockoutPolicy, OS_ACTOR_PREFIX, Registered, Role, pin,
};
use crate::domain::time::{from_millis, to_millis};

/// The result of checking a PIN typed at a console.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoginOutcome {
    /// The PIN is right; the wrong-PIN count is reset.
    Accepted(Account),
    /// The PIN is wrong; this many tries are left before a lockout.
    Wrong {
        remaining: u32,
    },
    /// Locked out until then, by this attempt or an earlier one. The PIN of
    /// a locked-out operator is not even checked.
    LockedOut {
        until: Timestamp,
    },
    /// No operator has this id.
    Unknown,
    Disabled,
}

const COLUMNS: &str =
    "id, name, role, pin_hash, disabled, failures, locked_until_ms, created_ms, changed_ms";

fn account(row: &rusqlite::Row<'_>) -> rusqlite::Result<(Account, String)> {
    let role: String = row.get(2)?;
    let account = Account {
        id: row.get(0)?,
        name: row.get(1)?,
        // Replaced below when the stored text is a role; kept for the error.
        role: Role::Guard,
        pin_hash: row.get(3)?,
        disabled: row.get::<_, i64>(4)? != 0,
        attempts: Attempts {
            failures: u32::try_from(row.get::<_, i64>(5)?).unwrap_or(u32::MAX),
            locked_until: row.get::<_, Option<i64>>(6)?.map(from_millis),
        },
        created: from_millis(row.get(7)?),
        changed: from_millis(row.get(8)?),
    };
    Ok((account, role))
}

/// Takes the stored role text; an unknown role counts as guard, the role
/// with the fewest rights over alarms, and is logged.
fn with_role((mut account, role): (Account, String)) -> Account {
    match Role::parse(&role) {
        Some(role) => account.role = role,
        None => {
            tracing::error!(operator = %account.id, role, "stored operator role is unknown; treating it as guard");
        }
    }
    account
}

impl Store {
    /// Adds an operator; returns false, changing nothing, when the id exists.
    pub fn add_operator(
        &mut self,
        id: &str,
        name: &str,
        role: Role,
        pin_hash: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let added = self.conn.execute(
            "INSERT INTO operators (id, name, role, pin_hash, created_ms, changed_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT (id) DO NOTHING",
            params![id, name.trim(), role.as_str(), pin_hash, to_millis(now)],
        )?;
        Ok(added == 1)
    }

    /// Returns every operator, ordered by id.
    pub fn operators(&self) -> Result<Vec<Account>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM operators ORDER BY id"))?;
        let rows = statement.query_map([], account)?;
        let mut accounts = Vec::new();
        for row in rows {
            accounts.push(with_role(row?));
        }
        Ok(accounts)
    }

    pub fn operator(&self, id: &str) -> Result<Option<Account>, StoreError> {
        let row = self
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM operators WHERE id = ?1"),
                [id],
                account,
            )
            .optional()?;
        Ok(row.map(with_role))
    }

    pub fn operator_count(&self) -> Result<u64, StoreError> {
        let count: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM operators", [], |row| row.get(0))?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// Looks up the operator an action names, for the permission check.
    pub fn registered(&self, operator: &str) -> Result<Registered, StoreError> {
        if let Some(account) = self.operator(operator)? {
            return Ok(Registered::Found {
                role: account.role,
                disabled: account.disabled,
            });
        }
        if operator.starts_with(OS_ACTOR_PREFIX) {
            return Ok(Registered::OsUser);
        }
        if self.operator_count()? == 0 {
            return Ok(Registered::NoOperators);
        }
        Ok(Registered::Unknown)
    }

    /// Replaces an operator's PIN hash and clears their wrong-PIN count and
    /// lockout; returns false when the id is unknown.
    pub fn set_operator_pin(
        &mut self,
        id: &str,
        pin_hash: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let changed = self.conn.execute(
            "UPDATE operators SET pin_hash = ?2, failures = 0, locked_until_ms = NULL,
             changed_ms = ?3 WHERE id = ?1",
            params![id, pin_hash, to_millis(now)],
        )?;
        Ok(changed == 1)
    }

    /// Disables or enables an operator; returns false when the id is unknown.
    pub fn set_operator_disabled(
        &mut self,
        id: &str,
        disabled: bool,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let changed = self.conn.execute(
            "UPDATE operators SET disabled = ?2, changed_ms = ?3 WHERE id = ?1",
            params![id, i64::from(disabled), to_millis(now)],
        )?;
        Ok(changed == 1)
    }

    /// Counts one wrong PIN for `id` under `policy`, in one write
    /// transaction so that two consoles counting at once lose no count.
    /// Returns the new count, or `None` when the id is unknown.
    pub fn record_login_failure(
        &mut self,
        id: &str,
        policy: &LockoutPolicy,
        now: Timestamp,
    ) -> Result<Option<Attempts>, StoreError> {
        let transaction = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let stored = transaction
            .query_row(
                "SELECT failures, locked_until_ms FROM operators WHERE id = ?1",
                [id],
                |row| {
                    Ok(Attempts {
                        failures: u32::try_from(row.get::<_, i64>(0)?).unwrap_or(u32::MAX),
                        locked_until: row.get::<_, Option<i64>>(1)?.map(from_millis),
                    })
                },
            )
            .optional()?;
        let Some(stored) = stored else {
            return Ok(None);
        };
        let attempts = policy.after_failure(&stored, now);
        transaction.execute(
            "UPDATE operators SET failures = ?2, locked_until_ms = ?3 WHERE id = ?1",
            params![
                id,
                i64::from(attempts.failures),
                attempts.locked_until.map(to_millis)
            ],
        )?;
        transaction.commit()?;
        Ok(Some(attempts))
    }

    /// Clears the wrong-PIN count of `id` after a correct PIN.
    pub fn record_login_success(&mut self, id: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE operators SET failures = 0, locked_until_ms = NULL WHERE id = ?1",
            [id],
        )?;
        Ok(())
    }

    /// Checks a PIN typed for operator `id` and counts the result: the one
    /// PIN check used by logins and by confirmations of single actions.
    pub fn check_pin(
        &mut self,
        id: &str,
        attempt: &str,
        policy: &LockoutPolicy,
        now: Timestamp,
    ) -> Result<LoginOutcome, StoreError> {
        let Some(account) = self.operator(id)? else {
            return Ok(LoginOutcome::Unknown);
        };
        if account.disabled {
            return Ok(LoginOutcome::Disabled);
        }
        if let Some(until) = policy.locked_until(&account.attempts, now) {
            return Ok(LoginOutcome::LockedOut { until });
        }

        // The hash is slow by design, so it runs outside any transaction.
        if pin::verify(attempt, &account.pin_hash) {
            self.record_login_success(id)?;
            let mut account = account;
            account.attempts = policy.after_success();
            return Ok(LoginOutcome::Accepted(account));
        }
        let attempts = self
            .record_login_failure(id, policy, now)?
            .unwrap_or_default();
        tracing::warn!(
            operator = id,
            failures = attempts.failures,
            locked = attempts.locked_until.is_some(),
            "wrong PIN"
        );
        Ok(match policy.locked_until(&attempts, now) {
            Some(until) => LoginOutcome::LockedOut { until },
            None => LoginOutcome::Wrong {
                remaining: policy.remaining(&attempts),
            },
        })
    }
}
