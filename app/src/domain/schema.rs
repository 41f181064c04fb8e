//! What `#[derive(ToSchema)]` cannot say about a field, for the server's API description:
//! only compiled with `ssr`, so the WASM bundle never carries utoipa.

use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, SchemaType, Type};
use utoipa::openapi::{RefOr, Schema};

/// A category name as [`super::CategoryId::parse`] takes it.
pub const CATEGORY_PATTERN: &str = "^[a-z][a-z0-9_]{0,31}$";

/// `{"NAME": true | false, …}` keyed by category names, or null: a decision's categories.
pub fn category_states() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(SchemaType::Array(vec![Type::Object, Type::Null]))
        .property_names(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(CATEGORY_PATTERN)),
        ))
        .additional_properties(Some(AdditionalProperties::RefOr(RefOr::T(Schema::Object(
            ObjectBuilder::new().schema_type(Type::Boolean).build(),
        )))))
        .description(Some(
            "Each category's state by name (`necessary` cannot be refused). Required for \
             `custom`, which must name every optional category; optional but checked for the \
             other actions; none for `gpc`.",
        ))
        .into()
}
