//! Files in a real browser (issue 19): headless Chromium against the real `helpdesk-web`.
//!
//! The customer attaches a screenshot to a new ticket and sees it as a thumbnail. An agent
//! replies with an HTML file and an SVG file, each with a script that would leave a
//! marker in the desk's origin if it ever ran there (the page title, `localStorage`, a
//! cookie, a dialog). Opening them every way a person can (the thread's link, the
//! download URL, the inline-view URL) saves them as downloads: the browser stays on the
//! ticket page, the files land in the download folder byte for byte, and no marker is set.
//! Screenshots go to `$CARGO_TARGET_TMPDIR/browser-screenshots-attachments/`.
//!
//! Needs the Debian packages `chromium` and `chromium-driver`: run
//! `scripts/setup-chromium.sh` once. Without them the test fails and says so.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod browser_support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use browser_support::{
    Browser, Logins, STEP, require_chromium, scratch_dir, start_chromedriver, start_server,
};
use fantoccini::Locator;
use serde_json::{Value, json};

/// The whole scenario.
const WHOLE: Duration = Duration::from_secs(120);

/// A 1x1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53,
    0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0x00,
    0x00, 0x03, 0x01, 0x01, 0x00, 0xc9, 0xfe, 0x92, 0xef, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e,
    0x44, 0xae, 0x42, 0x60, 0x82,
];

/// What the scripts would set: the title, a `localStorage` key, a cookie.
const MARKER: &str = "PWNED";
const HTML: &str = "<!doctype html><html><head><title>invoice</title></head><body>\
    <h1>Invoice</h1><script>document.title='PWNED';\
    try{localStorage.setItem('pwned','html')}catch(e){}\
    document.cookie='pwned=html; path=/';window.pwned=true;alert('PWNED')</script>\
    </body></html>";
const SVG: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\">\
    <script>document.title='PWNED';try{localStorage.setItem('pwned','svg')}catch(e){}\
    document.cookie='pwned=svg; path=/';alert('PWNED')</script>\
    <rect width=\"10\" height=\"10\" fill=\"red\"/></svg>";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploaded_html_and_svg_never_run_in_the_desks_origin() {
    require_chromium();
    let scratch = scratch_dir("attachments");
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser-screenshots-attachments");
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).unwrap();
    let files = scratch.join("files");
    std::fs::create_dir_all(&files).unwrap();
    std::fs::write(files.join("screen.png"), PNG).unwrap();
    std::fs::write(files.join("invoice.html"), HTML).unwrap();
    std::fs::write(files.join("logo.svg"), SVG).unwrap();
    let downloads = scratch.join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();

    let (_server, app_port, logins) = start_server(&scratch.join("data"));
    let (_driver, driver_port) = start_chromedriver(&scratch.join("chromedriver.log"));
    let mut browser = Browser::open_with(
        driver_port,
        app_port,
        &scratch.join("profile"),
        shots,
        Some(&downloads),
    )
    .await;
    let outcome =
        tokio::time::timeout(WHOLE, scenario(&mut browser, &logins, &files, &downloads)).await;
    let _ = tokio::time::timeout(Duration::from_secs(10), browser.client.clone().close()).await;
    outcome.unwrap_or_else(|_| panic!("the attachment scenario took longer than {WHOLE:?}"));
    // The bytes are in `blobs/` under the data folder, one file per content.
    let stored = files_under(&scratch.join("data").join("blobs"));
    let mut sizes: Vec<usize> = stored
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len() as usize)
        .collect();
    sizes.sort_unstable();
    let mut expected = vec![PNG.len(), HTML.len(), SVG.len()];
    expected.sort_unstable();
    assert_eq!(sizes, expected, "{stored:?}");
    let _ = std::fs::remove_dir_all(&scratch);
}

async fn scenario(b: &mut Browser, logins: &Logins, files: &Path, downloads: &Path) {
    // 1. The customer raises a ticket with a screenshot; it shows as a thumbnail.
    b.sign_in(&logins.customer, "/portal").await;
    b.click("nav a[href='/portal/new']").await;
    b.wait("form[action='/portal/tickets']").await;
    b.fill("input[name=subject]", "The invoice page is blank")
        .await;
    b.fill("textarea[name=description]", "See the screenshot.")
        .await;
    b.find("form[action='/portal/tickets'] input[type=file]")
        .await
        .send_keys(&files.join("screen.png").display().to_string())
        .await
        .unwrap();
    b.click("form[action='/portal/tickets'] button.primary")
        .await;
    let portal_path = b
        .wait_path("the new ticket's page", |p| {
            p.starts_with("/portal/tickets/")
        })
        .await;
    let thumbnail = b.wait(".ticket-head .files img").await;
    let loaded = loaded_width(b).await;
    assert_eq!(loaded, json!(1), "the thumbnail shows the 1x1 image");
    assert_eq!(
        thumbnail.attr("alt").await.unwrap().as_deref(),
        Some("screen.png")
    );
    b.shot("customer-ticket-with-thumbnail").await;
    b.sign_out().await;

    // 2. An agent replies with an HTML file and an SVG file, both carrying scripts.
    let id = portal_path.rsplit('/').next().unwrap().to_string();
    let ticket = format!("/agent/tickets/{id}");
    b.sign_in(&logins.billing_agent, "/agent").await;
    b.goto(&ticket).await;
    let reply_form = format!("form[action='{ticket}/reply']");
    b.wait(&reply_form).await;
    b.fill(
        &format!("{reply_form} textarea[name=body]"),
        "Here are the files you asked for.",
    )
    .await;
    let both = format!(
        "{}\n{}",
        files.join("invoice.html").display(),
        files.join("logo.svg").display()
    );
    b.find(&format!("{reply_form} input[type=file]"))
        .await
        .send_keys(&both)
        .await
        .unwrap();
    b.click(&format!("{reply_form} button.primary")).await;
    b.wait_path("back on the ticket", |p| p == ticket).await;
    b.wait(".thread .files a.file-link").await;
    b.shot("agent-reply-with-files").await;
    // Only the PNG is an image on the page: the SVG is a link like any other file.
    let images = b.client.find_all(Locator::Css(".files img")).await.unwrap();
    assert_eq!(images.len(), 1, "only the raster image is shown inline");
    let html_href = link_of(b, "invoice.html").await;
    let svg_href = link_of(b, "logo.svg").await;

    // 3. The files are downloads, however they are opened, and nothing of them runs.
    let title = b.client.title().await.unwrap();
    b.find(&format!(".files a.file-link[href='{html_href}']"))
        .await
        .click()
        .await
        .unwrap();
    assert_downloaded(downloads, "invoice.html", HTML.as_bytes()).await;
    still_on_the_desk(b, &ticket, &title).await;
    for url in [
        html_href.clone(),
        format!("{html_href}/view"),
        svg_href.clone(),
        format!("{svg_href}/view"),
    ] {
        // A download does not commit a navigation: the driver may report it aborted.
        let _ = tokio::time::timeout(STEP, b.goto(&url)).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        still_on_the_desk(b, &ticket, &title).await;
    }
    assert_downloaded(downloads, "logo.svg", SVG.as_bytes()).await;
    // What the browser itself received for them.
    for href in [&html_href, &svg_href] {
        for route in ["", "/view"] {
            let head = headers_of(b, &format!("{href}{route}")).await;
            assert_eq!(
                head["type"], "application/octet-stream",
                "{href}{route}: {head}"
            );
            assert!(
                head["disposition"]
                    .as_str()
                    .unwrap()
                    .starts_with("attachment;"),
                "{href}{route}: {head}"
            );
            assert_eq!(head["nosniff"], "nosniff");
            assert_eq!(head["csp"], "default-src 'none'; sandbox");
        }
    }
    b.goto(&ticket).await;
    b.wait(".thread .files a.file-link").await;
    still_on_the_desk(b, &ticket, &title).await;
    b.shot("agent-after-opening-the-files").await;
}

/// Every file below `dir`.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// The natural width of the ticket's thumbnail once it loaded (0 if it could not).
async fn loaded_width(b: &Browser) -> Value {
    let started = Instant::now();
    loop {
        let width = b
            .client
            .execute(
                "const i = document.querySelector('.ticket-head .files img'); \
                 return i && i.complete ? i.naturalWidth : null;",
                vec![],
            )
            .await
            .unwrap();
        if !width.is_null() || started.elapsed() > STEP {
            return width;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The download link of the file named `name` in the thread.
async fn link_of(b: &Browser, name: &str) -> String {
    for link in b
        .client
        .find_all(Locator::Css(".files a.file-link"))
        .await
        .unwrap()
    {
        if link.text().await.unwrap() == name {
            return link.attr("href").await.unwrap().unwrap();
        }
    }
    panic!("no link to {name} on {}", b.main_text().await);
}

/// The browser is still on the ticket page, and no script of a file left its marker.
async fn still_on_the_desk(b: &Browser, ticket: &str, title: &str) {
    b.assert_no_dialog().await;
    assert_eq!(
        b.path().await,
        ticket,
        "opening a file left the desk's page"
    );
    let now = b.client.title().await.unwrap();
    assert_eq!(now, title, "the page title changed");
    assert_ne!(now, MARKER);
    let traces = b
        .client
        .execute(
            "return { storage: localStorage.getItem('pwned'), cookie: document.cookie, \
                      global: typeof window.pwned };",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(traces["storage"], Value::Null, "{traces}");
    assert!(
        !traces["cookie"].as_str().unwrap().contains("pwned"),
        "{traces}"
    );
    assert_eq!(traces["global"], "undefined", "{traces}");
}

/// Waits until `name` is in the download folder with exactly `bytes`.
async fn assert_downloaded(downloads: &Path, name: &str, bytes: &[u8]) {
    let file = downloads.join(name);
    let started = Instant::now();
    loop {
        if std::fs::read(&file).is_ok_and(|found| found == bytes) {
            return;
        }
        assert!(
            started.elapsed() < STEP,
            "{name} was not downloaded within {STEP:?}: {:?}",
            std::fs::read_dir(downloads).map(|d| d
                .filter_map(Result::ok)
                .map(|e| e.file_name())
                .collect::<Vec<_>>())
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The headers the browser gets for `url` (fetched from the desk's page).
async fn headers_of(b: &Browser, url: &str) -> Value {
    b.client
        .execute_async(
            "const [url, done] = arguments; \
             fetch(url).then(r => done({ type: r.headers.get('content-type'), \
               disposition: r.headers.get('content-disposition'), \
               nosniff: r.headers.get('x-content-type-options'), \
               csp: r.headers.get('content-security-policy') }));",
            vec![json!(url)],
        )
        .await
        .unwrap()
}
