//! What the load and probe examples share (included with `#[path]`; not an example itself).

/// The current policy version, as the service at `base` publishes it.
pub async fn policy_version(client: &reqwest::Client, base: &str) -> String {
    let policy: serde_json::Value = client
        .get(format!("{base}/api/v1/policy"))
        .send()
        .await
        .expect("the service answers")
        .json()
        .await
        .expect("the policy is JSON");
    policy["version"].as_str().expect("a version").to_owned()
}

/// The value of the cookie `name` set by `response`.
#[allow(dead_code)] // Not every example reads cookies.
pub fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{name}=")))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}
