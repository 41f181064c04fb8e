//! The page a choice submitted as a plain HTML form (JavaScript off) gets when the service did
//! not save it: it says so in the visitor's language, and links back to the page the form was
//! on. Without it the browser would show the server function's JSON error.

use crate::SITE_NAME;
use crate::delivery::is_unavailable;
use crate::i18n::ui_text;
use leptos::prelude::*;

/// Why the choice was not saved, as the server function answered it.
pub struct NotSaved<'a> {
    pub language: &'a str,
    pub code: &'a str,
    /// The service's own explanation (English: the error vocabulary's message).
    pub message: &'a str,
    /// Where "Go back" leads: the page the form was on, as a path on this service.
    pub back: &'a str,
}

/// The whole HTML document. Escaping is Leptos's: the message and the path are text.
pub fn not_saved_page(page: &NotSaved<'_>) -> String {
    let ui = ui_text(page.language);
    let explanation = if is_unavailable(page.code) {
        ui.not_saved_unavailable
    } else {
        ui.not_saved_refused
    };
    let language = page.language.to_owned();
    let code = page.code.to_owned();
    let message = page.message.to_owned();
    let back = page.back.to_owned();
    let body = crate::render_html(|| {
        view! {
            <html lang=language dir="ltr">
                <head>
                    <meta charset="utf-8"/>
                    <meta name="viewport" content="width=device-width, initial-scale=1"/>
                    <title>{ui.not_saved_title} " - ZecCloud Consent"</title>
                    <link rel="stylesheet" href=format!("/pkg/{SITE_NAME}.css")/>
                </head>
                <body>
                    <main class="zc-main">
                        <article class="zc-prose" data-testid="not-saved">
                            <h1>{ui.not_saved_title}</h1>
                            <p>{explanation}</p>
                            <p class="zc-error" role="alert" lang="en" data-error-code=code>
                                {message}
                            </p>
                            <p><a href=back>{ui.go_back}</a></p>
                        </article>
                    </main>
                </body>
            </html>
        }
    });
    format!("<!DOCTYPE html>{body}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn the_page_says_nothing_was_saved_in_the_visitors_language_and_escapes_text() {
        let html = not_saved_page(&NotSaved {
            language: "ja",
            code: ErrorCode::StorageUnavailable.as_str(),
            message: "<b>try</b> again",
            back: "/notice?x=\"1\"",
        });
        assert!(html.starts_with("<!DOCTYPE html><html lang=\"ja\""));
        assert!(html.contains(ui_text("ja").not_saved_title));
        assert!(html.contains(ui_text("ja").not_saved_unavailable));
        assert!(html.contains("&lt;b&gt;try&lt;/b&gt; again"));
        assert!(html.contains("href=\"/notice?x=&quot;1&quot;\""));
        assert!(!html.contains("<script"));

        let refused = not_saved_page(&NotSaved {
            language: "en",
            code: ErrorCode::StalePolicyVersion.as_str(),
            message: "reload",
            back: "/",
        });
        assert!(refused.contains(ui_text("en").not_saved_refused));
        assert!(!refused.contains(ui_text("en").not_saved_unavailable));
    }
}
