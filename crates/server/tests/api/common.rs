//! Test harness: an app on a fresh database and a fixed platform key.
//!
//! The database is SQLite, or, with `AMPHORA_API_TEST_ENGINE=postgres`, a fresh schema of the
//! PostgreSQL at `AMPHORA_TEST_DATABASE_URL` (dropped afterwards): `.ci/run` runs the whole
//! suite once on each engine.

use std::time::Duration;

use amphora_core::Network;
use amphora_cosigner::key::lwk_network;
use amphora_cosigner::PlatformKey;
use amphora_server::config::{RegistrySettings, RegistryTarget, SecuritySettings};
use amphora_server::credentials::hash_password;
use amphora_server::login_limit::LoginLimits;
use amphora_server::{app, AppState};
use amphora_store::{IssuanceTx, NewAsset, Store};
use amphora_testenv::pg::PgSchema;
use amphora_testenv::store as fixtures;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use lwk_signer::SwSigner;
use lwk_wollet::amp2::Amp2;
use serde_json::Value;
use sqlx::Connection;
use tower::ServiceExt;

/// The platform key of every test app (BIP39 test mnemonic).
pub const PLATFORM_MNEMONIC: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
/// A confidential address of the regtest network (from the reference transcript).
pub const REGTEST_ADDRESS: &str = "el1qq0fahuqvd58w9heh0e2z06qfp7tqhy4nzf3lkysmdyudfaw79t5655qxlgde6qkeqqat38d697t0x2enha8lud5s0gu09h93d";
/// Password of the issuers the harness creates.
pub const PASSWORD: &str = "correct horse battery";

/// A response, decoded.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub raw: Vec<u8>,
}

/// A router on a fresh database.
pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    _dir: tempfile::TempDir,
    /// The PostgreSQL schema of the app's database, dropped with the app (the store's pool is
    /// not closed first: see [`PgSchema`]).
    postgres_schema: Option<PgSchema>,
}

impl TestApp {
    pub async fn new() -> TestApp {
        TestApp::with_token_lifetime(Duration::from_secs(3600)).await
    }

    pub async fn with_token_lifetime(lifetime: Duration) -> TestApp {
        TestApp::with_limits(lifetime, LoginLimits::default()).await
    }

    /// An app on the engine of this run (see the module doc) with these token lifetime and
    /// failed-login limits.
    pub async fn with_limits(lifetime: Duration, limits: LoginLimits) -> TestApp {
        if engine_is_postgres() {
            return TestApp::on_postgres(lifetime, limits).await;
        }
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("amphora.db").display());
        let store = Store::connect(&url).await.unwrap();
        TestApp::on_store(store, lifetime, limits, dir, None).await
    }

    /// An app on PostgreSQL (`AMPHORA_TEST_DATABASE_URL`, own schema dropped afterwards).
    /// Panics if PostgreSQL is unreachable.
    pub async fn postgres() -> TestApp {
        TestApp::on_postgres(Duration::from_secs(3600), LoginLimits::default()).await
    }

    /// An app on a fresh schema of the test PostgreSQL. Panics if it is unreachable.
    async fn on_postgres(lifetime: Duration, limits: LoginLimits) -> TestApp {
        let schema = PgSchema::create("api_test").await;
        // A small pool: the whole suite runs in parallel against one server.
        let pool = amphora_store::PoolSettings {
            max_connections: 4,
            statement_timeout: Some(Duration::from_secs(60)),
            ..amphora_store::PoolSettings::default()
        };
        let store = Store::connect_postgres_with(schema.options(), &pool)
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        TestApp::on_store(store, lifetime, limits, dir, Some(schema)).await
    }

    async fn on_store(
        store: Store,
        lifetime: Duration,
        limits: LoginLimits,
        dir: tempfile::TempDir,
        postgres_schema: Option<PgSchema>,
    ) -> TestApp {
        store.migrate().await.unwrap();
        let key = PlatformKey::from_mnemonic(PLATFORM_MNEMONIC, Network::LiquidRegtest).unwrap();
        // Domain proofs are never fetched from the internet by the tests: the registry tests
        // point the proof base at their own local server.
        let registry = RegistrySettings {
            target: RegistryTarget::Own,
            proof_base_url: "http://127.0.0.1:9/{domain}".to_string(),
        };
        let state =
            AppState::with_login_limits(store, key, Network::LiquidRegtest, lifetime, limits)
                .with_registry(registry);
        TestApp {
            router: app(state.clone()),
            state,
            _dir: dir,
            postgres_schema,
        }
    }

    /// Sends a request; `body` is sent verbatim with `content-type: application/json`.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header("authorization", format!("token {token}"));
        }
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let request = request
            .body(Body::from(body.unwrap_or_default().to_string()))
            .unwrap();
        self.call(request).await
    }

    pub async fn call(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        // A Server-Sent Events stream never ends: it is answered by its status and headers
        // (the events tests read such bodies themselves).
        let is_stream = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if is_stream {
            return Reply {
                status,
                headers,
                body: Value::Null,
                raw: Vec::new(),
            };
        }
        let raw = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        let is_csv = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/csv"));
        let body = if raw.is_empty() || is_csv {
            Value::Null
        } else {
            serde_json::from_slice(&raw).unwrap_or_else(|_| {
                panic!(
                    "non-JSON body ({status}): {}",
                    String::from_utf8_lossy(&raw)
                )
            })
        };
        Reply {
            status,
            headers,
            body,
            raw,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.send(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: &str) -> Reply {
        self.send(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn put(&self, path: &str, token: &str, body: Option<&str>) -> Reply {
        self.send(Method::PUT, path, Some(token), body).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Reply {
        self.send(Method::DELETE, path, Some(token), None).await
    }

    /// The same app with these registry settings.
    pub fn with_registry(mut self, registry: RegistrySettings) -> TestApp {
        self.state = self.state.clone().with_registry(registry);
        self.router = app(self.state.clone());
        self
    }

    /// The same app with these security settings (trusted proxies, verification cap, AMP2
    /// rate limits, outbound policy), changed from the liquidregtest defaults by `change`.
    pub fn with_security(mut self, change: impl FnOnce(&mut SecuritySettings)) -> TestApp {
        let mut settings = SecuritySettings::defaults_for(Network::LiquidRegtest);
        change(&mut settings);
        self.state = self.state.clone().with_security(settings).unwrap();
        self.router = app(self.state.clone());
        self
    }

    /// Runs `sql` on this app's database over a connection of its own, past the store (to
    /// check what the database itself allows); the rows it affected.
    pub async fn execute_raw(&self, sql: &str) -> Result<u64, sqlx::Error> {
        match &self.postgres_schema {
            Some(schema) => {
                let mut conn = sqlx::PgConnection::connect_with(&schema.options()).await?;
                Ok(sqlx::query(sql).execute(&mut conn).await?.rows_affected())
            }
            None => {
                let url = format!("sqlite:{}", self._dir.path().join("amphora.db").display());
                let mut conn = sqlx::SqliteConnection::connect(&url).await?;
                Ok(sqlx::query(sql).execute(&mut conn).await?.rows_affected())
            }
        }
    }

    /// A second store on this app's database (the SQLite file, or the PostgreSQL schema) with
    /// its own connections: what another replica of the platform would open.
    pub async fn second_store(&self) -> Store {
        match &self.postgres_schema {
            Some(schema) => {
                let options = schema.options();
                let pool = amphora_store::PoolSettings {
                    max_connections: 4,
                    ..amphora_store::PoolSettings::default()
                };
                Store::connect_postgres_with(options, &pool).await.unwrap()
            }
            None => {
                let url = format!("sqlite:{}", self._dir.path().join("amphora.db").display());
                Store::connect(&url).await.unwrap()
            }
        }
    }

    /// Sends `request` as if it came over TCP from `peer` (as `amphora serve` sees it).
    pub async fn call_from(&self, peer: &str, mut request: Request<Body>) -> Reply {
        let peer: std::net::SocketAddr = peer.parse().unwrap();
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
        self.call(request).await
    }

    /// The same app connected to an Elements node.
    pub fn with_node(mut self, node: amphora_rpc::ElementsRpc) -> TestApp {
        self.state = self.state.clone().with_node(node);
        self.router = app(self.state.clone());
        self
    }

    /// The same app with confirm calls waiting at most `wait` for the chain index.
    pub fn with_index_wait(mut self, wait: std::time::Duration) -> TestApp {
        self.state = self.state.clone().with_index_wait(wait);
        self.router = app(self.state.clone());
        self
    }

    /// Starts a chain follower on this app's store and `node`, polling every `poll_interval`,
    /// and serves its status (health, the request-side catch-up): the handle keeps it running.
    pub fn with_follower(
        &mut self,
        node: amphora_rpc::ElementsRpc,
        poll_interval: std::time::Duration,
    ) -> amphora_follower::FollowerHandle {
        let follower = amphora_follower::Follower::new(
            self.state.store().clone(),
            node,
            amphora_follower::FollowerConfig {
                poll_interval,
                ..amphora_follower::FollowerConfig::default()
            },
        )
        .spawn();
        self.state = self.state.clone().with_follower(follower.subscribe());
        self.router = app(self.state.clone());
        follower
    }

    /// Records an issued asset of the issuer directly in the store (no node involved) and
    /// returns its uuid.
    pub async fn stored_asset(&self, issuer_id: i64) -> String {
        self.stored_asset_with_id(issuer_id, &"ab".repeat(32)).await
    }

    /// [`TestApp::stored_asset`] with the asset id `asset_id` (hex), e.g. an asset a test node
    /// issued.
    pub async fn stored_asset_with_id(&self, issuer_id: i64, asset_id: &str) -> String {
        let uuid = uuid::Uuid::new_v4().to_string();
        let asset = NewAsset {
            name: "Stored asset".into(),
            destination_address: REGTEST_ADDRESS.into(),
            ticker: "STORE".into(),
            pubkey: amphora_testenv::ISSUER_PUBKEY.into(),
            is_confidential: false,
            ..fixtures::non_reissuable(fixtures::new_asset(issuer_id, &uuid))
        };
        let issuance = IssuanceTx {
            asset_id: asset_id.to_string(),
            tx_hex: "00".into(),
            ..fixtures::without_token(fixtures::issuance_tx(0, &fixtures::txid(0xcd)))
        };
        fixtures::issued_asset(self.state.store(), &asset, &issuance).await;
        uuid
    }

    /// Creates an issuer account (directly in the store) and returns a token for it obtained
    /// through the API.
    pub async fn issuer(&self, username: &str) -> String {
        let hash = hash_password(PASSWORD).unwrap();
        self.state
            .store()
            .create_issuer(username, &hash)
            .await
            .unwrap();
        let reply = self
            .send(
                Method::POST,
                "/api/user/obtain_token",
                None,
                Some(&format!(
                    r#"{{"username": "{username}", "password": "{PASSWORD}"}}"#
                )),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        reply.body["token"].as_str().unwrap().to_string()
    }

    /// The AMP2 client for this platform (its account xpub; URL unused by the router tests).
    pub fn amp2(&self) -> Amp2 {
        let xpub = self.state.key().xpub_info().keyorigin_xpub;
        Amp2::new(xpub, "http://127.0.0.1:1/amp2".to_string()).unwrap()
    }

    /// Registers a fresh AMP2 wallet (random software signer) and returns its GAID.
    pub async fn registered_gaid(&self) -> String {
        let (signer, _) =
            SwSigner::random_with_network(lwk_network(Network::LiquidRegtest)).unwrap();
        let descriptor = self.amp2().elip153_from_signer(&signer, 0).unwrap();
        let body = serde_json::json!({ "descriptor": descriptor.to_string() }).to_string();
        let reply = self
            .send(Method::POST, "/amp2/wallets/register", None, Some(&body))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        reply.body["gaid"].as_str().unwrap().to_string()
    }

    /// The `(method, path, status)` of every entry of the issuer's audit log
    /// (`GET /api/audit`), newest first.
    pub async fn audited(&self, issuer_token: &str) -> Vec<(String, String, i64)> {
        let reply = self.get("/api/audit?limit=500", issuer_token).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        reply.body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["method"].as_str().unwrap().to_string(),
                    e["path"].as_str().unwrap().to_string(),
                    e["status"].as_i64().unwrap(),
                )
            })
            .collect()
    }

    /// Logs in through the API; the reply as it is.
    pub async fn login(&self, username: &str, password: &str) -> Reply {
        let body = serde_json::json!({ "username": username, "password": password }).to_string();
        self.send(Method::POST, "/api/user/obtain_token", None, Some(&body))
            .await
    }

    /// Creates a manager of the issuer holding `issuer_token` (password [`PASSWORD`]), unlocks
    /// it, and returns its id and a token obtained through the API.
    pub async fn manager(&self, issuer_token: &str, username: &str) -> (i64, String) {
        let body = serde_json::json!({ "username": username, "password": PASSWORD }).to_string();
        let reply = self.post("/api/managers/create", issuer_token, &body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        let id = reply.body["id"].as_i64().unwrap();
        let reply = self
            .put(&format!("/api/managers/{id}/unlock"), issuer_token, None)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        let reply = self.login(username, PASSWORD).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        (id, reply.body["token"].as_str().unwrap().to_string())
    }

    /// Adds a registered user and returns its id.
    pub async fn registered_user(&self, token: &str, name: &str) -> i64 {
        let reply = self
            .post(
                "/api/registered_users/add",
                token,
                &format!(r#"{{"name": "{name}", "is_company": false}}"#),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        reply.body["id"].as_i64().unwrap()
    }
}

/// Whether this run's API tests use PostgreSQL (`AMPHORA_API_TEST_ENGINE=postgres`).
pub fn engine_is_postgres() -> bool {
    match std::env::var("AMPHORA_API_TEST_ENGINE").as_deref() {
        Ok("postgres") => true,
        Ok("sqlite") | Err(_) => false,
        Ok(other) => panic!("AMPHORA_API_TEST_ENGINE must be sqlite or postgres, not {other:?}"),
    }
}

/// A well-formed GAID (valid checksum) of no registered wallet.
pub fn unregistered_gaid() -> String {
    amphora_core::gaid::Gaid::from_descriptor("not a registered descriptor").to_string()
}
