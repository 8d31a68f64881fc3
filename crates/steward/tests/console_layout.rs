//! The console's craft, checked in Chromium on a seeded organization, at a
//! laptop's size (1366×900) and a phone's (390×844): no page is wider than
//! the screen; every confirmation dialog, once open, shows its title, text,
//! fields and buttons inside itself and the screen; a table's header stays in
//! view while its rows scroll; every action that ends sessions, removes access
//! or deletes sits behind a dialog.

mod browser;

const PASSWORD: &str = "correct horse battery staple";

/// Every element of every dialog on the page that falls outside its dialog
/// or the viewport once opened: `[]` when all is well. (The items of a
/// `.choices` list scroll inside it; the list's box is what must fit.)
const DIALOGS_FIT: &str = r#"
const out = [];
for (const d of document.querySelectorAll("dialog")) {
  d.showModal();
  const box = d.getBoundingClientRect();
  for (const e of d.querySelectorAll("h2, p, label, input:not([type=hidden]), select, button, .choices")) {
    // A list of choices scrolls within its own box, which is checked itself.
    if (e.parentElement.closest(".choices")) continue;
    // Shown only when needed (an upload's error, a cropper before a file is chosen).
    if (e.closest("[hidden]")) continue;
    const r = e.getBoundingClientRect();
    const inside = r.left >= box.left - 1 && r.right <= box.right + 1 && r.top >= box.top - 1 && r.bottom <= box.bottom + 1;
    const onScreen = r.left >= 0 && r.right <= window.innerWidth && r.top >= 0 && r.bottom <= window.innerHeight;
    if (r.width === 0 || r.height === 0 || !inside || !onScreen) out.push(`${d.id}: <${e.tagName.toLowerCase()}> ${(e.textContent || e.name || "").trim().slice(0, 40)}`);
  }
  if (d.scrollWidth > d.clientWidth + 1) out.push(`${d.id}: scrolls sideways`);
  d.close();
}
return out;
"#;

/// The innermost elements that reach past the right edge of the screen.
const WIDEST: &str = r#"
return [...document.querySelectorAll("body *")]
  .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && ![...e.children].some((c) => c.getBoundingClientRect().right > window.innerWidth + 1))
  .slice(0, 8)
  .map((e) => `<${e.tagName.toLowerCase()} class="${e.className}"> ${Math.round(e.getBoundingClientRect().right)}px`);
"#;

/// Forms that end sessions, remove access or delete, outside any dialog.
const UNGUARDED: &str = r#"
const risky = /\/(delete|suspend|archive|remove|sign-out|reset-2fa|end|end-others)$/;
const out = [];
for (const f of document.querySelectorAll("form[method=post]")) {
  const action = new URL(f.action).pathname;
  const deactivates = f.querySelector("input[name=status][value=deactivated]");
  if ((risky.test(action) || deactivates) && !f.closest("dialog")) out.push(action);
}
return out;
"#;

#[tokio::test]
async fn every_page_fits_the_screen_and_every_confirmation_is_readable() {
    let Some(b) = browser::start().await else { return };
    b.set_up_acme(PASSWORD).await;
    b.steward(&["demo", "seed", "--org", "acme-agency", "--scale", "small"]);

    b.goto("/settings/organization/workspaces").await;
    let ws = b.eval("return document.querySelector('tbody tr td a').getAttribute('href')").await;
    let ws = ws.as_str().unwrap().to_owned();
    let pages = [
        "/settings".to_owned(),
        "/settings/organization".into(),
        "/settings/organization/workspaces".into(),
        "/settings/organization/workspaces?status=archived".into(),
        "/settings/organization/workspaces/new".into(),
        ws.clone(),
        format!("{ws}/edit"),
        "/settings/organization/people".into(),
        "/settings/organization/security".into(),
        "/settings/organization/audit".into(),
        "/settings/organization/details".into(),
        "/settings/billing/credits".into(),
        "/settings/billing/reports".into(),
        "/settings/integrations/api".into(),
        "/settings/integrations/webhooks".into(),
        "/account".into(),
        "/account/two-factor".into(),
        "/w".into(),
        "/api/docs".into(),
    ];
    for (width, height) in [(1366, 900), (390, 844)] {
        b.client.set_window_size(width, height).await.unwrap();
        for page in &pages {
            b.goto(page).await;
            b.wait_for("main").await;
            let fits = b.eval("return [document.documentElement.scrollWidth, window.innerWidth]").await;
            let (doc, screen) = (fits[0].as_i64().unwrap(), fits[1].as_i64().unwrap());
            if doc > screen {
                let wide = b.eval(WIDEST).await;
                panic!("{page} at {width}px: the page is {doc}px wide on a {screen}px screen; too wide: {wide}");
            }
            let misplaced = b.eval(DIALOGS_FIT).await;
            assert_eq!(misplaced, serde_json::json!([]), "{page} at {width}px: dialog parts out of place");
            let unguarded = b.eval(UNGUARDED).await;
            assert_eq!(unguarded, serde_json::json!([]), "{page}: acts without a confirmation");
        }
    }
    b.client.set_window_size(390, 844).await.unwrap();
    b.goto("/settings/organization/workspaces").await;
    b.screenshot("workspaces-phone").await;
    b.goto("/settings").await;
    b.screenshot("settings-phone").await;
    // Deleting, from the workspace's own page on a phone: the dialog says what
    // goes and what to type, every part of it on the screen.
    b.goto(&ws).await;
    b.click("main details.menu summary").await;
    b.click("main button[data-dialog^=delete-]").await;
    b.wait_for("dialog[id^=delete-][open]").await;
    let text = b.text("dialog[id^=delete-][open]").await;
    assert!(text.contains("cannot be undone") && text.contains("to confirm"), "{text}");
    b.screenshot("confirm-delete-phone").await;
    b.client.set_window_size(1366, 900).await.unwrap();
    b.goto("/settings").await;
    b.screenshot("settings").await;

    // The People table at a laptop's width: its header stays in view while its rows scroll.
    b.client.set_window_size(1366, 900).await.unwrap();
    b.goto("/settings/organization/people").await;
    let header = b
        .eval(
            r#"
const box = document.querySelector(".table-wrap");
window.scrollTo(0, box.getBoundingClientRect().top + window.scrollY - 10);
box.scrollTop = box.scrollHeight;
const th = box.querySelector("thead th").getBoundingClientRect();
const last = box.querySelector("tbody tr:last-child").getBoundingClientRect();
const b = box.getBoundingClientRect();
return [box.scrollTop, th.top - b.top, th.bottom <= window.innerHeight, last.bottom <= b.bottom + 1];
"#,
        )
        .await;
    assert!(header[0].as_f64().unwrap() > 0.0, "the table's rows scrolled: {header}");
    assert!(header[1].as_f64().unwrap().abs() <= 2.0, "the header sticks to the top of its box: {header}");
    assert_eq!((header[2].as_bool(), header[3].as_bool()), (Some(true), Some(true)), "{header}");
    b.screenshot("people-seeded").await;

    // Deactivating asks first and says what will happen; Cancel changes nothing.
    let row = "tbody tr[data-person]:has(.badge.active):not([data-person='ada@acme.example'])";
    let email = b.eval(&format!("return document.querySelector(\"{row}\").dataset.person")).await;
    let email = email.as_str().unwrap().to_owned();
    let person = format!("tr[data-person='{email}']");
    b.goto("/settings/organization/people").await;
    b.eval(&format!("document.querySelector(\"{person}\").scrollIntoView({{block: 'center'}})")).await;
    b.click(&format!("{person} details.menu summary")).await;
    b.click(&format!("{person} button[data-dialog^=deactivate-]")).await;
    b.wait_for("dialog[id^=deactivate-][open]").await;
    let text = b.text("dialog[id^=deactivate-][open]").await;
    assert!(text.contains(&email) && text.contains("can no longer sign in"), "{text}");
    b.screenshot("confirm-deactivate").await;
    b.click("dialog[id^=deactivate-][open] button[data-close]").await;
    assert!(!b.exists("dialog[open]").await);
    b.goto("/settings/organization/people").await;
    assert!(b.text(&format!("{person} .badge")).await.contains("Active"), "Cancel deactivated nobody");

    // Settings → Integrations → API: create a key, see its secret once, copy it.
    b.goto("/settings").await;
    b.click("main a[href='/settings/integrations/api']").await;
    b.wait_for("button[data-dialog=create-key]").await;
    b.click("button[data-dialog=create-key]").await;
    b.wait_for("dialog#create-key[open]").await;
    b.fill("dialog#create-key input[name=name]", "Campaign service").await;
    b.click("dialog#create-key button[type=submit]").await;
    b.wait_for("#new-key-secret").await;
    let secret = b.eval("return document.querySelector('#new-key-secret').value").await;
    assert!(secret.as_str().unwrap().starts_with("stw_live_"), "{secret}");
    b.click("button[data-copy]").await;
    // The clipboard write is asynchronous: wait for the button to say so.
    b.wait_text("button[data-copy]", "Copied").await;
    b.screenshot("api-keys").await;
    assert!(b.text("tbody").await.contains("Campaign service"));

    // Settings → Integrations → Webhooks: add an endpoint, press Test, see the delivery.
    let receiver = axum::Router::new().route("/hook", axum::routing::post(|| async { "thanks" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await.unwrap() });
    b.click("nav.sidenav a[href='/settings/integrations/webhooks']").await;
    b.wait_for("button[data-dialog=add-webhook]").await;
    b.click("button[data-dialog=add-webhook]").await;
    b.wait_for("dialog#add-webhook[open]").await;
    b.fill("dialog#add-webhook input[name=url]", &hook).await;
    b.click("dialog#add-webhook button[type=submit]").await;
    b.wait_for("#new-webhook-secret").await;
    let secret = b.eval("return document.querySelector('#new-webhook-secret').value").await;
    assert!(secret.as_str().unwrap().starts_with("whsec_"), "{secret}");
    b.click("tbody a.person-name").await;
    b.wait_for("main form[action$='/test'] button").await;
    b.click("main form[action$='/test'] button").await;
    b.wait_for(".notice.success").await;
    let mut delivered = false;
    for _ in 0..50 {
        b.goto(&b.current_path().await).await;
        if b.exists("tbody .badge.active").await {
            delivered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(delivered, "the test event was delivered: {}", b.text("main").await);
    b.click("tbody details summary").await;
    assert!(b.text("tbody .attempts").await.contains("HTTP 200"), "the attempt shows the receiver's answer");
    b.screenshot("webhook-deliveries").await;
    // The deliveries, their attempts open, on a phone.
    b.client.set_window_size(390, 844).await.unwrap();
    let fits = b.eval("return [document.documentElement.scrollWidth, window.innerWidth]").await;
    let (doc, screen) = (fits[0].as_i64().unwrap(), fits[1].as_i64().unwrap());
    assert!(
        doc <= screen,
        "an endpoint's deliveries at 390px: {doc}px on {screen}px; too wide: {}",
        b.eval(WIDEST).await
    );
    b.client.set_window_size(1366, 900).await.unwrap();

    // Settings → Organization, as the guide says; the root sends a stranger to sign in.
    b.goto("/settings").await;
    b.click("a[href='/settings/organization']").await;
    b.wait_for(".tiles").await;
    b.click(".usermenu button[type=submit]").await;
    b.wait_for(".notice.success").await;
    assert!(b.text(".notice.success").await.contains("You are signed out"));
    b.goto("/").await;
    b.wait_for("input[name=email]").await;
    assert_eq!(b.current_path().await, "/login");
    b.close().await;
}
