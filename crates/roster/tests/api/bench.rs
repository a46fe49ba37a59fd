//! `roster bench` keeps working: a small run on every topology, its JSON read back.
//! No figure is asserted, only that every change was timed through every stage.

use roster_testing::{Topology, postgres_url, topology_tests};
use serde_json::Value;

use crate::process::{nats_server, roster, run};

async fn bench_events_runs_and_reports_every_stage(topology: Topology) {
    let mut command = roster();
    let name = match topology {
        Topology::Sqlite => "sqlite",
        Topology::PgPerService => "postgres-per-service",
        Topology::PgSchemas => "postgres-schemas",
    };
    command.args(["bench", "events", "--topology", name]);
    if topology != Topology::Sqlite {
        let (Some(url), Some(nats)) = (postgres_url(), nats_server()) else {
            return;
        };
        command.args(["--postgres", url.expose().as_str()]);
        command.arg("--nats-server").arg(nats);
        command.args(["--backlogs", "2"]);
    }
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("events.json");
    command.args([
        "--employees",
        "3",
        "--rate",
        "20",
        "--seconds",
        "1",
        "--changes",
        "30",
        "--concurrency",
        "4",
    ]);
    command.arg("--json").arg(&json);
    let (code, stdout, stderr) = run(&mut command);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("applied in tasks"), "{stdout}");

    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let results = &report["results"];
    let fixed = &results["fixed_rate"];
    assert_eq!(fixed["written"]["changes"], 20);
    assert_eq!(fixed["written"]["failed"], 0);
    assert_eq!(fixed["lag"]["marked published"]["count"], 20);
    for service in ["presence", "tasks", "leave", "notifications"] {
        assert_eq!(fixed["lag"][format!("applied in {service}")]["count"], 20);
    }
    assert_eq!(fixed["lag"]["applied in all"]["count"], 80);
    let mut phases = vec!["live"];
    if topology != Topology::Sqlite {
        phases.push("backlog");
    }
    for phase in phases {
        let phase = &results[phase];
        assert_eq!(phase["written"]["changes"], 30, "{phase}");
        assert_eq!(phase["lag"]["applied in all"]["count"], 120, "{phase}");
        assert!(phase["events_per_sec"].as_f64().unwrap() > 0.0, "{phase}");
    }
    if topology == Topology::Sqlite {
        assert!(results.get("backlog").is_none());
    } else {
        let rates = results["backlog_drain_events_per_sec"].as_array().unwrap();
        assert_eq!(rates.len(), 2, "one rate per backlog run");
        assert!(stdout.contains("Backlog over 2 runs"), "{stdout}");
    }
    // roster up's memory, idle and at its most.
    let memory = &results["memory"];
    let (idle, peak) = (
        memory["idle_rss_mb"].as_f64().unwrap(),
        memory["peak_rss_mb"].as_f64().unwrap(),
    );
    assert!(idle > 0.0 && peak >= idle, "{memory}");
    assert!(stdout.contains("roster up's resident memory"), "{stdout}");
}

topology_tests!(bench_events_runs_and_reports_every_stage);
