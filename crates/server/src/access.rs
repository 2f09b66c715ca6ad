//! Who may call what: the access matrix, consulted for every matched route before its handler
//! runs.
//!
//! [`ACCESS_MATRIX`] is the one declarative table: `(method, path template) → rule`. The
//! [`authorize`] middleware finds the request's entry, authenticates the caller when the rule
//! needs it and refuses what the rule does not allow. A route with no entry answers 403 for
//! everyone (405 if only the method is missing), so a new route is refused until it is
//! classified; the API tests enumerate the OpenAPI document and fail for any route missing here.
//!
//! The manager rules follow the seed tutorial ("User Management and User Roles"): an investment
//! manager may call `/info`, `/changelog`, `/user/obtain_token`, the registered-user paths,
//! category reads, `/gaids/{gaid}/validate`, `/managers/me`, and, for assets the issuer granted
//! them only, asset details, activities, balance, summary, the assignment paths and payout reads.

use std::collections::BTreeMap;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

use crate::audit;
use crate::error::ApiError;
use crate::extract::{authenticate, AuthIssuer};
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

/// The access matrix: every route of the application with the rule that guards it. Path
/// templates are matched with any parameter name (`{id}` and `{user_id}` are the same slot).
pub const ACCESS_MATRIX: &[(&str, &str, Rule)] = &[
    // General and the caller's own account.
    ("GET", "/api/info", Anonymous),
    ("GET", "/api/changelog", Anonymous),
    ("GET", "/api/openapi.json", Anonymous),
    ("GET", "/api/docs", Anonymous),
    ("GET", "/api/docs/{file}", Anonymous),
    ("POST", "/api/user/obtain_token", Anonymous),
    ("GET", "/api/user/refresh-token", IssuerOnly),
    ("POST", "/api/user/refresh-token", IssuerOnly),
    ("GET", "/api/user/refresh_token", IssuerOnly),
    ("POST", "/api/user/refresh_token", IssuerOnly),
    ("POST", "/api/user/change-password", IssuerOnly),
    ("POST", "/api/user/change_password", IssuerOnly),
    // Registered users (and the legacy /investors aliases of the same endpoints).
    ("GET", "/api/registered_users", IssuerOrManager),
    ("POST", "/api/registered_users/add", IssuerOrManager),
    ("GET", "/api/registered_users/{id}", IssuerOrManager),
    ("PUT", "/api/registered_users/{id}/edit", IssuerOrManager),
    (
        "DELETE",
        "/api/registered_users/{id}/delete",
        IssuerOrManager,
    ),
    ("GET", "/api/registered_users/{id}/summary", IssuerOrManager),
    ("GET", "/api/registered_users/{id}/gaids", IssuerOrManager),
    (
        "POST",
        "/api/registered_users/{id}/gaids/add",
        IssuerOrManager,
    ),
    (
        "POST",
        "/api/registered_users/{id}/gaids/set-default",
        IssuerOrManager,
    ),
    ("GET", "/api/investors", IssuerOrManager),
    ("POST", "/api/investors/add", IssuerOrManager),
    ("GET", "/api/investors/{id}", IssuerOrManager),
    ("PUT", "/api/investors/{id}/edit", IssuerOrManager),
    ("DELETE", "/api/investors/{id}/delete", IssuerOrManager),
    ("GET", "/api/investors/{id}/summary", IssuerOrManager),
    ("GET", "/api/investors/{id}/gaids", IssuerOrManager),
    ("POST", "/api/investors/{id}/gaids/add", IssuerOrManager),
    (
        "POST",
        "/api/investors/{id}/gaids/set-default",
        IssuerOrManager,
    ),
    // Categories: managers read only.
    ("GET", "/api/categories", IssuerOrManager),
    ("POST", "/api/categories/add", IssuerOnly),
    ("GET", "/api/categories/{id}", IssuerOrManager),
    ("PUT", "/api/categories/{id}/edit", IssuerOnly),
    ("DELETE", "/api/categories/{id}/delete", IssuerOnly),
    (
        "PUT",
        "/api/categories/{id}/registered_users/{user_id}/add",
        IssuerOnly,
    ),
    (
        "PUT",
        "/api/categories/{id}/registered_users/{user_id}/remove",
        IssuerOnly,
    ),
    // GAIDs.
    ("GET", "/api/gaids/{gaid}/validate", IssuerOrManager),
    ("GET", "/api/gaids/{gaid}/registered_user", IssuerOnly),
    ("GET", "/api/gaids/{gaid}/investor", IssuerOnly),
    // Managers.
    ("GET", "/api/managers", IssuerOnly),
    ("POST", "/api/managers/create", IssuerOnly),
    ("GET", "/api/managers/me", ManagerOnly),
    ("GET", "/api/managers/{id}", IssuerOnly),
    ("PUT", "/api/managers/{id}/lock", IssuerOnly),
    ("PUT", "/api/managers/{id}/unlock", IssuerOnly),
    ("POST", "/api/managers/{id}/change-password", IssuerOnly),
    (
        "PUT",
        "/api/managers/{id}/assets/{asset_uuid}/add",
        IssuerOnly,
    ),
    (
        "PUT",
        "/api/managers/{id}/assets/{asset_uuid}/remove",
        IssuerOnly,
    ),
    (
        "POST",
        "/api/managers/{id}/assets/{asset_uuid}/remove",
        IssuerOnly,
    ),
    // Audit log.
    ("GET", "/api/audit", IssuerOnly),
    // Assets a manager may reach when granted (the asset routes land with a later issue;
    // every other asset route is issuer-only and must be added here when it lands).
    ("GET", "/api/assets/{asset_uuid}", IssuerOrManagerForAsset),
    (
        "GET",
        "/api/assets/{asset_uuid}/activities",
        IssuerOrManagerForAsset,
    ),
    (
        "GET",
        "/api/assets/{asset_uuid}/balance",
        IssuerOrManagerForAsset,
    ),
    (
        "GET",
        "/api/assets/{asset_uuid}/summary",
        IssuerOrManagerForAsset,
    ),
    (
        "GET",
        "/api/assets/{asset_uuid}/assignments",
        IssuerOrManagerForAsset,
    ),
    (
        "GET",
        "/api/assets/{asset_uuid}/assignments/{assignment_id}",
        IssuerOrManagerForAsset,
    ),
    (
        "POST",
        "/api/assets/{asset_uuid}/assignments/create",
        IssuerOrManagerForAsset,
    ),
    (
        "PUT",
        "/api/assets/{asset_uuid}/assignments/{assignment_id}/lock",
        IssuerOrManagerForAsset,
    ),
    (
        "PUT",
        "/api/assets/{asset_uuid}/assignments/{assignment_id}/unlock",
        IssuerOrManagerForAsset,
    ),
    (
        "DELETE",
        "/api/assets/{asset_uuid}/assignments/{assignment_id}/delete",
        IssuerOrManagerForAsset,
    ),
    // Issuer-only routes of the AMP reference that land with later issues (classified now so
    // that they are guarded the moment they are routed).
    ("GET", "/api/assets", IssuerOnly),
    ("POST", "/api/assets/issue", IssuerOnly),
    ("PUT", "/api/assets/{asset_uuid}/edit", IssuerOnly),
    ("DELETE", "/api/assets/{asset_uuid}/delete", IssuerOnly),
    ("GET", "/api/assets/{asset_uuid}/register", IssuerOnly),
    (
        "GET",
        "/api/assets/{asset_uuid}/register-authorized",
        IssuerOnly,
    ),
    ("PUT", "/api/assets/{asset_uuid}/lock", IssuerOnly),
    ("PUT", "/api/assets/{asset_uuid}/unlock", IssuerOnly),
    ("GET", "/api/assets/{asset_uuid}/memo", IssuerOnly),
    ("POST", "/api/assets/{asset_uuid}/memo/set", IssuerOnly),
    (
        "GET",
        "/api/assets/{asset_uuid}/treasury-addresses",
        IssuerOnly,
    ),
    (
        "POST",
        "/api/assets/{asset_uuid}/treasury-addresses/add",
        IssuerOnly,
    ),
    (
        "DELETE",
        "/api/assets/{asset_uuid}/treasury-addresses/delete",
        IssuerOnly,
    ),
    (
        "GET",
        "/api/assets/{asset_uuid}/treasury-view-key",
        IssuerOnly,
    ),
    (
        "PUT",
        "/api/assets/{asset_uuid}/treasury-view-key",
        IssuerOnly,
    ),
    ("GET", "/api/assets/{asset_uuid}/utxos", IssuerOnly),
    (
        "POST",
        "/api/assets/{asset_uuid}/utxos/blacklist",
        IssuerOnly,
    ),
    (
        "POST",
        "/api/assets/{asset_uuid}/utxos/whitelist",
        IssuerOnly,
    ),
    ("GET", "/api/assets/{asset_uuid}/lost-outputs", IssuerOnly),
    (
        "POST",
        "/api/assets/{asset_uuid}/update-blinders",
        IssuerOnly,
    ),
    ("GET", "/api/assets/{asset_uuid}/ownerships", IssuerOnly),
    (
        "GET",
        "/api/assets/{asset_uuid}/ownerships/{height}",
        IssuerOnly,
    ),
    ("GET", "/api/assets/{asset_uuid}/txs", IssuerOnly),
    ("GET", "/api/assets/{asset_uuid}/txs/{txid}", IssuerOnly),
    ("GET", "/api/assets/{asset_uuid}/reissuances", IssuerOnly),
    (
        "GET",
        "/api/assets/{asset_uuid}/cosign-decisions",
        IssuerOnly,
    ),
    ("GET", "/api/assets/{asset_uuid}/burns", IssuerOnly),
    (
        "GET",
        "/api/assets/{asset_uuid}/burn-requests/{burn_request_id}",
        IssuerOnly,
    ),
    (
        "PUT",
        "/api/assets/{asset_uuid}/assignments/{assignment_id}/edit",
        IssuerOnly,
    ),
    ("GET", "/api/assets/{asset_uuid}/distributions", IssuerOnly),
    (
        "GET",
        "/api/assets/{asset_uuid}/distributions/{distribution_id}",
        IssuerOnly,
    ),
    (
        "GET",
        "/api/assets/{asset_uuid}/distributions/create",
        IssuerOnly,
    ),
    (
        "POST",
        "/api/assets/{asset_uuid}/distributions/{distribution_id}/confirm",
        IssuerOnly,
    ),
    (
        "DELETE",
        "/api/assets/{asset_uuid}/distributions/{distribution_id}/cancel",
        IssuerOnly,
    ),
    // Payouts: the issuer's; managers read those of granted assets.
    (
        "GET",
        "/api/assets/{asset_uuid}/payouts",
        IssuerOrManagerForAsset,
    ),
    (
        "GET",
        "/api/assets/{asset_uuid}/payouts/{payout_id}",
        IssuerOrManagerForAsset,
    ),
    (
        "POST",
        "/api/assets/{asset_uuid}/payouts/create",
        IssuerOnly,
    ),
    (
        "POST",
        "/api/assets/{asset_uuid}/payouts/{payout_id}/confirm",
        IssuerOnly,
    ),
    (
        "DELETE",
        "/api/assets/{asset_uuid}/payouts/{payout_id}/cancel",
        IssuerOnly,
    ),
    (
        "POST",
        "/api/assets/{asset_uuid}/reissue-request",
        IssuerOnly,
    ),
    (
        "POST",
        "/api/assets/{asset_uuid}/reissue-confirm",
        IssuerOnly,
    ),
    ("POST", "/api/assets/{asset_uuid}/burn-request", IssuerOnly),
    ("POST", "/api/assets/{asset_uuid}/burn-confirm", IssuerOnly),
    (
        "PUT",
        "/api/categories/{id}/assets/{asset_uuid}/add",
        IssuerOnly,
    ),
    (
        "PUT",
        "/api/categories/{id}/assets/{asset_uuid}/remove",
        IssuerOnly,
    ),
    ("GET", "/api/gaids/{gaid}/address", IssuerOnly),
    ("GET", "/api/gaids/{gaid}/balance", IssuerOnly),
    ("GET", "/api/gaids/{gaid}/balance/{asset_uuid}", IssuerOnly),
    // Registered-user paths the seed lists for managers (routes::user_categories).
    (
        "GET",
        "/api/registered_users/validate-gaid",
        IssuerOrManager,
    ),
    (
        "POST",
        "/api/registered_users/validate-gaid",
        IssuerOrManager,
    ),
    (
        "PUT",
        "/api/registered_users/{id}/categories/add",
        IssuerOrManager,
    ),
    (
        "PUT",
        "/api/registered_users/{id}/categories/delete",
        IssuerOrManager,
    ),
    // AMP2 co-signer: called by LWK's Amp2 client, which sends no token.
    ("GET", "/amp2/info/xpub", Anonymous),
    ("GET", "/amp2/info/xpub-master", Anonymous),
    ("POST", "/amp2/wallets/register", Anonymous),
    // Root paths: health probe and the platform's own asset registry.
    ("GET", "/healthz", Anonymous),
    ("GET", "/registry/{asset_id}", Anonymous),
    ("POST", "/amp2/wallets/sign", Anonymous),
    ("GET", "/amp2/info/authorizer", Anonymous),
];

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

/// The matrix indexed by normalized template, then method.
fn index() -> &'static BTreeMap<String, BTreeMap<&'static str, Rule>> {
    static INDEX: std::sync::OnceLock<BTreeMap<String, BTreeMap<&'static str, Rule>>> =
        std::sync::OnceLock::new();
    INDEX.get_or_init(|| {
        let mut index: BTreeMap<String, BTreeMap<&'static str, Rule>> = BTreeMap::new();
        for (method, template, rule) in ACCESS_MATRIX {
            index
                .entry(normalize_template(template))
                .or_default()
                .insert(method, *rule);
        }
        index
    })
}

/// What the matrix says about a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// The route is classified.
    Rule(Rule),
    /// The path is classified, but not for this method.
    MethodNotClassified,
    /// The path is not in the matrix at all.
    Unclassified,
}

/// The rule for `method` on `template` (HEAD is looked up as GET).
pub fn lookup(method: &Method, template: &str) -> Lookup {
    let method = if method == Method::HEAD {
        "GET"
    } else {
        method.as_str()
    };
    match index().get(&normalize_template(template)) {
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
    const DENIED: &str = "You do not have permission to perform this action.";
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
        Err(ApiError::PermissionDenied(DENIED.to_string()))
    }
}

/// The middleware in front of every matched route: looks the route up in [`ACCESS_MATRIX`],
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
            tracing::error!(%method, %template, "route missing from the access matrix");
            return Err(ApiError::PermissionDenied(
                "This route is not open to any caller.".to_string(),
            ));
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
    fn the_matrix_has_one_rule_per_route() {
        let mut seen = std::collections::BTreeSet::new();
        for (method, template, _) in ACCESS_MATRIX {
            assert!(
                seen.insert((method, normalize_template(template))),
                "{method} {template} is listed twice"
            );
        }
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
