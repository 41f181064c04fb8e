//! What changed between two policy versions, field by field: categories, their identifiers
//! and every text in every language. Each policy is flattened to paths such as
//! `categories.analytics.identifiers._pk_id.*.purpose.ja`; list entries are named by their
//! `id` (categories) or `name` (identifiers), so reordering a list is not a change. Pure.

use app::console::PolicyChange;
use app::domain::Policy;
use serde_json::Value;
use std::collections::BTreeMap;

/// The changes from `before` to `after`, in path order.
pub fn diff(before: &Policy, after: &Policy) -> Vec<PolicyChange> {
    let before = flatten(before);
    let after = flatten(after);
    let mut changes = Vec::new();
    for (path, old) in &before {
        match after.get(path) {
            Some(new) if new == old => {}
            new => changes.push(PolicyChange {
                path: path.clone(),
                before: Some(old.clone()),
                after: new.cloned(),
            }),
        }
    }
    for (path, new) in &after {
        if !before.contains_key(path) {
            changes.push(PolicyChange {
                path: path.clone(),
                before: None,
                after: Some(new.clone()),
            });
        }
    }
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    changes
}

fn flatten(policy: &Policy) -> BTreeMap<String, String> {
    let mut paths = BTreeMap::new();
    let value = serde_json::to_value(policy).unwrap_or(Value::Null);
    walk(&value, String::new(), &mut paths);
    paths
}

fn walk(value: &Value, path: String, paths: &mut BTreeMap<String, String>) {
    let join = |segment: &str| {
        if path.is_empty() {
            segment.to_owned()
        } else {
            format!("{path}.{segment}")
        }
    };
    match value {
        Value::Object(fields) => {
            for (key, field) in fields {
                walk(field, join(key), paths);
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let name = ["id", "name"]
                    .iter()
                    .find_map(|key| item.get(key).and_then(Value::as_str))
                    .map_or_else(|| index.to_string(), str::to_owned);
                walk(item, join(&name), paths);
            }
        }
        Value::String(text) => {
            paths.insert(path, text.clone());
        }
        Value::Null => {}
        other => {
            paths.insert(path, other.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default_policy() -> Policy {
        Policy::from_toml(app::DEFAULT_POLICY_TOML).unwrap()
    }

    #[test]
    fn the_same_policy_has_no_changes() {
        assert!(diff(&default_policy(), &default_policy()).is_empty());
    }

    #[test]
    fn texts_categories_and_identifiers_are_named_by_path() {
        let before = default_policy();
        let mut after = before.clone();
        after.version = app::domain::PolicyVersion::parse("2027-01-01").unwrap();
        after.banner.get_mut("ja").unwrap().title = "新しいタイトル".to_owned();
        let analytics = after
            .categories
            .iter_mut()
            .find(|category| category.id.as_str() == "analytics")
            .unwrap();
        let removed = analytics.identifiers.remove(0);
        after.categories.reverse();

        let changes = diff(&before, &after);
        let paths: Vec<&str> = changes.iter().map(|change| change.path.as_str()).collect();
        assert!(paths.contains(&"version"), "{paths:?}");
        let title = changes
            .iter()
            .find(|change| change.path == "banner.ja.title")
            .unwrap();
        assert_eq!(title.after.as_deref(), Some("新しいタイトル"));
        let gone = format!("categories.analytics.identifiers.{}.provider", removed.name);
        let gone = changes.iter().find(|change| change.path == gone).unwrap();
        assert_eq!(gone.after, None);
        assert_eq!(gone.before.as_deref(), Some(removed.provider.as_str()));
        // Reordering the categories changed nothing else.
        assert!(
            changes.iter().all(|change| change.path == "version"
                || change.path == "banner.ja.title"
                || change.path.starts_with("categories.analytics.identifiers.")),
            "{paths:?}"
        );
    }
}
