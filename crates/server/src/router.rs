//! The one declaration of the application's routes.
//!
//! Each route is registered once, in its resource module's `routes()`, with its handler and the
//! access rule that guards it: `.add(Rule::IssuerOnly, routes!(list))`. The handler's
//! `#[utoipa::path]` annotation is the only place its path and methods are written; from that
//! one registration [`Routes`] builds the axum router, the OpenAPI paths (with the schemas they
//! reference) and the access table that [`crate::access::authorize`] consults.
//!
//! A route cannot be registered without a rule. A route that reaches the router some other way
//! has no entry in the table and is refused for everyone (see [`crate::access`]).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter};
use axum::Router;
use utoipa::openapi::path::{PathItem, Paths};
use utoipa::openapi::{RefOr, Schema};
use utoipa_axum::router::UtoipaMethodRouter;

use crate::access::{normalize_template, Rule};
use crate::routes;
use crate::state::AppState;

/// A change applied to a route's handlers when the router is built (a middleware that needs
/// the application state, such as the AMP2 per-address rate limit).
pub type Wrap = fn(MethodRouter<AppState>, &AppState) -> MethodRouter<AppState>;

/// One declared route: a method on a path template, with its rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    /// The HTTP method.
    pub method: Method,
    /// The path template as the router matches it (`/api/assets/{asset_uuid}`).
    pub path: String,
    /// Who may call it.
    pub rule: Rule,
    /// Whether it is in the OpenAPI document (legacy aliases and the documentation's own
    /// routes are not).
    pub documented: bool,
}

/// One registration: the handlers of one path.
#[derive(Clone)]
struct Route {
    path: String,
    methods: Vec<Method>,
    rule: Rule,
    handler: MethodRouter<AppState>,
    wraps: Vec<Wrap>,
    documented: bool,
}

/// Routes being declared: handlers, rules and OpenAPI paths, registered together.
#[derive(Clone, Default)]
pub struct Routes {
    routes: Vec<Route>,
    paths: Paths,
    schemas: Vec<(String, RefOr<Schema>)>,
}

impl Routes {
    /// No routes yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers the handlers of one path (what `utoipa_axum::routes!` collects from their
    /// annotations) under `rule`, documented in the OpenAPI document.
    ///
    /// # Panics
    /// If the handlers name more than one path (a declaration error, caught by any test that
    /// builds the application).
    pub fn add(mut self, rule: Rule, routes: UtoipaMethodRouter<AppState>) -> Self {
        let (schemas, paths, handler) = routes;
        let mut items = paths.paths.iter();
        let (path, item) = match (items.next(), items.next()) {
            (Some(first), None) => first,
            _ => panic!(
                "one registration must name exactly one path: {:?}",
                paths.paths.keys()
            ),
        };
        self.routes.push(Route {
            path: path.clone(),
            methods: methods_of(item),
            rule,
            handler,
            wraps: Vec::new(),
            documented: true,
        });
        self.paths.merge(paths);
        self.schemas.extend(schemas);
        self
    }

    /// Registers a route that is not in the OpenAPI document (the document itself and its
    /// interactive page).
    ///
    /// # Panics
    /// If `method` is one axum cannot route (CONNECT).
    pub fn add_undocumented<H, T>(
        mut self,
        rule: Rule,
        method: Method,
        path: &str,
        handler: H,
    ) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone())
            .unwrap_or_else(|_| panic!("{method} cannot be routed"));
        self.routes.push(Route {
            path: path.to_string(),
            methods: vec![method],
            rule,
            handler: axum::routing::on(filter, handler),
            wraps: Vec::new(),
            documented: false,
        });
        self
    }

    /// Serves every route declared so far also at `rename(path)`, with the same handlers and
    /// rules and without documenting the copies (AMP's legacy aliases, such as `/investors…`
    /// for `/registered_users…`).
    ///
    /// # Panics
    /// If `rename` leaves a path unchanged.
    pub fn with_aliases(mut self, rename: impl Fn(&str) -> String) -> Self {
        let aliases: Vec<Route> = self
            .routes
            .iter()
            .map(|route| {
                let path = rename(&route.path);
                assert_ne!(path, route.path, "an alias must be another path");
                Route {
                    path,
                    documented: false,
                    ..route.clone()
                }
            })
            .collect();
        self.routes.extend(aliases);
        self
    }

    /// Applies `wrap` to the handlers of every route declared so far when the router is built.
    pub fn wrapped(mut self, wrap: Wrap) -> Self {
        for route in &mut self.routes {
            route.wraps.push(wrap);
        }
        self
    }

    /// These routes and `other`'s.
    pub fn merge(mut self, other: Routes) -> Self {
        self.routes.extend(other.routes);
        self.paths.merge(other.paths);
        self.schemas.extend(other.schemas);
        self
    }

    /// The axum router of these routes, their wraps applied with `state`.
    pub fn into_router(self, state: &AppState) -> Router<AppState> {
        self.routes
            .into_iter()
            .fold(Router::new(), |router, route| {
                let handler = route
                    .wraps
                    .iter()
                    .fold(route.handler, |handler, wrap| wrap(handler, state));
                router.route(&route.path, handler)
            })
    }

    fn declared(&self) -> impl Iterator<Item = Declared> + '_ {
        self.routes.iter().flat_map(|route| {
            route.methods.iter().map(|method| Declared {
                method: method.clone(),
                path: route.path.clone(),
                rule: route.rule,
                documented: route.documented,
            })
        })
    }
}

/// The methods a path item has operations for.
fn methods_of(item: &PathItem) -> Vec<Method> {
    [
        (&item.get, Method::GET),
        (&item.put, Method::PUT),
        (&item.post, Method::POST),
        (&item.delete, Method::DELETE),
        (&item.patch, Method::PATCH),
        (&item.head, Method::HEAD),
        (&item.options, Method::OPTIONS),
        (&item.trace, Method::TRACE),
    ]
    .into_iter()
    .filter(|(operation, _)| operation.is_some())
    .map(|(_, method)| method)
    .collect()
}

/// Every `/api` and `/amp2` route (they answer a JSON 405 for a known path with another
/// method), one line per resource module.
pub fn api() -> Routes {
    Routes::new()
        .merge(routes::info::routes())
        .merge(crate::openapi::routes())
        .merge(crate::docs::routes())
        .merge(routes::user::routes())
        .merge(routes::registered_users::routes())
        .merge(routes::user_categories::routes())
        .merge(routes::categories::routes())
        .merge(routes::assets::routes())
        .merge(routes::treasury_key::routes())
        .merge(routes::gaids::routes())
        .merge(routes::gaid_balances::routes())
        .merge(routes::managers::routes())
        .merge(crate::audit::routes())
        .merge(routes::assignments::routes())
        .merge(routes::distributions::routes())
        .merge(routes::payouts::routes())
        .merge(routes::reissue_burn::routes())
        .merge(routes::registry::routes())
        .merge(routes::reports::routes())
        .merge(routes::events::routes())
        .merge(routes::webhooks::routes())
        .merge(routes::amp2::routes())
}

/// The routes at the root: the health probe and the platform's public asset registry.
pub fn root() -> Routes {
    Routes::new()
        .merge(routes::health::routes())
        .merge(routes::registry::public_routes())
}

/// What the declaration says, computed once: every route with its rule, the rules indexed for
/// the access middleware, and the OpenAPI paths and schemas.
pub struct Table {
    routes: Vec<Declared>,
    rules: BTreeMap<String, BTreeMap<String, Rule>>,
    paths: Paths,
    schemas: Vec<(String, RefOr<Schema>)>,
}

impl Table {
    /// Every declared route, in declaration order.
    pub fn routes(&self) -> &[Declared] {
        &self.routes
    }

    /// The rules of a path template (any parameter names), by method name.
    pub fn rules_of(&self, template: &str) -> Option<&BTreeMap<String, Rule>> {
        self.rules.get(&normalize_template(template))
    }

    /// The declared routes' OpenAPI paths.
    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    /// The schemas the declared routes' operations reference.
    pub fn schemas(&self) -> &[(String, RefOr<Schema>)] {
        &self.schemas
    }
}

/// The declaration's [`Table`].
///
/// # Panics
/// If a method on a path template is declared twice (a declaration error).
pub fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let all = api().merge(root());
        let routes: Vec<Declared> = all.declared().collect();
        let mut rules: BTreeMap<String, BTreeMap<String, Rule>> = BTreeMap::new();
        for route in &routes {
            let previous = rules
                .entry(normalize_template(&route.path))
                .or_default()
                .insert(route.method.to_string(), route.rule);
            assert!(
                previous.is_none(),
                "{} {} is declared twice",
                route.method,
                route.path
            );
        }
        Table {
            routes,
            rules,
            paths: all.paths,
            schemas: all.schemas,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_operation_is_a_declared_route_and_back() {
        let table = table();
        let mut documented = 0;
        for (path, item) in &table.paths().paths {
            for method in methods_of(item) {
                documented += 1;
                let rule = table
                    .rules_of(path)
                    .and_then(|rules| rules.get(method.as_str()));
                assert!(rule.is_some(), "{method} {path} is documented, not routed");
            }
        }
        let declared = table.routes().iter().filter(|r| r.documented).count();
        assert_eq!(documented, declared);
        assert!(table.routes().len() > declared, "the aliases are declared");
    }

    #[test]
    fn aliases_keep_the_rule_and_stay_out_of_the_document() {
        let table = table();
        let alias = table
            .routes()
            .iter()
            .find(|r| r.path == "/api/investors/{id}/gaids/add")
            .expect("the /investors alias is declared");
        assert_eq!(alias.rule, Rule::IssuerOrManager);
        assert!(!alias.documented);
        assert!(!table.paths().paths.contains_key(&alias.path));
    }
}
