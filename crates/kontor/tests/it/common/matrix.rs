//! Permission matrices: one row per (who, action), each run against the
//! real server, so a table of expectations reads like the policy it checks
//! and a row that disagrees fails by name.

use kontor_client::{ClientError, ClientResult};

/// Whether the server allowed an action: it did, or it refused it as the
/// policy refuses (403 forbidden, 404 hidden, 422 not possible here).
/// Anything else (a 500, a lost connection) is neither.
fn allowed<T>(result: &ClientResult<T>) -> Option<bool> {
    match result {
        Ok(_) => Some(true),
        Err(ClientError::Api {
            status: 403 | 404 | 422,
            ..
        }) => Some(false),
        Err(_) => None,
    }
}

/// Collects rows and reports every mismatch at once.
#[derive(Default)]
pub struct Matrix {
    failures: Vec<String>,
    rows: usize,
}

impl Matrix {
    /// Record that `who` doing `action` was `expected` to be allowed and
    /// the server answered `got`.
    pub fn row<T>(&mut self, who: &str, action: &str, expected: bool, got: &ClientResult<T>) {
        self.rows += 1;
        if allowed(got) != Some(expected) {
            self.failures.push(format!(
                "{who} / {action}: expected {}, the server answered {}",
                if expected { "allowed" } else { "refused" },
                match got {
                    Ok(_) => "ok".to_owned(),
                    Err(e) => e.to_string(),
                }
            ));
        }
    }

    /// Fail with every mismatching row, after at least `min_rows` rows ran.
    pub fn check(self, min_rows: usize) {
        assert!(self.rows >= min_rows, "only {} rows ran", self.rows);
        assert!(
            self.failures.is_empty(),
            "{} of {} rows disagree:\n{}",
            self.failures.len(),
            self.rows,
            self.failures.join("\n")
        );
    }
}
