//! Schemas that generated clients can use. utoipa describes what serde does, and
//! client generators read that literally:
//!
//! - a `#[serde(flatten)]` field becomes `allOf[oneOf[$ref]]`, which generators turn
//!   into a model holding only the struct's own fields (a Python `CreateUserRequest`
//!   with only `role`);
//! - an `Option` of a named type becomes `oneOf[null, $ref]`, a union type where the
//!   client means "may be left out";
//! - every field of a `#[serde(default)]` struct gets its default and none is
//!   `required`, so a TypeScript client demands every field of an update (a property
//!   with a default is always present) while a sign-up missing its username passes.
//!
//! So the document is rewritten once it is generated: flattened structs become plain
//! objects with their own properties, and each request body's schema says what the
//! server requires. The server's rule for a request is simple: a text field that is
//! not nullable must be sent (an empty one is refused as "is required"); anything
//! else may be left out. Response schemas are left as generated (a `null` there is a
//! value the client must accept).

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

const SCHEMAS: &str = "#/components/schemas/";

/// Rewrites the OpenAPI document `doc` (as JSON) in place.
pub fn rewrite(doc: &mut Value) {
    let requests = request_schemas(doc);
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let generated = schemas.clone();
    for (name, schema) in schemas.iter_mut() {
        if schema.get("allOf").is_some() {
            let description = schema.get("description").cloned();
            let (properties, required) = members(&generated, &generated[name]);
            let mut plain = json!({ "type": "object", "properties": properties });
            if let Some(description) = description {
                plain["description"] = description;
            }
            if !required.is_empty() {
                plain["required"] = json!(required);
            }
            *schema = plain;
        }
    }
    for name in requests {
        if let Some(schema) = schemas.get_mut(&name) {
            as_request(schema);
        }
    }
}

/// The schemas that are JSON request bodies.
fn request_schemas(doc: &Value) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return names;
    };
    for operation in paths
        .values()
        .filter_map(Value::as_object)
        .flat_map(Map::values)
    {
        let reference = operation
            .pointer("/requestBody/content/application~1json/schema/$ref")
            .and_then(Value::as_str);
        if let Some(name) = reference.and_then(|r| r.strip_prefix(SCHEMAS)) {
            names.insert(name.to_owned());
        }
    }
    names
}

/// The properties and required names of `schema`, with every `allOf` part, `$ref`
/// and one-armed `oneOf` followed.
fn members(schemas: &Map<String, Value>, schema: &Value) -> (Map<String, Value>, Vec<String>) {
    let mut properties = Map::new();
    let mut required = Vec::new();
    let mut add = |(more, names): (Map<String, Value>, Vec<String>)| {
        properties.extend(more);
        required.extend(names);
    };
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        for part in parts {
            add(members(schemas, part));
        }
    } else if let Some(name) = schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix(SCHEMAS))
    {
        if let Some(target) = schemas.get(name) {
            add(members(schemas, target));
        }
    } else if let Some([only]) = schema
        .get("oneOf")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
    {
        add(members(schemas, only));
    } else {
        if let Some(own) = schema.get("properties").and_then(Value::as_object) {
            properties.extend(own.clone());
        }
        if let Some(names) = schema.get("required").and_then(Value::as_array) {
            required.extend(names.iter().filter_map(Value::as_str).map(str::to_owned));
        }
    }
    (properties, required)
}

/// A request body's schema as the server reads it: no defaults, an optional
/// reference as the plain reference, and `required` listing the text fields that
/// must be sent.
fn as_request(schema: &mut Value) {
    let mut required: BTreeSet<String> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|names| {
            names
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
        return;
    };
    for (name, property) in properties.iter_mut() {
        let Some(fields) = property.as_object_mut() else {
            continue;
        };
        let had_default = fields.remove("default").is_some();
        if let Some(arms) = fields.get("oneOf").and_then(Value::as_array) {
            let named: Vec<&Value> = arms.iter().filter(|a| a["type"] != "null").collect();
            if let [only] = named.as_slice() {
                let mut plain = (*only).clone();
                let description = fields
                    .get("description")
                    .or_else(|| only.get("description"));
                if let Some(description) = description.cloned() {
                    plain["description"] = description;
                }
                *property = plain;
            }
        }
        if had_default && property["type"] == "string" {
            required.insert(name.clone());
        }
    }
    if required.is_empty() {
        if let Some(object) = schema.as_object_mut() {
            object.remove("required");
        }
    } else {
        schema["required"] = json!(required);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        json!({
            "paths": {
                "/signup": {"post": {"requestBody": {"content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Signup"}}}}}},
                "/users": {"post": {"requestBody": {"content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Create"}}}}}},
            },
            "components": {"schemas": {
                "Role": {"type": "string", "enum": ["admin", "user"]},
                "Signup": {"type": "object", "properties": {
                    "name": {"type": "string", "default": ""},
                    "code": {"type": ["string", "null"], "default": null},
                    "tags": {"type": "array", "items": {"type": "string"}, "default": []},
                }},
                "Create": {"allOf": [
                    {"oneOf": [{"$ref": "#/components/schemas/Signup"}], "default": {"name": ""}},
                    {"type": "object", "properties": {"role": {
                        "oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Role"}],
                        "default": null, "description": "The role."}}},
                ], "description": "A new account."},
                "User": {"type": "object", "properties": {
                    "role": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Role"}]},
                }},
            }},
        })
    }

    #[test]
    fn a_flattened_request_becomes_one_plain_object_that_says_what_is_required() {
        let mut doc = doc();
        rewrite(&mut doc);
        let create = &doc["components"]["schemas"]["Create"];
        assert_eq!(
            create,
            &json!({
                "type": "object",
                "description": "A new account.",
                "properties": {
                    "name": {"type": "string"},
                    "code": {"type": ["string", "null"]},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "role": {"$ref": "#/components/schemas/Role", "description": "The role."},
                },
                "required": ["name"],
            })
        );
        assert_eq!(
            doc["components"]["schemas"]["Signup"]["required"],
            json!(["name"])
        );
    }

    #[test]
    fn responses_keep_their_nullable_references() {
        let mut doc = doc();
        let before = doc["components"]["schemas"]["User"].clone();
        rewrite(&mut doc);
        assert_eq!(doc["components"]["schemas"]["User"], before);
    }
}
