//! Email: through an SMTP server, or written as `.eml` files (one per message) under
//! a directory, for development and for `roster up`, where nothing leaves the machine.

use std::path::{Path, PathBuf};

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use roster_config::{EmailTransport, NotificationsConfig};

use crate::store::deliveries::Attempt;

enum Transport {
    File(AsyncFileTransport<Tokio1Executor>),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

/// Sends email as the configuration says.
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
    /// Where the file transport writes.
    dir: Option<PathBuf>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// The mailer `config` asks for; the file transport's directory (by default
    /// `<storage_dir>/mail`) is created.
    pub fn new(config: &NotificationsConfig, storage_dir: &Path) -> anyhow::Result<Self> {
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| anyhow::anyhow!("notifications.from: {e}"))?;
        let (transport, dir) = match config.email {
            EmailTransport::File => {
                let dir = config
                    .mail_dir
                    .clone()
                    .unwrap_or_else(|| storage_dir.join("mail"));
                roster_storage::private_dir(&dir).map_err(|e| {
                    anyhow::anyhow!(
                        "notifications.mail_dir: cannot create {}: {e}",
                        dir.display()
                    )
                })?;
                (
                    Transport::File(AsyncFileTransport::<Tokio1Executor>::new(&dir)),
                    Some(dir),
                )
            }
            EmailTransport::Smtp => {
                let url = config.smtp_url.as_ref().ok_or_else(|| {
                    anyhow::anyhow!(
                        "notifications.smtp_url: required when notifications.email is smtp"
                    )
                })?;
                let smtp = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose().as_str())
                    .map_err(|e| anyhow::anyhow!("notifications.smtp_url ({url}): {e}"))?
                    .build();
                (Transport::Smtp(smtp), None)
            }
        };
        Ok(Self {
            transport,
            from,
            dir,
        })
    }

    /// Where messages are written, with the file transport.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Sends one plain-text message. An address that cannot be one, or a permanent
    /// refusal from the server (5xx), bounces; anything else is tried again.
    pub async fn send(&self, to: &str, subject: &str, body: &str) -> Attempt {
        let to: Mailbox = match to.parse() {
            Ok(to) => to,
            Err(e) => return Attempt::Bounced(format!("not an email address ({e})")),
        };
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_owned());
        let message = match message {
            Ok(message) => message,
            Err(e) => return Attempt::Bounced(format!("cannot build the message: {e}")),
        };
        match &self.transport {
            Transport::File(file) => match file.send(message).await {
                Ok(id) => {
                    let written = self.dir.as_ref().map(|d| d.join(format!("{id}.eml")));
                    if let Some(Err(e)) = written.map(|w| roster_storage::narrow_file(&w)) {
                        return Attempt::Failed(format!("cannot make the message private: {e}"));
                    }
                    Attempt::Delivered(format!("written as {id}.eml"))
                }
                Err(e) => Attempt::Failed(format!("cannot write the message: {e}")),
            },
            Transport::Smtp(smtp) => match smtp.send(message).await {
                Ok(response) => Attempt::Delivered(format!(
                    "{} {}",
                    response.code(),
                    response.message().collect::<Vec<_>>().join(" ")
                )),
                Err(e) if e.is_permanent() => Attempt::Bounced(e.to_string()),
                Err(e) => Attempt::Failed(e.to_string()),
            },
        }
    }
}
