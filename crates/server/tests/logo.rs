//! ORG-5 over HTTP: the logo is checked by content, cropped to 200×200 and
//! served safely; bad files get clear problems.

mod common;

use axum::http::Method;
use common::{Auth, TestApp};

fn png(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, _| {
        if x < width / 2 { image::Rgb([200, 0, 0]) } else { image::Rgb([0, 0, 200]) }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

async fn put(app: &TestApp, auth: Auth<'_>, query: &str, body: &[u8], ct: &str) -> common::Resp {
    use axum::body::Body;
    let mut req = axum::http::Request::builder()
        .method(Method::PUT)
        .uri(format!("/api/v1/organization/logo{query}"))
        .header("content-type", ct);
    if let Auth::Bearer(t) = auth {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    app.send(req.body(Body::from(body.to_vec())).unwrap()).await
}

#[tokio::test]
async fn logo_upload_crop_serve_and_refusals() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let admin = Auth::Bearer(&org.admin_token);

        // A wide image, cropped from its right half: the stored logo is blue.
        let r = put(&app, admin, "?crop_x=600&crop_y=0&crop_size=400", &png(1000, 400), "image/png").await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!((r.json["content_type"].as_str(), r.json["width"].as_u64()), (Some("image/png"), Some(200)));
        let got = app.get("/api/v1/organization/logo", admin).await;
        assert_eq!(got.status, 200);
        assert_eq!(got.headers["content-type"], "image/png");
        assert_eq!(got.headers["x-content-type-options"], "nosniff");
        assert!(got.headers["content-security-policy"].to_str().unwrap().contains("sandbox"));
        let stored = put_bytes_of(&app, admin).await;
        let img = image::load_from_memory(&stored).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (200, 200));
        assert_eq!(img.get_pixel(100, 100).0, [0, 0, 200]);

        // Refusals, each with its own code; the stored logo stays.
        let big = vec![0x89u8; 3 * 1024 * 1024];
        let r = put(&app, admin, "", &big, "image/png").await;
        assert_eq!((r.status, r.code()), (413, "logo_too_large"));
        let r = put(&app, admin, "", b"just some text, not an image", "image/png").await;
        assert_eq!((r.status, r.code()), (415, "unsupported_logo_type"));
        let mut broken = png(50, 50);
        broken.truncate(60);
        let r = put(&app, admin, "", &broken, "image/png").await;
        assert_eq!((r.status, r.code()), (422, "logo_unreadable"));
        let evil = br#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><script>alert(1)</script><rect width="10" height="10"/></svg>"#;
        let r = put(&app, admin, "", evil, "image/svg+xml").await;
        assert_eq!((r.status, r.code()), (422, "unsafe_svg"));
        let r = put(&app, admin, "?crop_x=1", &png(10, 10), "image/png").await;
        assert_eq!((r.status, r.json["errors"][0]["field"].as_str()), (422, Some("crop")));
        assert_eq!(put_bytes_of(&app, admin).await, stored, "refusals change nothing");

        // A clean SVG is sanitized and served as SVG that can't run anything.
        let ok = br#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 20 10"><metadata>x</metadata><circle cx="5" cy="5" r="4" fill="red"/></svg>"#;
        let r = put(&app, admin, "", ok, "image/svg+xml").await;
        assert_eq!((r.status, r.json["content_type"].as_str()), (200, Some("image/svg+xml")));
        let got = app.get("/api/v1/organization/logo", admin).await;
        assert_eq!(got.headers["content-type"], "image/svg+xml");
        assert!(got.text.contains("width=\"200\"") && !got.text.contains("metadata"));

        // Members and read keys can't change it; other organizations don't see it.
        let r = put(&app, Auth::Bearer(&org.member_token), "", &png(10, 10), "image/png").await;
        assert_eq!(r.status, 403);
        let r = put(&app, Auth::Bearer(&org.read_key), "", &png(10, 10), "image/png").await;
        assert_eq!(r.status, 403);
        let other = app.org("globex").await;
        assert_eq!(app.get("/api/v1/organization/logo", Auth::Bearer(&other.admin_token)).await.status, 404);

        assert_eq!(app.delete("/api/v1/organization/logo", admin).await.status, 204);
        assert_eq!(app.get("/api/v1/organization/logo", admin).await.status, 404);
        assert_eq!(app.delete("/api/v1/organization/logo", admin).await.status, 404);
        let actions = app.actions(&org.id).await;
        assert!(
            actions.contains(&"organization.logo_updated".into())
                && actions.contains(&"organization.logo_removed".into())
        );
    }
}

async fn put_bytes_of(app: &TestApp, auth: Auth<'_>) -> Vec<u8> {
    use axum::body::Body;
    let Auth::Bearer(t) = auth else { panic!("bearer") };
    let req = axum::http::Request::builder()
        .uri("/api/v1/organization/logo")
        .header("authorization", format!("Bearer {t}"))
        .body(Body::empty())
        .unwrap();
    app.send(req).await.body
}
