//! The service's own pages.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text="ZecCloud Consent"/>
        <article class="zc-prose">
            <h1>"ZecCloud Consent"</h1>
            <p>
                "This service keeps the cookie and identifier promises of ZecCloud's "
                <a href="/notice">"Data Protection Notice"</a>
                " on every ZecCloud page. It asks you once, records your choice against the version of the notice you were shown, and lets every ZecCloud site respect it."
            </p>
            <h2>"What it does"</h2>
            <ul>
                <li>"Shows the consent banner: Accept all and Reject all carry equal weight, and Customize lets you choose each purpose."</li>
                <li>"Records every decision as proof of consent, tied to the policy version shown."</li>
                <li>"Issues the client identifier (SSAID) used for risk control and abuse detection."</li>
                <li>"Lets analytics run only when you have agreed to it."</li>
            </ul>
            <p>"Everything works with JavaScript switched off: each button is an ordinary form."</p>
        </article>
    }
}

/// The notice as published, with its numbered sections as headings.
#[component]
pub fn NoticePage() -> impl IntoView {
    const NOTICE: &str = include_str!("../content/notice-en.txt");
    view! {
        <Title text="Data Protection Notice - ZecCloud"/>
        <article class="zc-prose zc-notice">{notice_blocks(NOTICE).into_iter().map(render_block).collect_view()}</article>
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Block<'a> {
    Heading(&'a str),
    Item(&'a str),
    Paragraph(&'a str),
}

/// Splits the plain-text notice into blocks: a line holding only a section number ("01")
/// makes the next line a heading, bulleted lines are list items, the rest are paragraphs.
fn notice_blocks(text: &str) -> Vec<Block<'_>> {
    let mut blocks = Vec::new();
    let mut next_is_heading = false;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if line.len() == 2 && line.chars().all(|c| c.is_ascii_digit()) {
            next_is_heading = true;
        } else if next_is_heading {
            blocks.push(Block::Heading(line));
            next_is_heading = false;
        } else if let Some(item) = line.strip_prefix('•') {
            blocks.push(Block::Item(item.trim()));
        } else {
            blocks.push(Block::Paragraph(line));
        }
    }
    blocks
}

fn render_block(block: Block<'static>) -> AnyView {
    match block {
        Block::Heading(text) => view! { <h2>{text}</h2> }.into_any(),
        Block::Item(text) => view! { <p class="zc-notice__item">{text}</p> }.into_any(),
        Block::Paragraph(text) => view! { <p>{text}</p> }.into_any(),
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found - ZecCloud Consent"/>
        <article class="zc-prose">
            <h1>"Page not found"</h1>
            <p><a href="/">"Back to the start page"</a></p>
        </article>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notice_sections_become_headings() {
        let blocks =
            notice_blocks("Intro\n\n01\n\nData Collection Scope\n\n  • Account Info: x\nText");
        assert_eq!(
            blocks,
            [
                Block::Paragraph("Intro"),
                Block::Heading("Data Collection Scope"),
                Block::Item("Account Info: x"),
                Block::Paragraph("Text"),
            ]
        );
    }
}
