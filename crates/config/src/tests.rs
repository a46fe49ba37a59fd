// Figment's `Jail` returns its own (large) error type.
#![allow(clippy::result_large_err)]

use figment::Jail;

use super::*;

#[test]
fn defaults_need_no_file() {
    Jail::expect_with(|_| {
        let config = load(None, &[]).unwrap();
        assert_eq!(config.storage.mode, StorageMode::Sqlite);
        assert_eq!(config.server.port, 8080);
        assert_eq!(config.storage.prefix.as_str(), "roster");
        Ok(())
    });
}

#[test]
fn the_environment_overrides_the_file() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "roster.toml",
            "[storage]\nmode = \"postgres-schemas\"\nurl = \"postgres://file-host/roster\"\n[server]\nport = 9000\n",
        )?;
        jail.set_env("ROSTER_SERVER__PORT", "9100");
        jail.set_env("ROSTER_STORAGE__URL", "postgres://env-host/roster");
        let config = load(None, &[]).unwrap();
        assert_eq!(config.server.port, 9100);
        assert_eq!(config.storage.mode, StorageMode::PostgresSchemas);
        assert_eq!(
            config.storage.url.unwrap().expose().host_str(),
            Some("env-host")
        );
        Ok(())
    });
}

#[test]
fn a_wrong_value_names_its_key_and_variable_on_one_line() {
    Jail::expect_with(|jail| {
        jail.set_env("ROSTER_STORAGE__MODE", "postgre");
        let error = load(None, &[]).unwrap_err();
        assert_eq!(error.key, "storage.mode");
        assert_eq!(error.origin.as_deref(), Some("ROSTER_STORAGE__MODE"));
        let line = error.to_string();
        assert!(!line.contains('\n'), "{line}");
        assert!(line.contains("postgres-schemas"), "{line}");
        Ok(())
    });
}

#[test]
fn an_unknown_key_in_the_file_is_an_error() {
    Jail::expect_with(|jail| {
        jail.create_file("roster.toml", "[storage]\nmdoe = \"sqlite\"\n")?;
        let error = load(None, &[]).unwrap_err();
        assert!(error.to_string().contains("mdoe"), "{error}");
        assert!(error.origin.unwrap().ends_with("roster.toml"));
        Ok(())
    });
}

#[test]
fn postgres_modes_need_a_url() {
    Jail::expect_with(|jail| {
        jail.set_env("ROSTER_STORAGE__MODE", "postgres-per-service");
        let error = load(None, &[]).unwrap_err();
        assert_eq!(error.key, "storage.url");
        Ok(())
    });
}

#[test]
fn variables_without_a_section_are_not_configuration() {
    Jail::expect_with(|jail| {
        jail.set_env("ROSTER_TEST_POSTGRES_URL", "postgres://localhost/x");
        assert!(load(None, &[]).is_ok());
        Ok(())
    });
}

#[test]
fn a_service_override_is_merged_over_the_storage_section() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "roster.toml",
            "[storage]\nurl = \"postgres://shared/roster\"\nmax_connections = 4\n\
             [services.org.storage]\nmode = \"postgres-per-service\"\n",
        )?;
        let config = load(None, &[]).unwrap();
        let org = config.storage_for("org");
        assert_eq!(org.mode, StorageMode::PostgresPerService);
        assert_eq!(org.max_connections, 4);
        assert_eq!(
            org.url.as_ref().unwrap().expose().host_str(),
            Some("shared")
        );
        assert_eq!(config.storage_for("people").mode, StorageMode::Sqlite);
        Ok(())
    });
}

#[test]
fn a_bad_service_override_names_the_service_key() {
    Jail::expect_with(|jail| {
        jail.set_env("ROSTER_SERVICES__ORG__STORAGE__MODE", "postgres-schemas");
        let error = load(None, &[]).unwrap_err();
        assert_eq!(error.key, "services.org.storage.url");
        Ok(())
    });
}

#[test]
fn unknown_service_names_are_refused() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "roster.toml",
            "[services.orgg]\nurl = \"http://127.0.0.1:1\"\n",
        )?;
        let config = load(None, &[]).unwrap();
        let error = config.check_service_names(&["org"]).unwrap_err();
        assert_eq!(error.key, "services.orgg");
        Ok(())
    });
}

#[test]
fn a_missing_config_file_is_an_error() {
    Jail::expect_with(|_| {
        let error = load(Some(Path::new("nope.toml")), &[]).unwrap_err();
        assert_eq!(error.key, "--config");
        Ok(())
    });
}

#[test]
fn command_line_flags_win() {
    Jail::expect_with(|jail| {
        jail.set_env("ROSTER_SERVER__PORT", "9100");
        let config = load(None, &[("server.port", 9200.into())]).unwrap();
        assert_eq!(config.server.port, 9200);
        Ok(())
    });
}

#[test]
fn prefixes_are_identifiers() {
    assert!(Prefix::parse("roster").is_ok());
    assert!(Prefix::parse("rt_1a2b").is_ok());
    assert!(Prefix::parse("1roster").is_err());
    assert!(Prefix::parse("Roster").is_err());
    assert!(Prefix::parse("ro-ster").is_err());
    assert!(Prefix::parse(&"a".repeat(33)).is_err());
}

#[test]
fn a_data_key_must_be_32_bytes_of_base64() {
    Jail::expect_with(|jail| {
        jail.set_env("ROSTER_SECURITY__DATA_KEY", "c2hvcnQ=");
        let error = load(None, &[]).unwrap_err();
        assert_eq!(error.key, "security.data_key");
        let key = generate_data_key().unwrap();
        jail.set_env("ROSTER_SECURITY__DATA_KEY", &key);
        let config = load(None, &[]).unwrap();
        assert!(config.security.data_key_bytes().is_some());
        assert!(!format!("{config:?}").contains(&key));
        Ok(())
    });
}

#[test]
fn auth_settings_are_checked() {
    Jail::expect_with(|jail| {
        jail.set_env("ROSTER_AUTH__PASSWORD_MIN_LENGTH", "4");
        assert_eq!(load(None, &[]).unwrap_err().key, "auth.password_min_length");
        Ok(())
    });
}

#[test]
fn the_bus_is_checked_and_its_password_never_prints() {
    Jail::expect_with(|jail| {
        assert_eq!(load(None, &[]).unwrap().bus.kind, BusKind::Embedded);

        jail.set_env("ROSTER_BUS__KIND", "nats");
        let error = load(None, &[]).unwrap_err();
        assert_eq!(error.key, "bus.url");

        jail.set_env("ROSTER_BUS__URL", "http://127.0.0.1:4222");
        let error = load(None, &[]).unwrap_err();
        assert_eq!(error.key, "bus.url");
        assert!(error.message.contains("nats://"), "{error}");

        jail.set_env("ROSTER_BUS__URL", "nats://app:hunter2@127.0.0.1:4222");
        let config = load(None, &[]).unwrap();
        let shown = format!("{:?}", config.bus);
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("app:********@127.0.0.1"), "{shown}");

        jail.set_env("ROSTER_BUS__PREFIX", "a.b");
        assert_eq!(load(None, &[]).unwrap_err().key, "bus.prefix");
        Ok(())
    });
}

#[test]
fn inboxes_outlive_what_may_be_delivered_again() {
    Jail::expect_with(|jail| {
        jail.set_env("ROSTER_EVENTS__INBOX_RETENTION_HOURS", "24");
        jail.set_env("ROSTER_EVENTS__OUTBOX_RETENTION_HOURS", "48");
        let error = load(None, &[]).unwrap_err();
        assert_eq!(error.key, "events.inbox_retention_hours");
        assert!(error.message.contains("48 h"), "{error}");

        jail.set_env("ROSTER_EVENTS__MAX_ATTEMPTS", "0");
        jail.set_env("ROSTER_EVENTS__INBOX_RETENTION_HOURS", "72");
        assert_eq!(load(None, &[]).unwrap_err().key, "events.max_attempts");
        Ok(())
    });
}

#[test]
fn retries_back_off_doubling_up_to_ten_seconds() {
    let events = EventsConfig::default();
    let waits: Vec<u128> = (1..=9).map(|n| events.backoff(n).as_millis()).collect();
    assert_eq!(
        waits,
        [100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000]
    );
}

#[test]
fn smtp_needs_a_server_and_its_password_never_prints() {
    Jail::expect_with(|jail| {
        jail.set_env("ROSTER_NOTIFICATIONS__EMAIL", "smtp");
        let missing = load(None, &[]).unwrap_err().to_string();
        assert!(missing.contains("notifications.smtp_url"), "{missing}");
        jail.set_env(
            "ROSTER_NOTIFICATIONS__SMTP_URL",
            "smtps://hr:hunter2@smtp.example.com",
        );
        let config = load(None, &[]).unwrap();
        let url = config.notifications.smtp_url.as_ref().unwrap();
        assert!(!format!("{url} {url:?} {config:?}").contains("hunter2"));
        assert_eq!(url.expose().password(), Some("hunter2"));
        jail.set_env("ROSTER_NOTIFICATIONS__SMTP_URL", "http://smtp.example.com");
        assert!(load(None, &[]).is_err());
        Ok(())
    });
}

#[test]
fn deliveries_back_off_doubling_up_to_the_maximum() {
    let config = NotificationsConfig {
        retry_base_ms: 1_000,
        retry_max_ms: 10_000,
        ..NotificationsConfig::default()
    };
    let waits: Vec<u64> = (1..=6)
        .map(|n| config.backoff(n).as_millis() as u64)
        .collect();
    assert_eq!(waits, [1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
    assert_eq!(config.backoff(200).as_millis(), 10_000);
}

#[test]
fn another_process_reads_the_shared_environment_back_as_the_same_installation() {
    Jail::expect_with(|jail| {
        let mut shared = Config::default();
        shared.storage.mode = StorageMode::PostgresSchemas;
        shared.storage.url = Some(DatabaseUrl::parse("postgres://db-host/roster").unwrap());
        shared.storage.prefix = Prefix::parse("acme").unwrap();
        shared.storage.max_connections = 4;
        shared.bus.prefix = "acme".to_owned();
        shared.security.data_key = Some(Secret::from(generate_data_key().unwrap()));
        for (var, value) in shared.shared_environment() {
            jail.set_env(var, value);
        }
        let read = load(None, &[]).unwrap();
        assert_eq!(read.storage.mode, shared.storage.mode);
        assert_eq!(read.storage.url, shared.storage.url);
        assert_eq!(read.storage.prefix, shared.storage.prefix);
        assert_eq!(read.storage.max_connections, 4);
        assert_eq!(read.bus.prefix, "acme");
        assert!(read.security.data_key.is_some());
        Ok(())
    });
}
