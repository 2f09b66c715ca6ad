//! Issuer account management for `amphora admin issuer …` (and the first start).

use amphora_core::account::{check_new_password, Username};
use amphora_store::{Issuer, Store};

use crate::credentials::hash_password_blocking;
use crate::platform::ServerError;

/// Creates an issuer account after checking the username and password rules.
pub async fn add_issuer(
    store: &Store,
    username: &str,
    password: &str,
) -> Result<Issuer, ServerError> {
    let username = Username::parse(username).map_err(|e| ServerError::Invalid(e.message))?;
    check_new_password(password).map_err(|e| ServerError::Invalid(e.message))?;
    let hash = hash_password_blocking(password.to_string()).await?;
    Ok(store.create_issuer(username.as_str(), &hash).await?)
}

/// Sets an issuer's password (revoking its tokens).
pub async fn set_issuer_password(
    store: &Store,
    username: &str,
    password: &str,
) -> Result<(), ServerError> {
    check_new_password(password).map_err(|e| ServerError::Invalid(e.message))?;
    let issuer = store
        .issuer_by_username(username)
        .await?
        .ok_or_else(|| ServerError::Invalid(format!("no issuer named '{username}'")))?;
    let hash = hash_password_blocking(password.to_string()).await?;
    store.set_issuer_password(issuer.id, &hash).await?;
    Ok(())
}
