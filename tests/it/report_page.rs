//! The report's `index.html` in a real headless browser (Debian's chromium; `make test`
//! installs it when missing, and the browser part is skipped with a message without it): every
//! table and every plot is there and rendered, nothing is fetched, nothing needs a script.

use crate::report::{spec, sweep};
use l2tww::report::render;
use std::path::Path;
use std::process::Command;

/// The first headless-capable browser on the PATH.
fn browser() -> Option<String> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .map(String::from)
}

/// Loads `page` in the browser with a probe appended that, once the page has loaded, counts
/// the tables, the images and those not decoded or not laid out, and returns the probe's line.
fn probe_in_browser(browser: &str, page: &Path) -> String {
    let html = std::fs::read_to_string(page).unwrap();
    let probe = r#"<script>
window.addEventListener('load', () => {
  const imgs = [...document.images];
  const broken = imgs.filter(i => !(i.complete && i.naturalWidth > 0 && i.getBoundingClientRect().width > 0));
  const cells = [...document.querySelectorAll('td')].filter(td => td.getBoundingClientRect().height > 0);
  document.body.setAttribute('data-probe', `tables=${document.querySelectorAll('table').length} images=${imgs.length} broken=${broken.length} visible-cells=${cells.length}`);
});
</script></body>"#;
    let probed = page.with_file_name("probed.html");
    std::fs::write(&probed, html.replace("</body>", probe)).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--virtual-time-budget=10000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", probed.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();
    let at = dom.find("data-probe=\"").unwrap_or_else(|| {
        panic!(
            "the probe did not run in {browser}:\n{}\n{}",
            &dom[..dom.len().min(2000)],
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let rest = &dom[at + "data-probe=\"".len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

fn count(probe: &str, what: &str) -> usize {
    probe
        .split_whitespace()
        .find_map(|kv| kv.strip_prefix(&format!("{what}=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {what} in {probe}"))
}

#[test]
fn the_page_holds_every_table_and_plot_and_a_browser_renders_them() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = sweep(&tmp.path().join("runs"));
    let out = tmp.path().join("report");
    let r = render(&out, "table", &runs, &spec(), &[]).unwrap();
    let page = out.join("index.html");
    assert!(r.files.contains(&page), "{:?}", r.files);
    let html = std::fs::read_to_string(&page).unwrap();
    let pngs: Vec<_> = r
        .files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "png"))
        .collect();
    // The learning curves are among the plots: two per size.
    let learning = pngs
        .iter()
        .filter(|f| {
            f.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("learning-")
        })
        .count();
    assert_eq!(learning, 2 * 3, "{pngs:?}");
    // Self-contained: every image inline, nothing fetched, no script.
    assert_eq!(html.matches("<img ").count(), pngs.len());
    assert_eq!(
        html.matches("src=\"data:image/png;base64,").count(),
        pngs.len()
    );
    assert!(!html.contains("http://") && !html.contains("https://"));
    assert!(!html.contains("<script"));
    // The tables: mean ± std, paired against scratch, λ by source (the L2T runs' λ after
    // training), the runs (these runs record no initial statistics, so there is no movement
    // table).
    assert!(html.contains("Paired difference"), "no paired table");
    assert!(html.contains("<h2>Runs</h2>"));
    let tables = html.matches("<table").count();
    assert!(html.contains("λ by source"), "no λ-by-source table");
    assert_eq!(tables, 4, "{tables} tables");
    // Every run in the provenance table: 18 runs.
    let prov = &html[html.find("<h2>Runs</h2>").unwrap()..];
    assert_eq!(prov.matches("<tr><td>").count(), runs.len());

    let Some(b) = browser() else {
        eprintln!(
            "skipped the browser part: no chromium on the PATH (`make test` installs Debian's \
             chromium when it can)"
        );
        return;
    };
    let probe = probe_in_browser(&b, &page);
    assert_eq!(count(&probe, "tables"), tables, "{probe}");
    assert_eq!(count(&probe, "images"), pngs.len(), "{probe}");
    assert_eq!(count(&probe, "broken"), 0, "{probe}");
    assert!(count(&probe, "visible-cells") > 50, "{probe}");
}
