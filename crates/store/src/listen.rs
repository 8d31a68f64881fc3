//! One PostgreSQL `LISTEN` loop for every channel Steward listens on (key
//! revocations, new jobs): subscribe, hand each notice to its owner,
//! reconnect 2 s after the connection drops, and say in the log what the
//! owner does meanwhile.

use std::time::Duration;

/// What a listener hears, for its owner.
pub(crate) enum Heard<'a> {
    /// Subscribed (again): notices from now on arrive.
    Listening,
    /// A notice, with its payload.
    Notice(&'a str),
    /// sqlx reconnected by itself: notices may have been missed meanwhile.
    Reconnected,
    /// Not listening (cannot connect, or the connection was lost).
    Deaf,
}

/// Listens on `channel` until `on` returns `false`. `subject` and
/// `meanwhile` name, in the log, what is listened for and what happens while
/// it can't be ("polling meanwhile").
pub(crate) async fn listen(
    url: &str,
    channel: &str,
    subject: &str,
    meanwhile: &str,
    mut on: impl FnMut(Heard<'_>) -> bool,
) {
    loop {
        let subscribed = async {
            let mut listener = sqlx::postgres::PgListener::connect(url).await?;
            listener.listen(channel).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        let mut listener = match subscribed.await {
            Ok(l) => l,
            Err(e) => {
                if !on(Heard::Deaf) {
                    return;
                }
                tracing::warn!(error = %e, "cannot listen for {subject}; {meanwhile}");
                tokio::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
        };
        if !on(Heard::Listening) {
            return;
        }
        loop {
            // `try_recv` is not cut short (a read cancelled midway could break
            // the stream); an owner that is gone is noticed at the next notice.
            let heard = match listener.try_recv().await {
                Ok(Some(notice)) => on(Heard::Notice(notice.payload())),
                Ok(None) => on(Heard::Reconnected),
                Err(e) => {
                    tracing::warn!(error = %e, "lost the listener for {subject}; {meanwhile}");
                    if !on(Heard::Deaf) {
                        return;
                    }
                    break;
                }
            };
            if !heard {
                return;
            }
        }
    }
}
