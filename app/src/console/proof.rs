//! Finding the proof of a consent: every decision of one visitor (by consent id or SSAID) with
//! each field of its proof, the policy as the visitor saw it, and its signed receipt.

use super::PROOF_PATH;
use super::model::{ProofEvent, ProofOutcome};
use super::parts::action_label;
use leptos::prelude::*;

#[component]
pub(super) fn ProofPage(query: String, outcome: Option<ProofOutcome>) -> impl IntoView {
    let outcome = outcome.map(|outcome| match outcome {
        ProofOutcome::Invalid(message) | ProofOutcome::NotFound(message) => {
            view! { <p class="zc-error" role="status">{message}</p> }.into_any()
        }
        ProofOutcome::Found {
            ssaid,
            matched,
            events,
        } => {
            let count = events.len();
            let events = events
                .into_iter()
                .map(|event| {
                    let is_match = matched.as_deref() == Some(event.id.as_str());
                    view! { <ProofEventView event is_match/> }
                })
                .collect_view();
            view! {
                <p>
                    {format!("SSAID {ssaid}: {count} decision(s), oldest first.")}
                </p>
                <ol class="zc-console__events">{events}</ol>
            }
            .into_any()
        }
    });
    view! {
        <form method="get" action=PROOF_PATH class="zc-console__form" role="search">
            <label for="zc-proof-query">"Consent id or SSAID"</label>
            <input id="zc-proof-query" name="q" type="search" value=query required/>
            <button type="submit" class="zc-btn zc-btn--choice">"Find"</button>
        </form>
        {outcome}
    }
}

#[component]
fn ProofEventView(event: ProofEvent, is_match: bool) -> impl IntoView {
    let field = |name: &'static str, value: String| {
        view! {
            <dt>{name}</dt>
            <dd>{value}</dd>
        }
    };
    let categories = event
        .categories
        .iter()
        .map(|(category, granted)| {
            format!(
                "{category}: {}",
                if *granted { "granted" } else { "refused" }
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let shown = event.shown.clone().map(|policy| {
        let categories = policy
            .categories
            .into_iter()
            .map(|category| {
                view! {
                    <li>
                        <strong>{category.title}</strong>
                        {format!(" ({})", category.id)}
                        <p>{category.description}</p>
                    </li>
                }
            })
            .collect_view();
        view! {
            <details class="zc-console__shown">
                <summary>{format!("Policy {} as shown ({})", policy.version, policy.language)}</summary>
                <h3>{policy.banner.title}</h3>
                <p>{policy.banner.body}</p>
                <ul>{categories}</ul>
            </details>
        }
    });
    view! {
        <li class="zc-console__event" data-event-id=event.id.clone() data-match=is_match.to_string()>
            <dl class="zc-console__fields">
                {field("Consent id", event.id.clone())}
                {field("Decided at (UTC)", event.decided_at)}
                {field("Action", action_label(&event.action).to_owned())}
                {field("Source", event.source)}
                {field("Categories", categories)}
                {field("Policy version", event.policy_version)}
                {field("Policy hash", event.policy_hash)}
                {field("Banner text hash", event.banner_text_hash)}
                {field("Language", event.language)}
                {field("Network prefix", event.ip_prefix.unwrap_or_else(|| "(cleared)".to_owned()))}
                {field("Terminal type", event.terminal_type)}
                {field("Embedding site", event.origin.unwrap_or_else(|| "(own pages)".to_owned()))}
                {field("Honoured", if event.revoked { "no: revoked".to_owned() } else { "yes".to_owned() })}
            </dl>
            {shown}
            <a class="zc-btn zc-btn--secondary zc-btn--small" href=format!("{PROOF_PATH}/{}/receipt", event.id) download>
                "Download signed receipt"
            </a>
        </li>
    }
}
