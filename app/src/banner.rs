//! The consent banner: rendered on the server so it is there at first paint, usable as plain
//! forms without JavaScript, and recording choices without a reload once hydrated.

use crate::consent_api::{RecordConsent, UiError, get_consent_status};
use crate::domain::{CategoryView, ConsentAction, PolicyView};
use leptos::either::Either;
use leptos::prelude::*;

#[component]
pub fn ConsentBanner() -> impl IntoView {
    let record = ServerAction::<RecordConsent>::new();
    // Blocking: the HTML is sent once the visitor's status is known, so a banner that is needed
    // is in the first response, which also makes it work with JavaScript off.
    let status = Resource::new_blocking(|| (), |()| get_consent_status());
    let decided = move || matches!(record.value().get(), Some(Ok(_)));

    view! {
        <Suspense>
            {move || {
                status
                    .get()
                    .map(|result| match result {
                        Ok(status) => {
                            let prompt = status.needs_prompt();
                            Either::Left(
                                view! {
                                    <Show when=move || prompt && !decided()>
                                        <BannerBody policy=status.policy.clone() record/>
                                    </Show>
                                },
                            )
                        }
                        Err(error) => Either::Right(view! { <ErrorNotice error/> }),
                    })
            }}
        </Suspense>
    }
}

#[component]
fn BannerBody(policy: PolicyView, record: ServerAction<RecordConsent>) -> impl IntoView {
    let text = policy.banner;
    let version = StoredValue::new(policy.version);
    let failure = move || match record.value().get() {
        Some(Err(error)) => Some(view! { <ErrorNotice error/> }),
        _ => None,
    };
    let optional = policy
        .categories
        .iter()
        .filter(|c| !c.required)
        .cloned()
        .collect::<Vec<_>>();
    let required = policy
        .categories
        .into_iter()
        .filter(|c| c.required)
        .collect::<Vec<_>>();

    view! {
        <section class="zc-banner" role="region" aria-labelledby="zc-banner-title" data-testid="consent-banner">
            <h2 id="zc-banner-title" class="zc-banner__title">{text.title}</h2>
            <p class="zc-banner__body">
                {text.body} " " <a href=policy.notice_url>{text.notice_link}</a>
            </p>
            {failure}
            <div class="zc-banner__actions">
                // One component for both: Accept and Reject must carry equal weight.
                <OneClickChoice record version action=ConsentAction::AcceptAll label=text.accept_all/>
                <OneClickChoice record version action=ConsentAction::RejectAll label=text.reject_all/>
            </div>
            // <details> opens without JavaScript, so Customize works in every browser.
            <details class="zc-customize">
                <summary class="zc-btn zc-btn--secondary" data-action="customize">{text.customize}</summary>
                <ActionForm action=record>
                    <input type="hidden" name="policy_version" value=version.get_value()/>
                    <input type="hidden" name="action" value="custom"/>
                    <ul class="zc-categories">
                        {required
                            .into_iter()
                            .map(|category| {
                                let always_on = text.always_on.clone();
                                view! {
                                    <li class="zc-category" data-category=category.id.clone()>
                                        <span class="zc-category__title">{category.title}</span>
                                        <span class="zc-category__always">{always_on}</span>
                                        <p class="zc-category__purpose">{category.description}</p>
                                    </li>
                                }
                            })
                            .collect_view()}
                        {optional.into_iter().map(category_toggle).collect_view()}
                    </ul>
                    <button type="submit" class="zc-btn zc-btn--choice" data-action="save">
                        {text.save}
                    </button>
                </ActionForm>
            </details>
        </section>
    }
}

/// A form with a single button that records Accept all or Reject all. The policy version shown
/// travels with every choice: it is what the visitor agreed to.
#[component]
fn OneClickChoice(
    record: ServerAction<RecordConsent>,
    version: StoredValue<String>,
    action: ConsentAction,
    label: String,
) -> impl IntoView {
    view! {
        <ActionForm action=record>
            <input type="hidden" name="policy_version" value=version.get_value()/>
            <input type="hidden" name="action" value=action.as_str()/>
            <button type="submit" class="zc-btn zc-btn--choice" data-action=action.as_str()>
                {label}
            </button>
        </ActionForm>
    }
}

fn category_toggle(category: CategoryView) -> impl IntoView {
    let input_id = format!("zc-category-{}", category.id);
    let description_id = format!("{input_id}-purpose");
    view! {
        <li class="zc-category" data-category=category.id.clone()>
            <input
                type="checkbox"
                id=input_id.clone()
                name=format!("categories[{}]", category.id)
                value="on"
                aria-describedby=description_id.clone()
            />
            <label for=input_id class="zc-category__title">{category.title}</label>
            <p id=description_id class="zc-category__purpose">{category.description}</p>
        </li>
    }
}

#[component]
fn ErrorNotice(error: UiError) -> impl IntoView {
    view! {
        <p class="zc-error" role="alert" data-error-code=error.code>
            {error.message}
        </p>
    }
}
