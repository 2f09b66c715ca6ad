//! Sortable tables: `?sort=<column>&order=asc|desc` on a page's link, the rows sorted by that
//! column (numbers as numbers, text without regard to case, missing values last), and column
//! headers that link to the other order and say which one is shown (`aria-sort`).

use std::cmp::Ordering;
use std::collections::HashMap;

use maud::{html, Markup};
use serde_json::Value;

/// The sort a page was asked for: a column key among `allowed` (else `default`) and its order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sort {
    /// The JSON key of the column.
    pub key: String,
    /// Largest first.
    pub descending: bool,
}

impl Sort {
    /// The sort of `query`; an unknown column falls back to `default`, ascending.
    pub fn from_query(query: &HashMap<String, String>, allowed: &[&str], default: &str) -> Sort {
        let key = query
            .get("sort")
            .filter(|k| allowed.contains(&k.as_str()))
            .map_or(default, String::as_str);
        Sort {
            key: key.to_string(),
            descending: query.get("order").is_some_and(|o| o == "desc"),
        }
    }

    /// Sorts `rows` by the column (stable: equal rows keep the API's order).
    pub fn apply(&self, rows: &mut [Value]) {
        rows.sort_by(|a, b| {
            let order = compare(&a[&self.key], &b[&self.key]);
            match (self.descending, &a[&self.key], &b[&self.key]) {
                // missing values stay last either way
                (_, Value::Null, _) | (_, _, Value::Null) => order,
                (true, _, _) => order.reverse(),
                (false, _, _) => order,
            }
        });
    }

    /// The query string of this sort, for the pager's links.
    pub fn query(&self) -> String {
        format!(
            "sort={}&order={}",
            self.key,
            if self.descending { "desc" } else { "asc" }
        )
    }

    /// A column header linking to `base` sorted by `key` (the other order when it is the
    /// current column).
    pub fn header(&self, label: &str, key: &str, base: &str, numeric: bool) -> Markup {
        let current = self.key == key;
        let next = if current && !self.descending {
            "desc"
        } else {
            "asc"
        };
        let state = current.then_some(if self.descending {
            "descending"
        } else {
            "ascending"
        });
        html! {
            th.num[numeric] aria-sort=[state] {
                a href={ (base) "?sort=" (key) "&order=" (next) } { (label) }
            }
        }
    }
}

/// Numbers numerically, booleans false first, text without case, `null` after everything.
fn compare(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Greater,
        (_, Value::Null) => Ordering::Less,
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => text_key(a).cmp(&text_key(b)),
    }
}

fn text_key(value: &Value) -> String {
    match value {
        Value::String(s) => s.to_lowercase(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn query(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn rows_sort_by_the_asked_column_with_missing_values_last() {
        let mut rows = vec![
            json!({"id": 10, "name": "bob"}),
            json!({"id": 9, "name": null}),
            json!({"id": 2, "name": "Alice"}),
        ];
        let by_id = Sort::from_query(&query(&[("sort", "id")]), &["id", "name"], "name");
        by_id.apply(&mut rows);
        assert_eq!(
            rows.iter().map(|r| r["id"].clone()).collect::<Vec<_>>(),
            [2, 9, 10]
        );
        let by_name = Sort::from_query(
            &query(&[("sort", "name"), ("order", "desc")]),
            &["id", "name"],
            "id",
        );
        by_name.apply(&mut rows);
        assert_eq!(
            rows.iter().map(|r| r["name"].clone()).collect::<Vec<_>>(),
            [json!("bob"), json!("Alice"), Value::Null]
        );
        // a column that is not offered is not used
        let fallback = Sort::from_query(&query(&[("sort", "password")]), &["id"], "id");
        assert_eq!(fallback.key, "id");
    }

    #[test]
    fn a_header_links_to_the_other_order_of_its_column() {
        let sort = Sort {
            key: "id".into(),
            descending: false,
        };
        let html = sort.header("Id", "id", "/x", true).into_string();
        assert!(
            html.contains(r#"aria-sort="ascending""#) && html.contains("order=desc"),
            "{html}"
        );
        let other = sort.header("Name", "name", "/x", false).into_string();
        assert!(
            !other.contains("aria-sort") && other.contains("sort=name&amp;order=asc"),
            "{other}"
        );
    }
}
