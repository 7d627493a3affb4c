//! Inline SVG charts rendered on the server. Labels are escaped here, so the SVG can be
//! inserted into a page as is; no script and no external resource is involved.

use std::fmt::Write;

/// Escapes text for SVG/HTML text and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A vertical bar chart (e.g. tickets per day). Every `label_every`-th label is printed
/// under its bar; every bar has a tooltip with its label and value.
pub fn column_chart(title: &str, points: &[(String, u64)], label_every: usize) -> String {
    const W: f64 = 720.0;
    const H: f64 = 220.0;
    const TOP: f64 = 16.0;
    const BOTTOM: f64 = 34.0;
    const LEFT: f64 = 36.0;
    let max = points.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let n = points.len().max(1) as f64;
    let slot = (W - LEFT) / n;
    let plot_h = H - TOP - BOTTOM;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{}"><title>{}</title>"#,
        escape(title),
        escape(title)
    );
    let _ = write!(
        svg,
        r#"<line class="axis" x1="{LEFT}" y1="{y}" x2="{W}" y2="{y}"/><text x="0" y="{}">{max}</text><text x="0" y="{y}">0</text>"#,
        TOP + 8.0,
        y = H - BOTTOM
    );
    for (i, (label, value)) in points.iter().enumerate() {
        let h = plot_h * (*value as f64) / (max as f64);
        let x = LEFT + slot * i as f64 + slot * 0.15;
        let y = H - BOTTOM - h;
        let _ = write!(
            svg,
            r#"<rect class="bar" x="{x:.1}" y="{y:.1}" width="{:.1}" height="{h:.1}" rx="2"><title>{}: {value}</title></rect>"#,
            slot * 0.7,
            escape(label)
        );
        if label_every > 0 && i % label_every == 0 {
            let _ = write!(
                svg,
                r#"<text x="{x:.1}" y="{:.1}">{}</text>"#,
                H - BOTTOM + 16.0,
                escape(label)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// A horizontal bar chart of labelled counts (by status, priority, category, agent).
pub fn bar_chart(title: &str, rows: &[(String, u64)]) -> String {
    const W: f64 = 420.0;
    const ROW: f64 = 24.0;
    const LABEL: f64 = 120.0;
    let h = ROW * rows.len().max(1) as f64 + 8.0;
    let max = rows.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {W} {h}" role="img" aria-label="{}"><title>{}</title>"#,
        escape(title),
        escape(title)
    );
    if rows.is_empty() {
        let _ = write!(svg, r#"<text x="0" y="16">no data</text>"#);
    }
    for (i, (label, value)) in rows.iter().enumerate() {
        let y = ROW * i as f64 + 4.0;
        let w = (W - LABEL - 40.0) * (*value as f64) / (max as f64);
        let _ = write!(
            svg,
            r#"<text x="0" y="{:.1}">{}</text><rect class="bar" x="{LABEL}" y="{y:.1}" width="{w:.1}" height="{:.1}" rx="3"><title>{}: {value}</title></rect><text x="{:.1}" y="{:.1}">{value}</text>"#,
            y + 14.0,
            escape(label),
            ROW - 8.0,
            escape(label),
            LABEL + w + 6.0,
            y + 14.0
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped() {
        let svg = bar_chart("t", &[("<script>".into(), 3)]);
        assert!(svg.contains("&lt;script&gt;"));
        assert!(!svg.contains("<script>"));
    }

    #[test]
    fn column_heights_scale_to_the_largest_value() {
        let svg = column_chart("v", &[("a".into(), 0), ("b".into(), 4)], 1);
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains(r#"height="0.0""#));
        assert!(svg.contains(r#"height="170.0""#));
    }
}
