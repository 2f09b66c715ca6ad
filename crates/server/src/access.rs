//! Who may call what, checked for every matched route before its handler runs.
//!
//! Each route's [`Rule`] is given where the route is registered (see [`crate::router`]). The
//! [`authorize`] middleware finds the request's rule in the declaration's table, authenticates
//! the caller when the rule needs it and refuses what the rule does not allow. A route with no
//! rule answers 403 for everyone (405 if only the method is missing): a route added to the
//! router without going through the declaration is refused, never open. The API tests call
//! every declared route as every kind of caller.
//!
//! The manager rules follow the seed tutorial ("User Management and User Roles"): an investment
//! manager may call `/info`, `/changelog`, `/user/obtain_token`, the registered-user paths,
//! category reads, `/gaids/{gaid}/validate`, `/managers/me`, and, for assets the issuer granted
//! them only, asset details, activities, balance, summary, the assignment paths and payout reads.

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

use crate::audit;
use crate::error::ApiError;
use crate::extract::{authenticate, AuthIssuer};
use crate::refusal::Denial;
use crate::state::AppState;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Everyone, without a token (a token is not checked).
    Anonymous,
    /// Issuers only; managers get 403.
    IssuerOnly,
    /// Issuers, and managers within their issuer's data.
    IssuerOrManager,
    /// Issuers, and managers the issuer granted the asset named by the path's `{…}` segment
    /// after `/assets/`.
    IssuerOrManagerForAsset,
    /// Managers only (their own record); issuers get 403.
    ManagerOnly,
}

use Rule::*;

/// A path template with every parameter name erased: `/a/{id}/b` → `/a/{}/b`.
pub fn normalize_template(template: &str) -> String {
    template
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') && segment.ends_with('}') {
                "{}"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// What the declaration says about a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// The route is classified.
    Rule(Rule),
    /// The path is classified, but not for this method.
    MethodNotClassified,
    /// The path is not declared at all.
    Unclassified,
}

/// The rule for `method` on `template` (HEAD is looked up as GET).
pub fn lookup(method: &Method, template: &str) -> Lookup {
    let method = if method == Method::HEAD {
        "GET"
    } else {
        method.as_str()
    };
    match crate::router::table().rules_of(template) {
        None => Lookup::Unclassified,
        Some(methods) => methods
            .get(method)
            .map_or(Lookup::MethodNotClassified, |rule| Lookup::Rule(*rule)),
    }
}

/// The asset uuid of a request under `/…/assets/{uuid}…`: the segment of `path` in the slot
/// of the template's first parameter after an `assets` segment.
fn asset_segment<'a>(template: &str, path: &'a str) -> Option<&'a str> {
    let slot = template
        .split('/')
        .collect::<Vec<_>>()
        .windows(2)
        .position(|pair| pair[0] == "assets" && pair[1].starts_with('{'))?
        + 1;
    path.split('/').nth(slot)
}

/// Checks an authenticated caller against `rule`.
fn check(rule: Rule, caller: &AuthIssuer, template: &str, path: &str) -> Result<(), ApiError> {
    let allowed = match (rule, &caller.manager) {
        (Anonymous, _) => true,
        // an issuer
        (ManagerOnly, None) => false,
        (IssuerOnly | IssuerOrManager | IssuerOrManagerForAsset, None) => true,
        // a manager
        (IssuerOnly, Some(_)) => false,
        (IssuerOrManager | ManagerOnly, Some(_)) => true,
        (IssuerOrManagerForAsset, Some(manager)) => asset_segment(template, path)
            .is_some_and(|uuid| manager.assets.iter().any(|granted| granted == uuid)),
    };
    if allowed {
        Ok(())
    } else {
        Err(Denial::NoPermission.into())
    }
}

/// The middleware in front of every matched route: looks the route's rule up in the
/// declaration ([`crate::router::table`]),
/// authenticates and authorizes the caller, hands it to the handler (as a request extension
/// that [`AuthIssuer`] reads) and records successful writes in the audit log.
pub async fn authorize(
    State(state): State<AppState>,
    matched: Option<MatchedPath>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let Some(template) = matched.map(|m| m.as_str().to_string()) else {
        return Err(ApiError::NotFound);
    };
    let method = request.method().clone();
    let rule = match lookup(&method, &template) {
        Lookup::Rule(rule) => rule,
        Lookup::MethodNotClassified => return Err(ApiError::MethodNotAllowed(method)),
        Lookup::Unclassified => {
            tracing::error!(%method, %template, "route without an access rule");
            return Err(Denial::RouteClosed.into());
        }
    };
    if rule == Anonymous {
        return Ok(next.run(request).await);
    }
    let (mut parts, body) = request.into_parts();
    let caller = authenticate(&parts, &state).await?;
    let path = parts.uri.path().to_string();
    check(rule, &caller, &template, &path)?;
    parts.extensions.insert(caller.clone());
    let response = next.run(Request::from_parts(parts, body)).await;
    if audit::is_write(&method, &template) && response.status().is_success() {
        return audit::record(&state, &caller, &method, &path, &template, response).await;
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_whatever_the_parameter_names() {
        assert_eq!(
            lookup(&Method::GET, "/api/registered_users/{user}"),
            Lookup::Rule(IssuerOrManager)
        );
        assert_eq!(lookup(&Method::HEAD, "/api/info"), Lookup::Rule(Anonymous));
        assert_eq!(
            lookup(&Method::PATCH, "/api/registered_users/{id}/edit"),
            Lookup::MethodNotClassified
        );
        assert_eq!(lookup(&Method::GET, "/api/new/route"), Lookup::Unclassified);
    }

    #[test]
    fn the_asset_slot_is_found_after_assets() {
        assert_eq!(
            asset_segment(
                "/api/assets/{u}/assignments/{a}",
                "/api/assets/x-1/assignments/7"
            ),
            Some("x-1")
        );
        assert_eq!(
            asset_segment("/api/registered_users/{id}", "/api/registered_users/1"),
            None
        );
    }

    fn caller(manager_assets: Option<&[&str]>) -> AuthIssuer {
        let now = chrono::Utc::now();
        AuthIssuer {
            issuer: amphora_store::Issuer {
                id: 1,
                username: "issuer".into(),
                password_hash: String::new(),
                created_at: now,
            },
            manager: manager_assets.map(|assets| amphora_store::Manager {
                id: 7,
                issuer_id: 1,
                username: "mgr".into(),
                password_hash: String::new(),
                is_locked: false,
                assets: assets.iter().map(|a| a.to_string()).collect(),
                created_at: now,
            }),
            token_hash: String::new(),
        }
    }

    #[test]
    fn managers_reach_granted_assets_only() {
        let template = "/api/assets/{asset_uuid}/assignments/{assignment_id}";
        let path = "/api/assets/u-1/assignments/3";
        let rule = IssuerOrManagerForAsset;
        assert!(check(rule, &caller(None), template, path).is_ok());
        assert!(check(rule, &caller(Some(&["u-1"])), template, path).is_ok());
        let err = check(rule, &caller(Some(&["u-2"])), template, path).unwrap_err();
        assert_eq!(err.status(), axum::http::StatusCode::FORBIDDEN);
        assert!(check(
            IssuerOnly,
            &caller(Some(&["u-1"])),
            "/api/managers",
            "/api/managers"
        )
        .is_err());
        assert!(check(
            ManagerOnly,
            &caller(None),
            "/api/managers/me",
            "/api/managers/me"
        )
        .is_err());
        assert!(check(
            ManagerOnly,
            &caller(Some(&[])),
            "/api/managers/me",
            "/api/managers/me"
        )
        .is_ok());
    }
}
