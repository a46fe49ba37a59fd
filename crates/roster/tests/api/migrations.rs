//! Invariant: every migration is reversible. For every service on every topology, up,
//! then down to nothing, then up again leaves the schema exactly as the first up did.

use roster::SERVICES;
use roster_migrate::{Migrator, snapshot};
use roster_testing::{Installation, Topology, topology_tests};

async fn up_down_up_leaves_the_same_schema(topology: Topology) {
    let Some(installation) = Installation::create(topology, SERVICES).await else {
        return;
    };
    for service in SERVICES {
        let storage = installation.config().storage_for(service.name);
        let db = roster_storage::open(service.name, storage).await.unwrap();
        let migrator = Migrator::new(&db, (service.migrations)());

        assert_eq!(
            migrator.down(None).await.unwrap(),
            Vec::<String>::new(),
            "{}: nothing applied, nothing to revert",
            service.name
        );
        let applied = migrator.up(None).await.unwrap();
        assert_eq!(applied.len(), (service.migrations)().len());
        assert!(
            migrator.up(None).await.unwrap().is_empty(),
            "up twice applies nothing"
        );
        let first = snapshot(&db).await.unwrap();
        assert!(
            first.tables.len() > 1,
            "{}: the migrations create tables",
            service.name
        );

        let reverted = migrator.down(None).await.unwrap();
        assert_eq!(reverted.len(), applied.len());
        let empty = snapshot(&db).await.unwrap();
        assert_eq!(
            empty.table_names(),
            ["schema_migrations"],
            "{}: down to nothing leaves only the version table",
            service.name
        );

        migrator.up(None).await.unwrap();
        let second = snapshot(&db).await.unwrap();
        assert_eq!(
            first, second,
            "{}: up, down, up changed the schema",
            service.name
        );

        // Step by step, down one and up one lands on the same schema too.
        migrator.down(Some(1)).await.unwrap();
        migrator.up(Some(1)).await.unwrap();
        assert_eq!(first, snapshot(&db).await.unwrap());
        db.close().await;
    }
}

topology_tests!(up_down_up_leaves_the_same_schema);
