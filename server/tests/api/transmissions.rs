//! Japan's external-transmission page (`/external-transmission`, Telecommunications Business
//! Act Art. 27-12): every transmission of the policy's registry, in Japanese unless the visitor
//! chose another language, with the security headers and the page cache of every page, and
//! linked from the banner, the preference center, the notice, the footer and the embed.

use crate::common::*;
use crate::embed::{HOST, get_from, spawn_embed};
use crate::on_both_engines;
use crate::pages::{KINDS, page, visitor};
use app::domain::Policy;
use app::domain::identifier::Transmission;
use app::domain::language::SUPPORTED_LANGUAGES;
use app::domain::policy::Category;
use app::i18n::ui_text;

on_both_engines![
    the_page_lists_every_transmission_in_japanese_by_default,
    every_language_is_a_choice_away,
    the_page_carries_the_security_headers_of_every_page,
    the_page_is_kept_like_every_page,
    the_banner_the_center_the_notice_and_the_embed_link_to_the_page,
];

const PATH: &str = "/external-transmission";

fn default_policy() -> Policy {
    Policy::from_toml(app::DEFAULT_POLICY_TOML).expect("the embedded default policy")
}

/// Every transmission of `policy` with its identifier and category, in the policy's order.
fn transmissions(policy: &Policy) -> Vec<(&str, &Category, &Transmission)> {
    policy
        .categories
        .iter()
        .flat_map(|category| {
            category.identifiers.iter().flat_map(move |identifier| {
                identifier
                    .transmissions
                    .iter()
                    .map(move |transmission| (identifier.name.as_str(), category, transmission))
            })
        })
        .collect()
}

/// The page's text as a reader sees it: HTML's escapes undone.
fn unescape(html: &str) -> String {
    html.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

/// `html` has one table per transmission of `policy`, in its order, each saying in `language`
/// what is sent, to whom and where, what for, how to refuse, and the category allowing it.
fn assert_lists_every_transmission(html: &str, policy: &Policy, language: &str) {
    let listed = transmissions(policy);
    assert!(
        !listed.is_empty(),
        "the default registry lists transmissions"
    );
    let text = unescape(html);
    let tables: Vec<&str> = text
        .split("<table")
        .skip(1)
        .filter(|table| table.contains("zc-transmission"))
        .map(|table| table.split("</table>").next().unwrap())
        .collect();
    assert_eq!(tables.len(), listed.len(), "one table per transmission");
    let ui = ui_text(language);
    for (table, (identifier, category, transmission)) in tables.iter().zip(listed) {
        assert!(
            table.contains(&format!(
                r#"data-transmission="{identifier}" data-destination="{}""#,
                transmission.destination
            )),
            "{identifier}: {table}"
        );
        for (field, texts) in transmission.texts() {
            let expected = texts
                .get(language)
                .unwrap_or_else(|| &texts[&policy.default_language]);
            assert!(
                table.contains(expected.as_str()),
                "{identifier} {field}.{language} missing from {table}"
            );
        }
        assert!(table.contains(&format!("<code>{}</code>", transmission.destination)));
        let kind = if category.required() {
            ui.transmission_necessary
        } else {
            ui.transmission_optional
        };
        let title = &category.text[language].title;
        assert!(
            table.contains(&format!(
                r#"data-optional="{}">{}</td>"#,
                !category.required(),
                kind.replace("{category}", title)
            )),
            "{identifier}: category {title} in {table}"
        );
        for label in [
            ui.transmission_items,
            ui.transmission_recipient,
            ui.transmission_destination,
            ui.transmission_purpose,
            ui.transmission_refusal,
            ui.transmission_category,
        ] {
            assert!(
                table.contains(&format!(r#"<th scope="row">{label}</th>"#)),
                "{identifier}: {label}"
            );
        }
    }
}

/// The page's status, content type and HTML for a request with `headers`.
async fn fetch(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> (u16, String, String) {
    let answer = app.get_with(path, headers).await;
    let status = answer.status().as_u16();
    let content_type = answer.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    (status, content_type, answer.text().await.unwrap())
}

async fn the_page_lists_every_transmission_in_japanese_by_default(engine: Engine) {
    let app = spawn(engine).await;
    let policy = default_policy();
    // No choice at all, and a browser that prefers other languages: the browser's preference
    // is no choice, the page is a Japanese disclosure.
    for headers in [
        vec![],
        vec![("accept-language", "en-US, en;q=0.9, ko;q=0.5")],
    ] {
        let (status, content_type, html) = fetch(&app, PATH, &headers).await;
        assert_eq!(status, 200, "{headers:?}");
        assert_eq!(content_type, "text/html; charset=utf-8");
        assert!(html.contains(r#"<html lang="ja""#), "{headers:?}");
        assert!(html.contains(&format!("<h1>{}</h1>", ui_text("ja").transmission_title)));
        assert!(html.contains(&format!(
            "<title>{} - ZecCloud</title>",
            ui_text("ja").transmission_title
        )));
        assert_lists_every_transmission(&html, &policy, "ja");
        // The visitor has not decided: the banner asks, in the page's language.
        assert!(html.contains(r#"data-testid="consent-banner""#));
        assert!(html.contains(&policy.banner["ja"].accept_all));
    }
}

async fn every_language_is_a_choice_away(engine: Engine) {
    let app = spawn(engine).await;
    let policy = default_policy();
    for language in SUPPORTED_LANGUAGES {
        let (status, _, html) = fetch(&app, &format!("{PATH}?lang={language}"), &[]).await;
        assert_eq!(status, 200, "{language}");
        assert!(
            html.contains(&format!(r#"<html lang="{language}""#)),
            "{language}"
        );
        assert_lists_every_transmission(&html, &policy, language);
        // The switcher offers all five and submits back to this page, working without script.
        assert!(html.contains(&format!(r#"<form method="get" action="{PATH}""#)));
        for offered in SUPPORTED_LANGUAGES {
            assert!(html.contains(&format!(r#"value="{offered}""#)), "{offered}");
        }
    }
    // A remembered choice counts as a choice; an explicit one wins over it.
    let (_, _, remembered) = fetch(&app, PATH, &[("cookie", "zc_lang=ko")]).await;
    assert!(remembered.contains(r#"<html lang="ko""#));
    assert_lists_every_transmission(&remembered, &policy, "ko");
    let (_, _, chosen) = fetch(
        &app,
        &format!("{PATH}?lang=en"),
        &[("cookie", "zc_lang=ko")],
    )
    .await;
    assert!(chosen.contains(r#"<html lang="en""#));
    // Other pages still follow the browser.
    let (_, _, notice) = fetch(&app, "/notice", &[("accept-language", "ko")]).await;
    assert!(notice.contains(r#"<html lang="ko""#));
}

async fn the_page_carries_the_security_headers_of_every_page(engine: Engine) {
    // Its Content-Security-Policy and nonces are checked with every page's
    // (`headers::pages_carry_a_nonced_content_security_policy` walks `app::PAGE_PATHS`).
    assert!(app::PAGE_PATHS.contains(&PATH));
    let app = spawn(engine).await;
    let ssaid = app.new_visitor().await;
    for cookies in [String::new(), format!("zc_ssaid={ssaid}")] {
        let answer = app.get(PATH, &cookies).await;
        assert_eq!(answer.status(), 200);
        let headers = answer.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(
            headers["referrer-policy"],
            "strict-origin-when-cross-origin"
        );
        assert_eq!(headers["cache-control"], "no-store");
        let vary: Vec<_> = headers
            .get_all("vary")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        assert!(vary.iter().any(|v| v.contains("Cookie")), "{vary:?}");
        // Plain http without Secure cookies: no HSTS.
        assert!(headers.get("strict-transport-security").is_none());
    }
    let secure = spawn_with(engine, |settings| {
        settings.cookie_secure = true;
        settings.public_url = Some("https://consent.zeccloud.test".to_owned());
    })
    .await;
    let page = secure.get(PATH, "").await;
    assert_eq!(page.status(), 200);
    assert_eq!(
        page.headers()["strict-transport-security"],
        "max-age=31536000"
    );
}

/// Like `/notice`, the page is rendered once per kind of visitor and kept: a visitor answered
/// from the cache gets exactly the page a fresh render gives them.
async fn the_page_is_kept_like_every_page(engine: Engine) {
    let app = spawn(engine).await;
    let fresh = spawn_beside(&app, |_| {}).await;
    for kind in KINDS {
        let first = visitor(&app, kind).await;
        let second = visitor(&app, kind).await;
        let rendered_first = page(&app, PATH, &first).await;
        let kept = page(&app, PATH, &second).await;
        let rendered = page(&fresh, PATH, &second).await;
        assert_eq!(kept.0, 200, "{kind}");
        assert_eq!(kept, rendered, "{kind}: kept and fresh differ");
        if kind == "accepted" || kind == "rejected" {
            // Each visitor's own choice (its receipt link): another's would be a leak.
            assert_ne!(rendered_first.3, kept.3, "{kind}");
        }
    }
    // Undecided visitors with and without a Japanese browser get the same page (Japanese), so
    // one render serves both; the decided ones are a kind each.
    let kinds = KINDS.len() - 1;
    let served = app.metrics().await;
    for line in [
        format!("zeccloud_pages_served_total{{outcome=\"rendered\"}} {kinds}"),
        format!(
            "zeccloud_pages_served_total{{outcome=\"kept\"}} {}",
            2 * KINDS.len() - kinds
        ),
    ] {
        assert!(served.contains(&line), "{line} in {served}");
    }
}

async fn the_banner_the_center_the_notice_and_the_embed_link_to_the_page(engine: Engine) {
    let app = spawn_embed(engine).await;
    let ko = ui_text("ko");
    let link = format!(r#"href="{PATH}?lang=ko""#);
    let korean = [("accept-language", "ko")];

    // The banner's first layer, beside the notice link, and the footer, on every page.
    let (_, _, home) = fetch(&app, "/", &korean).await;
    let banner = home
        .split(r#"data-testid="consent-banner""#)
        .nth(1)
        .and_then(|rest| rest.split("</section>").next())
        .expect("an undecided visitor gets the banner");
    assert!(
        banner.contains(&format!(
            r#"<a {link} data-testid="external-transmission-link">{}</a>"#,
            ko.external_transmission
        )),
        "{banner}"
    );
    let footer = home.split(r#"<footer class="zc-footer">"#).nth(1).unwrap();
    assert!(footer.contains(&link), "{footer}");
    // The preference center, in its dialog and on its own page.
    let dialog = home
        .split(r#"data-testid="preference-dialog""#)
        .nth(1)
        .unwrap();
    assert!(dialog.contains(&link), "{dialog}");
    let (_, _, preferences) = fetch(&app, "/preferences", &korean).await;
    let center = preferences
        .split(r#"<main class="zc-main">"#)
        .nth(1)
        .unwrap();
    assert!(center.split("</main>").next().unwrap().contains(&link));
    // The notice, after its identifier table.
    let (_, _, notice) = fetch(&app, "/notice", &korean).await;
    let after_table = notice.split(r#"id="identifiers""#).nth(1).unwrap();
    assert!(
        after_table.contains(&format!(
            r#"<p lang="ko"><a {link}>{}</a></p>"#,
            ko.external_transmission
        )),
        "{after_table}"
    );

    // The embed's fragments, on another site's page: absolute links to the service.
    for (fragment, language) in [("banner", "ja"), ("preferences", "ko")] {
        let json = get_from(&app, &format!("/embed/{fragment}?lang={language}"), HOST)
            .fetch_json()
            .await;
        let html = json["html"].as_str().unwrap();
        assert!(
            html.contains(&format!(r#"href="{}{PATH}?lang={language}""#, app.base)),
            "{fragment}: {html}"
        );
        assert!(html.contains(ui_text(language).external_transmission));
    }

    // The link leads to the page, in the language it was read in.
    let (status, _, followed) = fetch(&app, &format!("{PATH}?lang=ko"), &[]).await;
    assert_eq!(status, 200);
    assert!(followed.contains(r#"<html lang="ko""#));
}
