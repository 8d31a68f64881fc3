//! The web console in a real browser (headless Chromium through chromedriver).
//! Skipped when Chromium is not installed, unless CI=true.

mod browser;

const PASSWORD: &str = "correct horse battery staple";

#[tokio::test]
async fn setup_page_creates_the_first_organization_in_a_real_browser() {
    let Some(b) = browser::start().await else { return };
    let setup_link = format!("/setup?token={}", b.setup_token);
    b.goto(&setup_link).await;
    assert_eq!(b.text("h1").await, "Set up Steward");
    b.screenshot("setup").await;

    b.fill("input[name=organization_name]", "Acme Agency").await;
    b.fill("input[name=admin_name]", "Ada").await;
    b.fill("input[name=admin_email]", "ada@acme.example").await;
    b.fill("input[name=admin_password]", PASSWORD).await;
    b.click("button[type=submit]").await;

    b.wait_text("h1", "Your organization is ready").await;
    assert_eq!(b.text("h1").await, "Your organization is ready");
    assert!(b.text("main").await.contains("Acme Agency is ready"));
    assert_eq!(b.status().await, 201);
    // The new Super Admin is signed in: the session cookie works over plain
    // http://127.0.0.1 (no Secure flag, no __Host- prefix).
    let cookies = b.client.get_all_cookies().await.expect("read cookies");
    assert!(cookies.iter().any(|c| c.name() == "steward_session"), "{cookies:?}");
    b.screenshot("setup-done").await;

    // The link works once.
    b.goto(&setup_link).await;
    assert_eq!(b.text("h1").await, "Steward is already set up");
    assert!(!b.exists("form").await);
    b.close().await;
}

#[tokio::test]
async fn setup_page_explains_a_short_password_next_to_the_field() {
    let Some(b) = browser::start().await else { return };
    b.goto(&format!("/setup?token={}", b.setup_token)).await;
    b.fill("input[name=organization_name]", "Acme Agency").await;
    b.fill("input[name=admin_name]", "Ada").await;
    b.fill("input[name=admin_email]", "ada@acme.example").await;
    // The form is `novalidate`, so the browser sends it and the server decides.
    b.fill("input[name=admin_password]", "abc").await;
    b.click("button[type=submit]").await;

    b.wait_for(".field-error").await;
    assert_eq!(b.status().await, 422);
    assert_eq!(b.current_path().await, "/setup");
    let error = "input[name=admin_password][aria-invalid=true] + .field-error";
    assert_eq!(b.text(error).await, "Password is shorter than 15 characters. Make it at least 15 characters long.");
    // Only the password is flagged; the other answers are kept, the password is not.
    assert_eq!(b.client.find_all(fantoccini::Locator::Css(".field-error")).await.unwrap().len(), 1);
    assert_eq!(b.value("input[name=organization_name]").await, "Acme Agency");
    assert_eq!(b.value("input[name=admin_name]").await, "Ada");
    assert_eq!(b.value("input[name=admin_email]").await, "ada@acme.example");
    assert_eq!(b.value("input[name=admin_password]").await, "");
    b.close().await;
}

/// A PNG of `w`×`h`, left half red and right half blue, written to `dir`.
fn png_file(dir: &std::path::Path, name: &str, w: u32, h: u32) -> String {
    let img =
        image::RgbImage::from_fn(
            w,
            h,
            |x, _| if x < w / 2 { image::Rgb([220, 20, 20]) } else { image::Rgb([20, 20, 220]) },
        );
    let path = dir.join(name);
    img.save(&path).expect("write png");
    path.display().to_string()
}

async fn sign_in(b: &browser::Browser, email: &str) {
    b.goto("/login").await;
    b.fill("input[name=email]", email).await;
    b.fill("input[name=password]", PASSWORD).await;
    b.click("button[type=submit]").await;
    b.wait_for(".usermenu").await;
}

async fn sign_out(b: &browser::Browser) {
    b.click(".usermenu button[type=submit]").await;
    // Not just an email field: the page signed out of may have one too (People's invite dialog).
    wait_notice(b, "You are signed out").await;
    b.wait_for("input[name=email]").await;
}

/// Waits until the success notice says `words` (the previous page may show another notice).
async fn wait_notice(b: &browser::Browser, words: &str) {
    for _ in 0..100 {
        if b.text_now(".notice.success").await.contains(words) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no notice saying {words:?} on {}", b.current_path().await);
}

/// Opens a workspace's action menu and one of its dialogs.
async fn open_dialog(b: &browser::Browser, id: &str, action: &str) {
    b.click(".row-actions details.menu summary").await;
    b.click(&format!("button[data-dialog={action}-{id}]")).await;
    b.wait_for(&format!("dialog#{action}-{id}[open]")).await;
}

/// The guide, clicked through: details, logo, workspaces and their lifecycle,
/// people, and a member locked out by a suspension.
#[tokio::test]
async fn super_admin_walks_the_guide_in_a_real_browser() {
    let Some(b) = browser::start().await else { return };
    let files = tempfile::tempdir().unwrap();

    // Setup signs the first Super Admin in.
    b.goto(&format!("/setup?token={}", b.setup_token)).await;
    b.fill("input[name=organization_name]", "Acme Agency").await;
    b.fill("input[name=admin_name]", "Ada Admin").await;
    b.fill("input[name=admin_email]", "ada@acme.example").await;
    b.fill("input[name=admin_password]", PASSWORD).await;
    b.click("button[type=submit]").await;
    b.wait_text("h1", "Your organization is ready").await;

    // Dashboard.
    b.goto("/").await;
    b.wait_for(".tiles").await;
    assert_eq!(b.current_path().await, "/settings/organization");
    assert_eq!(b.text("[data-metric=total_users]").await, "1");
    b.screenshot("dashboard").await;
    // Readable on a phone: the navigation moves above the content.
    b.client.set_window_size(390, 844).await.unwrap();
    b.goto("/settings/organization").await;
    b.screenshot("dashboard-phone").await;
    b.client.set_window_size(1280, 900).await.unwrap();

    // Details: Edit → a bad website is explained next to the field → fixed → saved.
    b.goto("/settings/organization/details").await;
    b.click("a[href='/settings/organization/details?edit=1']").await;
    b.fill("input[name=name]", "Acme Agency Ltd").await;
    b.fill("input[name=website]", "acme.example").await;
    b.click("form[action='/settings/organization/details'] button[type=submit]").await;
    b.wait_for("input[name=website][aria-invalid=true] + .field-error").await;
    assert!(b.text("input[name=website] + .field-error").await.contains("https://example.com"));
    b.fill("input[name=website]", "https://acme.example").await;
    b.click("form[action='/settings/organization/details'] button[type=submit]").await;
    wait_notice(&b, "Changes saved").await;
    assert_eq!(b.text("#org-name").await, "Acme Agency Ltd", "the change is visible immediately");
    assert!(b.text(".brand").await.contains("Acme Agency Ltd"));

    // Logo: a 3 MB file and an SVG with a script are refused with a sentence; a PNG is cropped and shown.
    let big = files.path().join("big.png");
    std::fs::write(&big, vec![0x89u8; 3 * 1024 * 1024]).unwrap();
    let evil = files.path().join("evil.svg");
    std::fs::write(
        &evil,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><script>alert(1)</script></svg>"#,
    )
    .unwrap();
    let good = png_file(files.path(), "logo.png", 600, 300);
    for (file, expected) in [(big.display().to_string(), "larger than 2 MB"), (evil.display().to_string(), "script")] {
        b.click("button.logo-placeholder").await;
        b.wait_for("dialog#logo-dialog[open]").await;
        let input = b.client.find(fantoccini::Locator::Css("#logo-file")).await.unwrap();
        input.send_keys(&file).await.unwrap();
        b.click("#logo-upload").await;
        b.wait_for("#logo-error:not([hidden])").await;
        assert!(b.text("#logo-error").await.contains(expected), "{file}: {}", b.text("#logo-error").await);
        b.goto("/settings/organization/details").await;
    }
    b.click("button.logo-placeholder").await;
    b.wait_for("dialog#logo-dialog[open]").await;
    b.client.find(fantoccini::Locator::Css("#logo-file")).await.unwrap().send_keys(&good).await.unwrap();
    b.wait_for("#cropper:not([hidden])").await;
    b.screenshot("logo-crop").await;
    b.click("#logo-upload").await;
    wait_notice(&b, "Logo updated").await;
    assert!(b.exists("img#current-logo").await);
    assert!(b.exists(".topbar img.org-logo").await);
    b.screenshot("details").await;

    // Create a workspace: the slug follows the name.
    b.goto("/settings/organization/workspaces").await;
    assert!(b.text(".empty").await.contains("No workspaces yet"));
    b.click("a[href='/settings/organization/workspaces/new']").await;
    b.wait_for("input[name=name]").await;
    b.fill("input[name=name]", "Café Crème").await;
    assert_eq!(b.value("input[name=slug]").await, "cafe-creme");
    b.click("main form button[type=submit]").await;
    wait_notice(&b, "Workspace created").await;
    let path = b.current_path().await;
    let ws = path.rsplit('/').next().unwrap().to_owned();
    assert!(ws.starts_with("ws_"), "{path}");

    // Invite a member into it.
    b.goto("/settings/organization/people").await;
    b.click("button[data-dialog=invite-dialog]").await;
    b.fill("#invite-dialog input[name=email]", "max@acme.example").await;
    b.fill("#invite-dialog input[name=name]", "Max Member").await;
    b.click(&format!("#invite-dialog input[value={ws}]")).await;
    b.click("#invite-dialog button[type=submit]").await;
    b.wait_for("#invite-link").await;
    let link = b.value("#invite-link").await;
    b.screenshot("people").await;
    let invite_path =
        link.split_once("127.0.0.1").and_then(|(_, rest)| rest.split_once('/')).map(|(_, p)| format!("/{p}")).unwrap();
    sign_out(&b).await;
    b.goto(&invite_path).await;
    b.wait_path(&invite_path).await;
    b.fill("input[name=password]", PASSWORD).await;
    b.click("button[type=submit]").await;
    b.wait_text("h1", "Your account is active").await;

    // The member sees the workspace in their switcher.
    sign_in(&b, "max@acme.example").await;
    assert_eq!(b.current_path().await, "/w");
    assert!(b.text(".ws-list").await.contains("Café Crème"));
    b.screenshot("my-workspaces").await;
    b.goto("/settings/organization").await;
    assert!(b.text("main").await.contains("ada@acme.example"), "the org area says whom to ask");
    sign_out(&b).await;

    // Suspend with a reason.
    sign_in(&b, "ada@acme.example").await;
    b.goto(&format!("/settings/organization/workspaces/{ws}")).await;
    b.screenshot("workspace").await;
    open_dialog(&b, &ws, "suspend").await;
    assert!(b.text(&format!("dialog#suspend-{ws}")).await.contains("0 active campaigns will be paused"));
    b.fill(&format!("dialog#suspend-{ws} input[name=reason]"), "Invoice overdue").await;
    b.click(&format!("dialog#suspend-{ws} button[type=submit]")).await;
    wait_notice(&b, "suspended").await;
    assert!(b.text("h1 .badge").await.contains("Suspended"));
    b.goto("/settings/organization/workspaces").await;
    b.screenshot("workspaces").await;
    sign_out(&b).await;

    // The member is locked out, told why and whom to contact.
    sign_in(&b, "max@acme.example").await;
    b.goto(&format!("/w/{ws}")).await;
    assert_eq!(b.status().await, 403);
    let text = b.text("main").await;
    assert!(text.contains("Invoice overdue") && text.contains("ada@acme.example"), "{text}");
    b.screenshot("suspended").await;
    sign_out(&b).await;

    // Reactivate, archive, restore, delete with the typed slug.
    sign_in(&b, "ada@acme.example").await;
    b.goto(&format!("/settings/organization/workspaces/{ws}")).await;
    b.click(".row-actions details.menu summary").await;
    b.click(&format!("form[action='/settings/organization/workspaces/{ws}/reactivate'] button")).await;
    wait_notice(&b, "reactivated").await;
    assert!(b.text("h1 .badge").await.contains("Active"));
    open_dialog(&b, &ws, "archive").await;
    b.click(&format!("dialog#archive-{ws} button[type=submit]")).await;
    wait_notice(&b, "archived").await;
    b.goto("/settings/organization/workspaces?status=archived").await;
    assert!(b.text("tbody").await.contains("Café Crème"));
    b.goto(&format!("/settings/organization/workspaces/{ws}")).await;
    b.click(".row-actions details.menu summary").await;
    b.click(&format!("form[action='/settings/organization/workspaces/{ws}/restore'] button")).await;
    wait_notice(&b, "restored").await;
    open_dialog(&b, &ws, "delete").await;
    let confirm = format!("dialog#delete-{ws} input[name=confirm]");
    b.fill(&confirm, "cafe").await;
    let disabled =
        b.client.find(fantoccini::Locator::Css(&format!("dialog#delete-{ws} button[type=submit]"))).await.unwrap();
    assert_eq!(
        disabled.attr("disabled").await.unwrap().as_deref(),
        Some("true"),
        "the button waits for the exact slug"
    );
    b.fill(&confirm, "cafe-creme").await;
    b.click(&format!("dialog#delete-{ws} button[type=submit]")).await;
    wait_notice(&b, "deleted").await;
    assert_eq!(b.current_path().await, "/settings/organization/workspaces");
    assert!(b.text(".notice.success").await.contains("deleted"));
    // A minute before the idle timeout, the page offers to stay signed in
    // (the timeout is shortened to 62 s so the warning shows after 2 s).
    b.goto("/settings/organization").await;
    b.client.execute("window.stewardSetIdle(62)", vec![]).await.unwrap();
    b.wait_for("#idle-warning:not([hidden])").await;
    assert!(b.text("#idle-warning").await.contains("signed out in a minute"));
    b.screenshot("idle-warning").await;
    b.click("#stay-signed-in").await;
    for _ in 0..50 {
        if !b.exists("#idle-warning:not([hidden])").await {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(!b.exists("#idle-warning:not([hidden])").await, "staying signed in hides the warning");

    // The audit log shows what happened, filtered by action type.
    b.goto("/settings/organization/audit?action=workspace.*").await;
    b.wait_for("table").await;
    assert!(b.text("tbody").await.contains("workspace.deleted"));
    b.screenshot("audit").await;
    b.goto("/login").await;
    b.close().await;
}

#[tokio::test]
async fn sign_in_page_and_expired_sessions() {
    let Some(b) = browser::start().await else { return };
    b.goto("/settings/organization").await;
    b.wait_for("input[name=email]").await;
    assert_eq!(b.current_path().await, "/login", "a page that needs a session sends you to sign in");
    b.fill("input[name=email]", "nobody@nowhere.example").await;
    b.fill("input[name=password]", "wrong password here").await;
    b.click("button[type=submit]").await;
    b.wait_for(".notice.error").await;
    assert!(b.text(".notice.error").await.contains("not correct"));
    b.screenshot("login").await;
    // After a session ends, the sign-in page says so (the redirect adds `expired=1`).
    b.goto("/login?next=/settings/organization&expired=1").await;
    assert!(b.text("main").await.contains("Your session expired"));
    b.close().await;
}

/// SEC-3 in the browser: the Super Admin requires 2FA, is sent to enrollment,
/// scans (reads) the key, confirms, sees recovery codes, and signs in with a code.
#[tokio::test]
async fn required_two_factor_in_a_real_browser() {
    let Some(b) = browser::start().await else { return };
    b.set_up_acme(PASSWORD).await;

    b.goto("/settings/organization/security").await;
    b.wait_for("select[name=two_factor]").await;
    b.client
        .find(fantoccini::Locator::Css("select[name=two_factor] option[value=required]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.click("main form button[type=submit]").await;
    // Everything now leads to enrollment.
    b.wait_path("/account/two-factor").await;
    assert!(b.text("main").await.contains("requires two-factor authentication"));
    b.goto("/settings/organization/workspaces").await;
    assert_eq!(b.current_path().await, "/account/two-factor");
    b.click("form[action='/account/two-factor/start'] button").await;
    b.wait_for("#totp-qr").await;
    b.screenshot("two-factor").await;
    let secret = b.text("#totp-secret").await;
    let now = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    b.fill("input[name=code]", &steward_core::two_factor::code_at(&secret, now()).unwrap()).await;
    b.click("form[action='/account/two-factor/confirm'] button").await;
    b.wait_for("#recovery-codes").await;
    assert_eq!(b.client.find_all(fantoccini::Locator::Css("#recovery-codes li")).await.unwrap().len(), 10);
    b.goto("/settings/organization").await;
    assert_eq!(b.current_path().await, "/settings/organization");

    // Sign out and back in: after the password, a page asks for the code.
    b.click(".usermenu button[type=submit]").await;
    b.wait_for("input[name=email]").await;
    b.fill("input[name=email]", "ada@acme.example").await;
    b.fill("input[name=password]", PASSWORD).await;
    b.click("button[type=submit]").await;
    b.wait_for("input[name=code]").await;
    assert_eq!(b.text("h1").await, "Enter your code");
    b.fill("input[name=code]", "000000").await;
    b.click("button[type=submit]").await;
    b.wait_for(".notice.error").await;
    assert!(b.text(".notice.error").await.contains("not right"));
    // Wait for the next 30-second step: the confirmation spent the current one.
    let step = now() / 30;
    while now() / 30 == step {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    b.fill("input[name=code]", &steward_core::two_factor::code_at(&secret, now()).unwrap()).await;
    b.click("button[type=submit]").await;
    b.wait_for(".tiles").await;
    b.close().await;
}

/// Billing → Credits and Reports, clicked through on demo data: the balance,
/// the chart by day and by week, then a PDF report asked for, followed while
/// it is written, and downloaded.
#[tokio::test]
async fn billing_credits_and_reports_in_a_real_browser() {
    let Some(b) = browser::start().await else { return };
    b.set_up_acme(PASSWORD).await;
    b.steward(&["demo", "seed", "--org", "acme-agency"]);

    b.goto("/settings/organization").await;
    b.click("a[href='/settings/billing/credits']").await;
    b.wait_for("figure.chart svg").await;
    assert_ne!(b.text("[data-metric=balance]").await, "0", "the demo granted credits");
    assert!(b.text("#trend-summary").await.contains("credits used from"), "the chart in words");
    assert!(b.text("main").await.contains("Usage by workspace"));
    b.screenshot("credits").await;
    b.click("a[href='/settings/billing/credits?period=week']").await;
    b.wait_for("a[href='/settings/billing/credits?period=week'][aria-current=page]").await;
    assert!(b.text("figure.chart").await.contains("Week starting"), "the axis names the period");

    b.click("a[href='/settings/billing/reports']").await;
    b.wait_text("h1", "Reports").await;
    b.eval("document.querySelector('select[name=type]').value = 'usage_by_user'; return true;").await;
    b.click("input[name=format][value=pdf]").await;
    b.click("main form button[type=submit]").await;
    wait_notice(&b, "Report requested").await;
    // The page follows the report and shows its link once written.
    b.wait_for("a[download]").await;
    assert!(b.text("main table").await.contains("Credit usage by user"));
    b.screenshot("reports").await;
    let url = b.eval("return document.querySelector('a[download]').getAttribute('href');").await;
    let got = b
        .eval(&format!(
            "return fetch({url}).then(r => r.text().then(t => [r.status, r.headers.get('content-type'), t.slice(0, 5)]));"
        ))
        .await;
    assert_eq!(got, serde_json::json!([200, "application/pdf", "%PDF-"]), "the download is the PDF");
    b.close().await;
}
