use roster_testing::{EMPLOYEE, StatusCode, Topology, topology_tests};
use serde_json::{Value, json};

use crate::Org;

async fn create(org: &Org, body: Value) -> Value {
    let created = org.app.post("/api/v1/org/teams", &org.admin, &body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    created.body
}

async fn teams_form_a_tree_without_cycles(topology: Topology) {
    let Some(org) = Org::spawn(topology).await else {
        return;
    };
    let app = &org.app;
    let engineering = create(&org, json!({"name": "Engineering"})).await;
    let backend = create(
        &org,
        json!({"name": "Backend", "parent_id": engineering["id"], "description": "APIs"}),
    )
    .await;
    let payments = create(
        &org,
        json!({"name": "Payments", "parent_id": backend["id"]}),
    )
    .await;
    assert_eq!(backend["parent_id"], engineering["id"]);
    assert_eq!(payments["company_id"], org.company.to_string());

    // Moving a team under its own descendant would make a cycle: 422 on parent_id.
    let path = format!("/api/v1/org/teams/{}", engineering["id"].as_str().unwrap());
    let cycle = app
        .patch(&path, &org.admin, &json!({"parent_id": payments["id"]}))
        .await;
    assert_eq!(cycle.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(cycle.error_fields(), ["parent_id"]);
    let own_parent = app
        .patch(&path, &org.admin, &json!({"parent_id": engineering["id"]}))
        .await;
    assert_eq!(own_parent.status, StatusCode::UNPROCESSABLE_ENTITY);

    // A move elsewhere is fine, and null makes a team top-level.
    let payments_path = format!("/api/v1/org/teams/{}", payments["id"].as_str().unwrap());
    let moved = app
        .patch(
            &payments_path,
            &org.admin,
            &json!({"parent_id": engineering["id"]}),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{:?}", moved.body);
    assert_eq!(moved.body["parent_id"], engineering["id"]);
    let root = app
        .patch(
            &payments_path,
            &org.admin,
            &json!({"parent_id": null, "description": null}),
        )
        .await;
    assert_eq!(root.body["parent_id"], Value::Null);
    assert_eq!(root.body["name"], "Payments", "absent fields are kept");

    let children = app
        .get(
            &format!(
                "/api/v1/org/teams?parent_id={}",
                engineering["id"].as_str().unwrap()
            ),
            &org.admin,
        )
        .await;
    let names: Vec<&str> = children.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Backend"]);
}

async fn team_rules_answer_with_the_right_status(topology: Topology) {
    let Some(org) = Org::spawn(topology).await else {
        return;
    };
    let app = &org.app;
    let parent = create(&org, json!({"name": "Sales"})).await;
    let child = create(
        &org,
        json!({"name": "Sales EMEA", "parent_id": parent["id"]}),
    )
    .await;

    let taken = app
        .post("/api/v1/org/teams", &org.admin, &json!({"name": "Sales"}))
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    assert_eq!(taken.error_fields(), ["name"]);

    let unknown_parent = app
        .post(
            "/api/v1/org/teams",
            &org.admin,
            &json!({"name": "Orphans", "parent_id": uuid::Uuid::now_v7()}),
        )
        .await;
    assert_eq!(unknown_parent.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown_parent.error_fields(), ["parent_id"]);

    let missing_name = app
        .post(
            "/api/v1/org/teams",
            &org.admin,
            &json!({"description": "x"}),
        )
        .await;
    assert_eq!(missing_name.status, StatusCode::BAD_REQUEST);
    assert_eq!(missing_name.error_fields(), ["name"]);

    let empty_name = app
        .post("/api/v1/org/teams", &org.admin, &json!({"name": "   "}))
        .await;
    assert_eq!(empty_name.status, StatusCode::UNPROCESSABLE_ENTITY);

    let employee = app.token(org.company, EMPLOYEE);
    let not_admin = app
        .post("/api/v1/org/teams", &employee, &json!({"name": "Mine"}))
        .await;
    assert_eq!(not_admin.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get("/api/v1/org/teams", &employee).await.status,
        StatusCode::OK,
        "members read the tree"
    );

    let parent_path = format!("/api/v1/org/teams/{}", parent["id"].as_str().unwrap());
    let child_path = format!("/api/v1/org/teams/{}", child["id"].as_str().unwrap());
    assert_eq!(
        app.delete(&parent_path, &org.admin).await.status,
        StatusCode::CONFLICT,
        "a team with sub-teams stays"
    );
    assert_eq!(
        app.delete(&child_path, &org.admin).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(&child_path, &org.admin).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.delete(&parent_path, &org.admin).await.status,
        StatusCode::NO_CONTENT
    );

    let bad_id = app.get("/api/v1/org/teams/not-a-uuid", &org.admin).await;
    assert_eq!(bad_id.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_id.error_fields(), ["id"]);
}

async fn team_lists_page_through_cursors(topology: Topology) {
    let Some(org) = Org::spawn(topology).await else {
        return;
    };
    let app = &org.app;
    let mut created = Vec::new();
    for n in 0..5 {
        created.push(create(&org, json!({"name": format!("Team {n}")})).await["id"].clone());
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/org/teams?limit=2".to_owned();
    loop {
        let page = app.get(&path, &org.admin).await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|t| t["id"].clone()));
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/org/teams?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, created);

    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=x", "limit"),
        ("cursor=abc", "cursor"),
    ] {
        let refused = app
            .get(&format!("/api/v1/org/teams?{query}"), &org.admin)
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(refused.error_fields(), [field], "{query}");
    }
}

topology_tests!(
    teams_form_a_tree_without_cycles,
    team_rules_answer_with_the_right_status,
    team_lists_page_through_cursors,
);
