//! `index.html`: the whole report in one self-contained page — the Markdown (tables, paired
//! differences, the meta-networks' movement, LogME) rendered to HTML, every plot embedded as a
//! PNG data URI, and each run's provenance (instance, labels, key, seed, versions, device,
//! threads, time). No scripts, no network: it opens from disk in any browser.

use crate::error::{Error, Result};
use crate::fsx;
use crate::report::frame::Run;
use base64::Engine;
use pulldown_cmark::{html, CowStr, Event, Options, Parser, Tag};
use std::path::Path;

/// The provenance columns, in the order shown: (key in a run's provenance, header).
const PROVENANCE: &[(&str, &str)] = &[
    ("instance", "instance"),
    ("key", "cache key"),
    ("l2tww", "l2tww"),
    ("torch", "libtorch"),
    ("device", "device"),
    ("threads", "threads"),
    ("started", "started (UTC)"),
    ("seconds", "seconds"),
];

const STYLE: &str =
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1100px;\
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}\
table{border-collapse:collapse;margin:1em 0;font-size:0.92em}\
th,td{border:1px solid #ccc;padding:0.3em 0.6em;text-align:right}\
th:first-child,td:first-child{text-align:left}thead{background:#f0f0f0}\
img{max-width:100%;height:auto;display:block;margin:1em 0;border:1px solid #eee}\
code{background:#f6f6f6;padding:0 0.2em}\
.provenance td,.provenance th{text-align:left;font-size:0.85em}\
footer{margin-top:3em;color:#666;font-size:0.85em}";

/// The page for the report `title` whose Markdown is `markdown`; images it references are read
/// from `dir` and embedded (a missing image is an error naming it).
pub fn index_html(title: &str, markdown: &str, dir: &Path, runs: &[Run]) -> Result<String> {
    let mut body = String::new();
    let mut failed: Option<Error> = None;
    let events = Parser::new_ext(markdown, Options::ENABLE_TABLES).map(|ev| match ev {
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => {
            let url = match embed(dir, &dest_url) {
                Ok(u) => u,
                Err(e) => {
                    failed.get_or_insert(e);
                    dest_url.to_string()
                }
            };
            Event::Start(Tag::Image {
                link_type,
                dest_url: CowStr::from(url),
                title,
                id,
            })
        }
        other => other,
    });
    html::push_html(&mut body, events);
    if let Some(e) = failed {
        return Err(e);
    }
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str(&format!("<title>{}</title>\n", escape(title)));
    out.push_str(&format!("<style>{STYLE}</style>\n</head>\n<body>\n"));
    out.push_str(&format!("<h1>{}</h1>\n", escape(title)));
    out.push_str(&body);
    out.push_str(&provenance_table(runs));
    out.push_str(&format!(
        "<footer>Written by l2tww {} with libtorch {}.</footer>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION"),
        runs.first()
            .and_then(|r| r.at.provenance.get("torch"))
            .map_or("(unknown)", String::as_str)
    ));
    Ok(out)
}

/// `name.png` in `dir` as a data URI; URLs that are not plain file names stay as they are.
fn embed(dir: &Path, url: &str) -> Result<String> {
    let plain = !url.contains(['/', '\\', ':']) && !url.starts_with('.');
    if !plain {
        return Ok(url.to_string());
    }
    let bytes = fsx::read(&dir.join(url))?;
    let mime = if url.ends_with(".png") {
        "image/png"
    } else {
        "application/octet-stream"
    };
    Ok(format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

/// One row per run: its labels, seed, result and where and how it was computed.
fn provenance_table(runs: &[Run]) -> String {
    let mut labels: Vec<&String> = runs.iter().flat_map(|r| r.at.labels.keys()).collect();
    labels.sort();
    labels.dedup();
    let mut out = String::from(
        "<h2>Runs</h2>\n<p>Every run the report read, with what produced it.</p>\n\
         <table class=\"provenance\">\n<thead><tr>",
    );
    let mut head: Vec<String> = labels.iter().map(|l| escape(l)).collect();
    head.extend(["seed", "test acc (%)"].map(String::from));
    head.extend(PROVENANCE.iter().map(|(_, h)| h.to_string()));
    for h in &head {
        out.push_str(&format!("<th>{h}</th>"));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for r in runs {
        out.push_str("<tr>");
        for l in &labels {
            out.push_str(&format!("<td>{}</td>", escape(r.label(l))));
        }
        out.push_str(&format!(
            "<td>{}</td><td>{:.2}</td>",
            r.summary.seed, r.summary.test_acc
        ));
        for (k, _) in PROVENANCE {
            let v = match (*k, r.at.provenance.get(*k)) {
                (_, Some(v)) => v.clone(),
                ("l2tww", None) => r.summary.l2tww_version.clone(),
                ("device", None) => r.summary.device.clone(),
                _ => String::new(),
            };
            out.push_str(&format!("<td>{}</td>", escape(&v)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
    out
}

/// Text for HTML.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_embedded_and_a_missing_one_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.png"), b"\x89PNG fake").unwrap();
        let md = "| x | y |\n| --- | ---: |\n| 1 | 2 |\n\n![a](a.png)\n";
        let page = index_html("t <1>", md, dir.path(), &[]).unwrap();
        assert!(
            page.contains("<table>") && page.contains("<td>1</td>"),
            "{page}"
        );
        assert!(
            page.contains("src=\"data:image/png;base64,iVBORyBmYWtl\""),
            "{page}"
        );
        assert!(page.contains("<title>t &lt;1&gt;</title>"));
        assert!(!page.contains("<script"));
        let err = index_html("t", "![b](b.png)", dir.path(), &[]).unwrap_err();
        assert!(err.to_string().contains("b.png"), "{err}");
    }
}
