pub mod admin;
pub mod consent;
pub mod embed;
pub mod health;
pub mod matomo;
pub mod policy;

/// `scheme://host` of the request as the client addressed it, for absolute links.
pub fn base_url(headers: &http::HeaderMap) -> String {
    let host = headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .filter(|proto| matches!(*proto, "http" | "https"))
        .unwrap_or("http");
    format!("{scheme}://{host}")
}
