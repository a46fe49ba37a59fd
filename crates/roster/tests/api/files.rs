//! What Roster keeps on disk is its user's alone: on a machine other local users share,
//! the data directory and the mail directory are 0700, and every file in them (each
//! service's SQLite file and its journals, the data key, every email written) is 0600.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use roster_testing::{TestApp, Topology};

use crate::accounts::sign_up;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_files_are_their_owners_alone() {
    let app = TestApp::spawn(Topology::Sqlite, roster::SERVICES)
        .await
        .expect("SQLite is always there");
    sign_up(&app, "Acme", "ada@acme.test").await;
    let dir = app.config().storage.dir.clone();
    let mail = dir.join("mail");
    crate::eventually("the administrator's welcome written", || async {
        std::fs::read_dir(&mail).is_ok_and(|mut files| files.next().is_some())
    })
    .await;
    assert_eq!(mode(&dir), 0o700, "{}", dir.display());
    assert_eq!(mode(&mail), 0o700, "{}", mail.display());
    let mut files = 0;
    for directory in [&dir, &mail] {
        for entry in std::fs::read_dir(directory).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                assert_eq!(mode(&path), 0o600, "{}", path.display());
                files += 1;
            }
        }
    }
    // Seven databases with their journals, and the email.
    assert!(files > 7 * 2, "{files} files");
}
