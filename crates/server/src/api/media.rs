//! `/workspaces/{id}/media`: uploads are the raw request body (its
//! `Content-Type` is kept), named by `?filename=`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use steward_core::ids::{MediaId, WorkspaceId};
use steward_core::messages::problem;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::parse_id;
use super::views::{MediaList, MediaView};
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiQuery, ListQuery};
use crate::services::Ctx;
use crate::services::media::{self, MAX_BYTES};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_media, upload_media))
        .routes(routes!(download_media, delete_media))
        .layer(DefaultBodyLimit::max(MAX_BYTES))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// The file's name (no folders).
    pub filename: Option<String>,
}

#[utoipa::path(get, path = "/workspaces/{id}/media", tag = "media", extensions(("x-permission" = json!("workspaces:read"))), params(("id" = String, Path), ListQuery),
    responses((status = 200, body = MediaList), (status = 404, body = Problem)))]
async fn list_media(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<MediaList>> {
    let ws: WorkspaceId = parse_id(&id, "workspace")?;
    let (rows, next) = media::list(&s.db, &ctx, &ws, &q.page()?).await?;
    Ok(Json(MediaList::new(&rows, next)))
}

/// Upload a file (workspace admins), at most 25 MiB; its bytes count toward storage.
#[utoipa::path(post, path = "/workspaces/{id}/media", tag = "media", extensions(("x-permission" = json!("workspaces:write"))), params(("id" = String, Path), UploadParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = MediaView), (status = 413, body = Problem), (status = 422, body = Problem)))]
async fn upload_media(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<UploadParams>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<(StatusCode, Json<MediaView>)> {
    let ws: WorkspaceId = parse_id(&id, "workspace")?;
    let body = body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            steward_core::Error::new(413, &problem::PAYLOAD_TOO_LARGE, &[("what", &"upload"), ("limit", &"25 MiB")])
        } else {
            steward_core::Error::bad_request(&problem::UNREADABLE_BODY, &[("what", &"upload")])
        }
    })?;
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let m = media::upload(&s.db, &ctx, &s.files, &ws, q.filename.as_deref(), ct, &body).await?;
    Ok((StatusCode::CREATED, Json(MediaView::from(&m))))
}

/// The file itself, always as a download (never rendered in Steward's origin).
#[utoipa::path(get, path = "/workspaces/{id}/media/{media_id}", tag = "media", extensions(("x-permission" = json!("workspaces:read"))), params(("id" = String, Path), ("media_id" = String, Path)),
    responses((status = 200, description = "the file's bytes"), (status = 404, body = Problem)))]
async fn download_media(
    State(s): State<AppState>,
    ctx: Ctx,
    Path((id, mid)): Path<(String, String)>,
) -> ApiResult<Response> {
    let ws: WorkspaceId = parse_id(&id, "workspace")?;
    let mid: MediaId = parse_id(&mid, "media file")?;
    let (m, bytes) = media::download(&s.db, &ctx, &s.files, &ws, &mid).await?;
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&m.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}\"",
        m.filename.replace(|c: char| !c.is_ascii() || c == '"', "_")
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox; default-src 'none'"));
    Ok(res)
}

#[utoipa::path(delete, path = "/workspaces/{id}/media/{media_id}", tag = "media", extensions(("x-permission" = json!("workspaces:write"))), params(("id" = String, Path), ("media_id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
async fn delete_media(
    State(s): State<AppState>,
    ctx: Ctx,
    Path((id, mid)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let ws: WorkspaceId = parse_id(&id, "workspace")?;
    let mid: MediaId = parse_id(&mid, "media file")?;
    media::delete(&s.db, &ctx, &s.files, &ws, &mid).await?;
    Ok(StatusCode::NO_CONTENT)
}
