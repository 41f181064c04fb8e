//! Registry entries drafted from what a scan saw but the registry does not declare: a TOML
//! snippet in the policy file's own format, with `TODO`s where only a person knows the answer.

use super::registry::{Registry, covering_lifetime};
use super::{FindingKind, PageObservation, Profile, Subject, check_page};
use app::domain::{IdentifierKind, Lifetime};
use std::fmt::Write;

/// One undeclared identifier and what the scan saw of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub kind: IdentifierKind,
    pub name: String,
    /// `host`, `parent` or a domain, as the policy file writes it.
    pub domain: String,
    pub path: String,
    /// The longest lifetime seen.
    pub lifetime: SeenLifetime,
    pub seen_on: Vec<String>,
    pub set_by: Option<String>,
}

/// How long a drafted identifier was seen to live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeenLifetime {
    /// A cookie's remaining seconds when read; `None` for a session cookie or a storage key.
    Seen(Option<i64>),
    /// Only the name is known (a passive report): a guess that parses, marked to be checked.
    Unknown,
}

impl Draft {
    /// A draft from nothing but a name (what the embed loader reports): host-only and not
    /// shared, the narrowest claims, until someone says otherwise.
    pub fn from_name(kind: IdentifierKind, name: &str) -> Self {
        Self {
            kind,
            name: name.to_owned(),
            domain: app::domain::identifier::HOST_ONLY.to_owned(),
            path: "/".to_owned(),
            lifetime: SeenLifetime::Unknown,
            seen_on: Vec::new(),
            set_by: None,
        }
    }
}

/// Every undeclared identifier of the scanned pages, once each, in the order first seen.
pub fn drafts(pages: &[PageObservation], registry: &Registry) -> Vec<Draft> {
    let mut drafts: Vec<Draft> = Vec::new();
    for page in pages {
        for finding in check_page(page, registry) {
            let (FindingKind::NotDeclared, Subject::Identifier { kind, name }) =
                (finding.kind, &finding.subject)
            else {
                continue;
            };
            if let Some(known) = drafts
                .iter_mut()
                .find(|d| d.kind == *kind && &d.name == name)
            {
                known.seen_on.push(page.url.clone());
                continue;
            }
            let mut draft = Draft {
                lifetime: SeenLifetime::Seen(None),
                seen_on: vec![page.url.clone()],
                set_by: finding.set_by.clone(),
                ..Draft::from_name(*kind, name)
            };
            if *kind == IdentifierKind::Cookie {
                let cookies = Profile::ALL.iter().flat_map(|&p| &page.profile(p).cookies);
                for cookie in cookies.filter(|c| &c.name == name) {
                    draft.path.clone_from(&cookie.path);
                    if let SeenLifetime::Seen(longest) = &mut draft.lifetime {
                        *longest = (*longest).max(cookie.lifetime_secs);
                    }
                    if !cookie.host_only() {
                        let domain = cookie.domain.trim_start_matches('.');
                        let parent = registry.parent_domain.as_deref().unwrap_or(&page.site);
                        draft.domain = if domain == parent {
                            app::domain::identifier::PARENT_DOMAIN.to_owned()
                        } else {
                            domain.to_owned()
                        };
                    }
                }
            }
            drafts.push(draft);
        }
    }
    drafts
}

/// The drafts as `[[categories.identifiers]]` entries to paste under the category that allows
/// each, with a purpose to write in each of `languages` (a policy shows every text in each
/// language it serves); empty when there is nothing to declare.
pub fn to_toml(drafts: &[Draft], languages: &[&str]) -> String {
    let mut out = String::new();
    for draft in drafts {
        let quote = |text: &str| toml_string(text);
        if !draft.seen_on.is_empty() {
            let _ = writeln!(
                out,
                "# Seen on {}{}.",
                draft.seen_on.join(", "),
                draft
                    .set_by
                    .as_deref()
                    .map(|by| format!("; set by {by}"))
                    .unwrap_or_default()
            );
        }
        let _ = writeln!(
            out,
            "# Paste it under the [[categories]] entry whose consent allows it; fill in the TODOs."
        );
        let _ = writeln!(out, "[[categories.identifiers]]");
        let _ = writeln!(out, "name = {}", quote(&draft.name));
        let _ = writeln!(out, "kind = {}", quote(draft.kind.as_str()));
        let _ = writeln!(out, "provider = {}", quote("TODO: who sets it"));
        // Storage keys have no expiry: how long they are kept is the page's promise. Session
        // storage ends with the tab.
        let (duration, guessed) = match (draft.kind, draft.lifetime) {
            (IdentifierKind::SessionStorage, _) => (Lifetime::Session, false),
            (_, SeenLifetime::Unknown) => (Lifetime::Months(13), true),
            (IdentifierKind::Cookie, SeenLifetime::Seen(secs)) => (covering_lifetime(secs), false),
            (IdentifierKind::LocalStorage, SeenLifetime::Seen(_)) => (Lifetime::Months(13), true),
        };
        let _ = writeln!(
            out,
            "duration = {}{}",
            quote(&duration.to_string()),
            if guessed {
                "  # TODO: how long it lives"
            } else {
                ""
            }
        );
        let _ = writeln!(out, "domain = {}", quote(&draft.domain));
        if draft.path != "/" {
            let _ = writeln!(out, "path = {}", quote(&draft.path));
        }
        let _ = writeln!(out, "third_party_access = false");
        for language in languages {
            let _ = writeln!(
                out,
                "purpose.{language} = {}",
                quote("TODO: what it is for, in the visitor's words")
            );
        }
        out.push('\n');
    }
    out
}

/// A TOML basic string.
fn toml_string(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(quoted, "\\u{:04X}", u32::from(c));
            }
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}
