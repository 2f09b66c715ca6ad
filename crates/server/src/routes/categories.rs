//! Categories and their registered users.

use amphora_core::category::{CategoryDescription, CategoryName};
use amphora_core::FieldError;
use amphora_store::Category;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::access::Rule;
use crate::error::ApiError;
use crate::extract::{self, AuthIssuer, Path};
use crate::router::Routes;
use crate::routes::no_content;
use crate::state::AppState;

/// The category routes: managers read only.
pub fn routes() -> Routes {
    Routes::new()
        .add(Rule::IssuerOrManager, routes!(list))
        .add(Rule::IssuerOnly, routes!(add))
        .add(Rule::IssuerOrManager, routes!(details))
        .add(Rule::IssuerOnly, routes!(edit))
        .add(Rule::IssuerOnly, routes!(delete))
        .add(Rule::IssuerOnly, routes!(add_registered_user))
        .add(Rule::IssuerOnly, routes!(remove_registered_user))
        .add(Rule::IssuerOnly, routes!(add_asset))
        .add(Rule::IssuerOnly, routes!(remove_asset))
}

/// A category as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryDto {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Ids of the registered users in the category.
    pub registered_users: Vec<i64>,
    /// Legacy key: the same list as `registered_users`.
    pub investors: Vec<i64>,
    /// UUIDs of the assets that require the category.
    pub assets: Vec<String>,
}

impl CategoryDto {
    fn new(category: Category, assets: Vec<String>) -> Self {
        CategoryDto {
            id: category.id,
            name: category.name,
            description: Some(category.description),
            investors: category.registered_users.clone(),
            registered_users: category.registered_users,
            assets,
        }
    }
}

/// The categories as the API shows them, with the assets that require each.
async fn dtos(
    state: &AppState,
    issuer_id: i64,
    categories: Vec<Category>,
) -> Result<Vec<CategoryDto>, ApiError> {
    let mut assets = state.store().category_assets(issuer_id).await?;
    Ok(categories
        .into_iter()
        .map(|category| {
            let required_by = assets.remove(&category.id).unwrap_or_default();
            CategoryDto::new(category, required_by)
        })
        .collect())
}

/// One category as the API shows it.
async fn dto(
    state: &AppState,
    issuer_id: i64,
    category: Category,
) -> Result<CategoryDto, ApiError> {
    let mut list = dtos(state, issuer_id, vec![category]).await?;
    list.pop()
        .ok_or_else(|| ApiError::Internal("category vanished".into()))
}

/// `POST /categories/add` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CategoryAdd {
    /// Name.
    #[schema(schema_with = crate::schema::category_name)]
    pub name: String,
    /// Description.
    #[serde(default)]
    #[schema(schema_with = crate::schema::category_description)]
    pub description: Option<String>,
}

/// `PUT /categories/{id}/edit` body; absent fields keep their value.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CategoryEdit {
    /// New name.
    #[serde(default)]
    #[schema(schema_with = crate::schema::category_name_edit)]
    pub name: Option<String>,
    /// New description.
    #[serde(default)]
    #[schema(schema_with = crate::schema::category_description)]
    pub description: Option<String>,
}

/// Validates name and description together so both errors are reported at once.
fn validate(
    name: Option<&str>,
    description: Option<&str>,
) -> Result<(Option<String>, Option<String>), ApiError> {
    let name = name.map(CategoryName::parse).transpose();
    let description = description.map(CategoryDescription::parse).transpose();
    let errors: Vec<FieldError> = [name.as_ref().err(), description.as_ref().err()]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    if !errors.is_empty() {
        return Err(ApiError::Fields(errors));
    }
    Ok((
        name.ok().flatten().map(CategoryName::into_string),
        description
            .ok()
            .flatten()
            .map(CategoryDescription::into_string),
    ))
}

/// The caller's categories.
#[utoipa::path(get, path = "/api/categories", tag = "categories",
    security(("token" = [])),
    responses(
        (status = 200, description = "Categories", body = [CategoryDto]),
        (status = 401, description = "Missing, invalid or expired token"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    auth: AuthIssuer,
) -> Result<Json<Vec<CategoryDto>>, ApiError> {
    let categories = state.store().categories(auth.issuer.id).await?;
    Ok(Json(dtos(&state, auth.issuer.id, categories).await?))
}

/// Creates a category.
#[utoipa::path(post, path = "/api/categories/add", tag = "categories",
    security(("token" = [])),
    request_body = CategoryAdd,
    responses(
        (status = 201, description = "Created", body = CategoryDto),
        (status = 400, description = "Invalid name or description"),
        (status = 401, description = "Missing, invalid or expired token"),
    ))]
pub async fn add(
    State(state): State<AppState>,
    auth: AuthIssuer,
    extract::Json(body): extract::Json<CategoryAdd>,
) -> Result<(StatusCode, Json<CategoryDto>), ApiError> {
    let (name, description) = validate(
        Some(&body.name),
        Some(body.description.as_deref().unwrap_or("")),
    )?;
    let category = state
        .store()
        .create_category(
            auth.issuer.id,
            name.as_deref().unwrap_or_default(),
            description.as_deref().unwrap_or_default(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(dto(&state, auth.issuer.id, category).await?),
    ))
}

/// One category.
#[utoipa::path(get, path = "/api/categories/{id}", tag = "categories",
    security(("token" = [])),
    params(("id" = i64, Path, description = "Category id")),
    responses(
        (status = 200, description = "The category", body = CategoryDto),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such category"),
    ))]
pub async fn details(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(id): Path<i64>,
) -> Result<Json<CategoryDto>, ApiError> {
    let category = state
        .store()
        .category(auth.issuer.id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(dto(&state, auth.issuer.id, category).await?))
}

/// Changes a category's name and/or description.
#[utoipa::path(put, path = "/api/categories/{id}/edit", tag = "categories",
    security(("token" = [])),
    params(("id" = i64, Path, description = "Category id")),
    request_body = CategoryEdit,
    responses(
        (status = 200, description = "The updated category", body = CategoryDto),
        (status = 400, description = "Invalid name or description"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such category"),
    ))]
pub async fn edit(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(id): Path<i64>,
    extract::Json(body): extract::Json<CategoryEdit>,
) -> Result<Json<CategoryDto>, ApiError> {
    let (name, description) = validate(body.name.as_deref(), body.description.as_deref())?;
    let category = state
        .store()
        .update_category(auth.issuer.id, id, name.as_deref(), description.as_deref())
        .await?;
    Ok(Json(dto(&state, auth.issuer.id, category).await?))
}

/// Deletes a category.
#[utoipa::path(delete, path = "/api/categories/{id}/delete", tag = "categories",
    security(("token" = [])),
    params(("id" = i64, Path, description = "Category id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such category"),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    state.store().delete_category(auth.issuer.id, id).await?;
    Ok(no_content())
}

/// Puts a registered user in a category.
#[utoipa::path(put, path = "/api/categories/{id}/registered_users/{user_id}/add", tag = "categories",
    security(("token" = [])),
    params(("id" = i64, Path, description = "Category id"),
           ("user_id" = i64, Path, description = "Registered user id")),
    responses(
        (status = 200, description = "The updated category", body = CategoryDto),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such category or registered user"),
    ))]
pub async fn add_registered_user(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path((id, user_id)): Path<(i64, i64)>,
) -> Result<Json<CategoryDto>, ApiError> {
    let category = state
        .store()
        .add_category_registered_user(auth.issuer.id, id, user_id)
        .await?;
    Ok(Json(dto(&state, auth.issuer.id, category).await?))
}

/// Takes a registered user out of a category.
#[utoipa::path(put, path = "/api/categories/{id}/registered_users/{user_id}/remove", tag = "categories",
    security(("token" = [])),
    params(("id" = i64, Path, description = "Category id"),
           ("user_id" = i64, Path, description = "Registered user id")),
    responses(
        (status = 200, description = "The updated category", body = CategoryDto),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such category or registered user"),
    ))]
pub async fn remove_registered_user(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path((id, user_id)): Path<(i64, i64)>,
) -> Result<Json<CategoryDto>, ApiError> {
    let category = state
        .store()
        .remove_category_registered_user(auth.issuer.id, id, user_id)
        .await?;
    Ok(Json(dto(&state, auth.issuer.id, category).await?))
}

/// Makes an asset require the category (adds it to the asset's `requirements`).
#[utoipa::path(put, path = "/api/categories/{id}/assets/{asset_uuid}/add", tag = "categories",
    security(("token" = [])),
    params(("id" = i64, Path, description = "Category id"),
           ("asset_uuid" = String, Path, description = "Asset UUID")),
    responses(
        (status = 200, description = "The updated category", body = CategoryDto),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such category or asset"),
    ))]
pub async fn add_asset(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path((id, asset_uuid)): Path<(i64, String)>,
) -> Result<Json<CategoryDto>, ApiError> {
    state
        .store()
        .add_asset_category(auth.issuer.id, &asset_uuid, id)
        .await?;
    details(State(state), auth, Path(id)).await
}

/// Stops an asset requiring the category.
#[utoipa::path(put, path = "/api/categories/{id}/assets/{asset_uuid}/remove", tag = "categories",
    security(("token" = [])),
    params(("id" = i64, Path, description = "Category id"),
           ("asset_uuid" = String, Path, description = "Asset UUID")),
    responses(
        (status = 200, description = "The updated category", body = CategoryDto),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such category or asset"),
    ))]
pub async fn remove_asset(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path((id, asset_uuid)): Path<(i64, String)>,
) -> Result<Json<CategoryDto>, ApiError> {
    state
        .store()
        .remove_asset_category(auth.issuer.id, &asset_uuid, id)
        .await?;
    details(State(state), auth, Path(id)).await
}
