//! The parts the visitor-facing modules share: the banner's first layer, the preference center,
//! the forms a choice is made with, and what a page gives them (its consent status, its path,
//! where it is shown). `banner.rs`, `preference_center.rs`, `embed.rs` and the layout in
//! `lib.rs` put these together and import none of each other, only what is here (and the
//! domain, the texts, the server functions). So the modules depend one way: those on the
//! widgets, the widgets on the island (`enhance.rs`: the element it hydrates, the marks it
//! reads, the words it shares with the server), and the island on nothing of theirs.

mod banner_body;
mod center;
mod forms;
mod page;
mod place;

pub use banner_body::BannerBody;
pub use center::{PreferenceCenter, PreferenceDialog};
pub use forms::{CategoryForm, CategoryFormLabels, ConsentForms, LanguageSwitcher, OneClickChoice};
pub use page::{ErrorNotice, PagePath, PageStatus, WithStatus};
pub use place::{Place, ServiceBase, external_transmission_href, preferences_href, service_base};

// The unit tests are beside this file, in tests.rs.
#[cfg(all(test, feature = "ssr"))]
mod tests;
