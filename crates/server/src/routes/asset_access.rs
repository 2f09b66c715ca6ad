//! "The caller's asset or 404", written once for every route under `/api/assets/{asset_uuid}`.

use amphora_store::Asset;

use crate::error::ApiError;
use crate::extract::AuthIssuer;
use crate::state::AppState;

/// The caller's issued, not deleted asset `asset_uuid`; 404 for another issuer's, a deleted or
/// an unissued one (a manager's grants are checked by the access rule before the handler).
pub(crate) async fn visible_asset(
    state: &AppState,
    auth: &AuthIssuer,
    asset_uuid: &str,
) -> Result<Asset, ApiError> {
    state
        .store()
        .asset(auth.issuer.id, asset_uuid)
        .await?
        .ok_or(ApiError::NotFound)
}
