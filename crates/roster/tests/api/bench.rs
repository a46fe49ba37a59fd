//! `roster bench` keeps working: small runs on every topology, their JSON read back.
//! No figure is asserted, only that every change was timed through every stage and
//! every request, query and baseline was measured. Pools as small as the other tests'
//! installations have ([`roster_testing::POOL`]), so two runs side by side stay within
//! PostgreSQL's connections.

use roster_testing::{POOL, Topology, postgres_url, topology_tests};
use serde_json::Value;

use crate::process::{nats_server, roster, run};

/// `roster bench <scenario>` on `topology`, with its backends and small pools, writing
/// its JSON into `dir`: the command and where the JSON goes; none when the topology's
/// backends are not here.
fn bench(
    scenario: &str,
    topology: Topology,
    dir: &tempfile::TempDir,
) -> Option<(std::process::Command, std::path::PathBuf)> {
    let mut command = roster();
    command.args(["bench", scenario, "--topology", name(topology)]);
    if topology != Topology::Sqlite {
        let (url, nats) = (postgres_url()?, nats_server()?);
        command.args(["--postgres", url.expose().as_str()]);
        command.arg("--nats-server").arg(nats);
    }
    let json = dir.path().join(format!("{scenario}.json"));
    command.args(["--max-connections", &POOL.to_string()]);
    command.arg("--json").arg(&json);
    Some((command, json))
}

async fn bench_events_runs_and_reports_every_stage(topology: Topology) {
    let dir = tempfile::tempdir().unwrap();
    let Some((mut command, json)) = bench("events", topology, &dir) else {
        return;
    };
    if topology != Topology::Sqlite {
        command.args(["--backlogs", "2"]);
    }
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
    let (code, stdout, stderr) = run(&mut command);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("applied in tasks"), "{stdout}");

    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["max_connections"], POOL);
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

async fn bench_api_runs_and_reports_every_figure(topology: Topology) {
    let dir = tempfile::tempdir().unwrap();
    let Some((mut command, json)) = bench("api", topology, &dir) else {
        return;
    };
    command.args([
        "--companies",
        "2",
        "--employees",
        "24",
        "--days",
        "7",
        "--concurrency",
        "2",
        "--seconds",
        "1",
        "--pgbench-scale",
        "1",
    ]);
    let (code, stdout, stderr) = run(&mut command);
    assert_eq!(code, 0, "{stdout}\n{stderr}");

    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let results = &report["results"];
    assert_eq!(results["seed"]["employees"], 24);
    assert!(results["seed"]["checkins"].as_u64().unwrap() > 0);
    let requests = results["requests"].as_object().unwrap();
    assert_eq!(requests.len(), 4, "{requests:?}");
    for (name, row) in requests {
        assert_eq!(row["errors"], 0, "{name}: {row}");
        assert!(row["answered"].as_u64().unwrap() > 0, "{name}: {row}");
        assert!(row["p99_ms"].as_f64().unwrap() >= row["p50_ms"].as_f64().unwrap());
        assert!(results["ratios"][name].as_f64().unwrap() > 0.0, "{name}");
    }
    let heavy = &results["heavy"];
    // The first company has 12 people, all in its one department.
    assert_eq!(
        heavy["every leave balance of the company"]["rows"], 12,
        "{heavy}"
    );
    let attendance = heavy
        .as_object()
        .unwrap()
        .iter()
        .find(|(name, _)| name.starts_with("a department's attendance"))
        .unwrap()
        .1;
    assert_eq!(attendance["rows"], 12, "{heavy}");
    // Both companies' people, for each accruing type.
    assert_eq!(heavy["accrual run"]["rows"], 48, "{heavy}");
    for figure in ["reads", "writes"] {
        assert!(results["baseline"][figure]["per_sec"].as_f64().unwrap() > 0.0);
    }
    assert!(results["memory"]["peak_rss_mb"].as_f64().unwrap() > 0.0);
}

async fn bench_hostile_runs_and_reports_every_figure(topology: Topology) {
    let dir = tempfile::tempdir().unwrap();
    let Some((mut command, json)) = bench("hostile", topology, &dir) else {
        return;
    };
    command.args(["--seconds", "1", "--concurrency", "2", "--rate", "20"]);
    let (code, stdout, stderr) = run(&mut command);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let results = &report["results"];
    // The hostile company filled its quota of webhooks and kept assigning, every
    // request answered (made, or refused for its quotas).
    assert_eq!(results["hostile"]["webhooks"], 20, "{results}");
    assert!(
        results["hostile"]["tasks"].as_u64().unwrap() > 0,
        "{results}"
    );
    assert_eq!(results["hostile"]["failed"], 0, "{results}");
    for row in [
        "GET employee, alone",
        "POST task, alone",
        "GET employee, under attack",
        "POST task, under attack",
    ] {
        // Twenty a second for a second, each answered.
        let row = &results["quiet"][row];
        assert_eq!(row["errors"], 0, "{row}");
        assert_eq!(row["answered"], 20, "{row}");
    }
    assert!(results["memory"]["peak_rss_mb"].as_f64().unwrap() > 0.0);
}

fn name(topology: Topology) -> &'static str {
    match topology {
        Topology::Sqlite => "sqlite",
        Topology::PgPerService => "postgres-per-service",
        Topology::PgSchemas => "postgres-schemas",
    }
}

topology_tests!(
    bench_events_runs_and_reports_every_stage,
    bench_api_runs_and_reports_every_figure,
    bench_hostile_runs_and_reports_every_figure,
);
