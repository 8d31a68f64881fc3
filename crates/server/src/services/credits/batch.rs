//! Debits of one organization share transactions. Each debit queues on the
//! account's row from its conditional UPDATE to the commit, so one at a time
//! they would each pay for a lock hold and a WAL flush. Instead, in each
//! instance, one task per organization takes every debit waiting at that
//! moment (up to [`MAX_BATCH`]) and applies them in order in one transaction:
//! each is still conditional, has its own entry, key and answer, and is
//! refused on its own. If the transaction itself fails, the batch runs again
//! one debit per transaction, so one bad debit never fails the others.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use steward_core::ids::OrgId;
use steward_core::{Error, Result};
use steward_store::{Db, OrgScope};
use tokio::sync::{mpsc, oneshot};

use super::debits::{Answer, DebitRequest, Shared, step};
use crate::services::Ctx;

/// The most debits one transaction applies.
pub const MAX_BATCH: usize = 256;

/// A debit waiting for its organization's next transaction.
pub struct Waiting {
    pub ctx: Ctx,
    pub key: String,
    pub hash: String,
    pub body: DebitRequest,
}

type Queued = (Waiting, oneshot::Sender<Result<Answer>>);

/// The per-organization queues of this instance (`AppState.debits`).
#[derive(Clone)]
pub struct Debits {
    db: Db,
    queues: Arc<Mutex<HashMap<OrgId, mpsc::UnboundedSender<Queued>>>>,
}

impl Debits {
    pub fn new(db: Db) -> Self {
        Debits { db, queues: Arc::default() }
    }

    /// Queues a debit and waits for its answer.
    pub async fn submit(&self, org: &OrgScope, w: Waiting) -> Result<Answer> {
        let (reply, answer) = oneshot::channel();
        let mut item = (w, reply);
        // Twice at most: a queue whose task has ended is replaced once.
        for _ in 0..2 {
            let sender = {
                let mut queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
                queues
                    .entry(org.id().clone())
                    .or_insert_with(|| {
                        let (tx, rx) = mpsc::unbounded_channel();
                        tokio::spawn(run(self.db.clone(), org.clone(), rx));
                        tx
                    })
                    .clone()
            };
            match sender.send(item) {
                Ok(()) => return answer.await.map_err(|_| Error::internal())?,
                Err(mpsc::error::SendError(back)) => {
                    item = back;
                    self.queues.lock().unwrap_or_else(|e| e.into_inner()).remove(org.id());
                }
            }
        }
        Err(Error::internal())
    }
}

async fn run(db: Db, org: OrgScope, mut rx: mpsc::UnboundedReceiver<Queued>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(more) => batch.push(more),
                Err(_) => break,
            }
        }
        let (waiting, replies): (Vec<Waiting>, Vec<_>) = batch.into_iter().unzip();
        let answers = match together(&db, &org, &waiting).await {
            Ok(answers) => answers,
            Err(e) if waiting.len() == 1 => vec![Err(e)],
            Err(e) => {
                tracing::warn!(error = %e.detail, debits = waiting.len(), "a batch of debits failed; applying them one by one");
                let mut answers = Vec::with_capacity(waiting.len());
                for w in &waiting {
                    answers.push(together(&db, &org, std::slice::from_ref(w)).await.and_then(|mut a| a.remove(0)));
                }
                answers
            }
        };
        for (reply, answer) in replies.into_iter().zip(answers) {
            // The caller may have gone (a closed connection): its answer is stored under its key.
            let _ = reply.send(answer);
        }
    }
}

/// Applies `waiting` in order in one transaction; each its own answer.
async fn together(db: &Db, org: &OrgScope, waiting: &[Waiting]) -> Result<Vec<Result<Answer>>> {
    let mut tx = db.write_deployment().await?;
    let mut shared = Shared::default();
    let mut answers = Vec::with_capacity(waiting.len());
    for w in waiting {
        answers.push(step(&mut tx, org, w, &mut shared).await?);
    }
    shared.flush(&mut tx, org).await?;
    tx.commit_unaudited().await?;
    Ok(answers)
}
