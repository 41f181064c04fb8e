//! Erasure carried through to Matomo: a stand-in for Matomo's Reporting API that follows its
//! documented shapes (`module=API&method=PrivacyManager.…&format=JSON`, POST with
//! `token_auth`), holds visits, records calls and fails on demand.

use crate::common::*;
use crate::on_both_engines;
use secrecy::SecretString;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

on_both_engines![
    erasure_deletes_the_visitors_visits_in_matomo,
    a_failing_matomo_leaves_a_job_that_succeeds_later_even_after_a_restart,
];

const API_TOKEN: &str = "matomo-api-token-0123456789";

/// What the stand-in holds and saw.
#[derive(Default)]
struct Matomo {
    /// (idsite, idvisit, visitor id)
    visits: Mutex<Vec<(u32, u64, String)>>,
    calls: Mutex<Vec<Vec<(String, String)>>>,
    failing: AtomicBool,
}

async fn start_matomo(matomo: Arc<Matomo>) -> String {
    let state = Arc::clone(&matomo);
    let router = axum::Router::new().route(
        "/index.php",
        axum::routing::post(move |body: axum::body::Bytes| {
            let matomo = Arc::clone(&state);
            async move {
                let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
                matomo.calls.lock().unwrap().push(form.clone());
                if matomo.failing.load(Ordering::SeqCst) {
                    return (http::StatusCode::SERVICE_UNAVAILABLE, "down").into_response();
                }
                let get = |key: &str| form.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
                if get("token_auth").as_deref() != Some(API_TOKEN) || get("module").as_deref() != Some("API") {
                    return axum::Json(serde_json::json!({"result": "error", "message": "You must be logged in"})).into_response();
                }
                match get("method").as_deref() {
                    Some("PrivacyManager.findDataSubjects") => {
                        let site: u32 = get("idSite").unwrap().parse().unwrap();
                        let segment = get("segment").unwrap();
                        let visitor = segment.strip_prefix("visitorId==").unwrap().to_owned();
                        let found: Vec<serde_json::Value> = matomo
                            .visits
                            .lock()
                            .unwrap()
                            .iter()
                            .filter(|(s, _, v)| *s == site && *v == visitor)
                            .map(|(s, id, v)| serde_json::json!({"idSite": s, "idVisit": id, "visitorId": v}))
                            .collect();
                        axum::Json(serde_json::Value::Array(found)).into_response()
                    }
                    Some("PrivacyManager.deleteDataSubjects") => {
                        let mut removed = 0;
                        let mut index = 0;
                        while let (Some(site), Some(visit)) = (
                            get(&format!("visits[{index}][idsite]")),
                            get(&format!("visits[{index}][idvisit]")),
                        ) {
                            let (site, visit): (u32, u64) = (site.parse().unwrap(), visit.parse().unwrap());
                            let mut visits = matomo.visits.lock().unwrap();
                            let before = visits.len();
                            visits.retain(|(s, id, _)| !(*s == site && *id == visit));
                            removed += before - visits.len();
                            index += 1;
                        }
                        axum::Json(serde_json::json!({"log_visit": removed, "log_link_visit_action": removed * 3})).into_response()
                    }
                    _ => axum::Json(serde_json::json!({"result": "error", "message": "unknown method"})).into_response(),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/index.php", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    url
}

use axum::response::IntoResponse;

fn with_matomo_api(url: String) -> impl FnOnce(&mut server::infra::config::Settings) {
    move |settings| {
        settings.matomo.api_url = Some(url);
        settings.matomo.api_token = Some(SecretString::from(API_TOKEN.to_owned()));
        settings.matomo.site_ids = vec![1, 2];
        settings.matomo.erasure_retry_secs = 1;
    }
}

/// A visitor who decided, and their Matomo visitor id.
async fn visitor_with_visits(app: &TestApp, matomo: &Matomo, visits: u64) -> (String, String) {
    let (_, cookies) = app.decided_visitor("accept_all").await;
    let data: serde_json::Value = app.get("/api/v1/me", &cookies).await.json().await.unwrap();
    let visitor_id = data["matomo"]["visitor_id"].as_str().unwrap().to_owned();
    let mut held = matomo.visits.lock().unwrap();
    for visit in 0..visits {
        held.push((
            1 + (visit % 2) as u32,
            100 * visits + visit,
            visitor_id.clone(),
        ));
    }
    (cookies, visitor_id)
}

async fn erase(app: &TestApp, cookies: &str) -> serde_json::Value {
    app.http
        .post(app.url("/api/v1/me/erase"))
        .json(&serde_json::json!({"confirm": true}))
        .header("cookie", cookies)
        .fetch_json()
        .await
}

/// The job of an erasure, as staff see it; waits (10 s at most) until it is in `state`.
async fn job_in_state(app: &TestApp, erasure_id: &str, state: &str) -> serde_json::Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let jobs = app.get_as_admin("/api/v1/admin/matomo-erasures").await;
        let jobs: serde_json::Value = jobs.json().await.unwrap();
        let job = jobs
            .as_array()
            .unwrap()
            .iter()
            .find(|job| job["erasure_id"] == erasure_id)
            .cloned()
            .expect("a job for the erasure");
        if job["state"] == state {
            return job;
        }
        assert!(std::time::Instant::now() < deadline, "job stayed {job}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn erasure_deletes_the_visitors_visits_in_matomo(engine: Engine) {
    let matomo = Arc::new(Matomo::default());
    let url = start_matomo(Arc::clone(&matomo)).await;
    let app = spawn_with(engine, with_matomo_api(url)).await;
    let (cookies, visitor_id) = visitor_with_visits(&app, &matomo, 3).await;
    let (_, other) = visitor_with_visits(&app, &matomo, 2).await;

    let evidence = erase(&app, &cookies).await;
    assert_eq!(evidence["matomo"], "pending");
    let erasure_id = evidence["id"].as_str().unwrap();
    let job = job_in_state(&app, erasure_id, "done").await;
    assert_eq!(job["deleted"]["log_visit"], 3);
    let left: Vec<String> = matomo
        .visits
        .lock()
        .unwrap()
        .iter()
        .map(|(_, _, v)| v.clone())
        .collect();
    assert_eq!(
        left,
        [other.clone(), other],
        "only the erased visitor's visits went"
    );
    // Every call: POST, the token in the body, the visitor id in the segment, each site asked.
    let calls = matomo.calls.lock().unwrap().clone();
    let segments: Vec<(String, String)> = calls
        .iter()
        .filter(|call| call.contains(&("method".into(), "PrivacyManager.findDataSubjects".into())))
        .map(|call| {
            let get = |key: &str| call.iter().find(|(k, _)| k == key).unwrap().1.clone();
            (get("idSite"), get("segment"))
        })
        .collect();
    assert!(segments.contains(&("1".into(), format!("visitorId=={visitor_id}"))));
    assert!(segments.contains(&("2".into(), format!("visitorId=={visitor_id}"))));
    // The erasure's evidence says what Matomo deleted; the job forgot the visitor id.
    let outcome = app.texts("SELECT matomo FROM erasures").await;
    assert!(outcome[0].contains(r#""log_visit":3"#), "{outcome:?}");
    assert_eq!(job["visitor_id"], serde_json::Value::Null);
}

async fn a_failing_matomo_leaves_a_job_that_succeeds_later_even_after_a_restart(engine: Engine) {
    let matomo = Arc::new(Matomo::default());
    matomo.failing.store(true, Ordering::SeqCst);
    let url = start_matomo(Arc::clone(&matomo)).await;
    let first = spawn_with(engine, with_matomo_api(url.clone())).await;
    let (cookies, _) = visitor_with_visits(&first, &matomo, 2).await;
    let evidence = erase(&first, &cookies).await;
    let erasure_id = evidence["id"].as_str().unwrap().to_owned();
    // Our own data is gone at once; Matomo's part waits.
    assert_eq!(first.count_rows("consent_events").await, 0);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let job = job_in_state(&first, &erasure_id, "pending").await;
        if job["attempts"].as_u64().unwrap() >= 1 {
            assert!(job["last_error"].as_str().unwrap().contains("503"), "{job}");
            break;
        }
        assert!(std::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let metrics = first.metrics().await;
    assert!(
        metrics.contains(r#"zeccloud_matomo_erasure_jobs{state="pending"} 1"#),
        "{metrics}"
    );
    // The console's operations page lists it, with Matomo's answer.
    let session = first.console_session().await;
    let page = first
        .get("/admin/operations", &session)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!(
        r#"<tr data-state="pending"><th scope="row"><code>{erasure_id}</code>"#
    )));
    assert!(page.contains("503"));

    // The instance goes away; Matomo comes back; another instance finishes the job.
    first.server.shut_down().await;
    matomo.failing.store(false, Ordering::SeqCst);
    let second = spawn_beside(&first, with_matomo_api(url)).await;
    let job = job_in_state(&second, &erasure_id, "done").await;
    assert_eq!(job["deleted"]["log_visit"], 2);
    assert!(matomo.visits.lock().unwrap().is_empty());
}
