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

/// A CSS class suffix for a label (`in_progress` → `in_progress`, `Maya Patel` → `maya_patel`),
/// so a stylesheet can colour known values (statuses, priorities).
fn class_of(label: &str) -> String {
    label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// A vertical bar chart (e.g. tickets per day). Every `label_every`-th label is printed
/// under its bar; every bar has a tooltip with its label and value, and bars with a value
/// print it above themselves.
pub fn column_chart(title: &str, points: &[(String, u64)], label_every: usize) -> String {
    const W: f64 = 760.0;
    const H: f64 = 200.0;
    const TOP: f64 = 18.0;
    const BOTTOM: f64 = 26.0;
    const LEFT: f64 = 30.0;
    const RIGHT: f64 = 10.0;
    let max = points.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let n = points.len().max(1) as f64;
    let slot = (W - LEFT - RIGHT) / n;
    let plot_h = H - TOP - BOTTOM;
    let base = H - BOTTOM;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{}"><title>{}</title>"#,
        escape(title),
        escape(title)
    );
    // Gridlines at the top and the middle, the axis at zero.
    for (value, y) in [(max, TOP), (max / 2, TOP + plot_h / 2.0)] {
        if value > 0 && (value == max || max >= 4) {
            let _ = write!(
                svg,
                r#"<line class="gridline" x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}"/><text x="{:.1}" y="{:.1}" text-anchor="end">{value}</text>"#,
                W - RIGHT,
                LEFT - 6.0,
                y + 4.0
            );
        }
    }
    let _ = write!(
        svg,
        r#"<line class="axis" x1="{LEFT}" y1="{base}" x2="{:.1}" y2="{base}"/><text x="{:.1}" y="{:.1}" text-anchor="end">0</text>"#,
        W - RIGHT,
        LEFT - 6.0,
        base + 4.0
    );
    for (i, (label, value)) in points.iter().enumerate() {
        let h = plot_h * (*value as f64) / (max as f64);
        let x = LEFT + slot * i as f64 + slot * 0.15;
        let w = slot * 0.7;
        let y = base - h;
        let center = x + w / 2.0;
        let _ = write!(
            svg,
            r#"<rect class="bar" x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" rx="2"><title>{}: {value}</title></rect>"#,
            escape(label)
        );
        if *value > 0 && points.len() <= 31 {
            let _ = write!(
                svg,
                r#"<text class="value" x="{center:.1}" y="{:.1}" text-anchor="middle">{value}</text>"#,
                y - 4.0
            );
        }
        if label_every > 0 && i % label_every == 0 {
            let _ = write!(
                svg,
                r#"<text x="{center:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                base + 17.0,
                escape(label)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// A horizontal bar chart of labelled counts (by status, priority, category, agent). Each
/// bar carries the class `bar-<label>` so known values get their colour.
pub fn bar_chart(title: &str, rows: &[(String, u64)]) -> String {
    const W: f64 = 320.0;
    const ROW: f64 = 30.0;
    const LABEL: f64 = 96.0;
    const VALUE: f64 = 34.0;
    let h = ROW * rows.len().max(1) as f64 + 4.0;
    let max = rows.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {W} {h}" role="img" aria-label="{}"><title>{}</title>"#,
        escape(title),
        escape(title)
    );
    if rows.is_empty() {
        let _ = write!(svg, r#"<text x="0" y="20">no data yet</text>"#);
    }
    for (i, (label, value)) in rows.iter().enumerate() {
        let y = ROW * i as f64 + 4.0;
        let bar_h = ROW - 10.0;
        let w = ((W - LABEL - VALUE) * (*value as f64) / (max as f64)).max(2.0);
        let shown: String = if label.chars().count() > 13 {
            let mut s: String = label.chars().take(12).collect();
            s.push('…');
            s
        } else {
            label.replace('_', " ")
        };
        let _ = write!(
            svg,
            r#"<text x="0" y="{:.1}">{}</text><rect class="bar bar-{}" x="{LABEL}" y="{y:.1}" width="{w:.1}" height="{bar_h:.1}" rx="3"><title>{}: {value}</title></rect><text class="value" x="{:.1}" y="{:.1}">{value}</text>"#,
            y + bar_h / 2.0 + 4.0,
            escape(&shown),
            escape(&class_of(label)),
            escape(label),
            LABEL + w + 6.0,
            y + bar_h / 2.0 + 4.0
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
    fn bars_carry_a_class_of_their_label() {
        let svg = bar_chart("t", &[("in_progress".into(), 1), ("Maya Patel".into(), 2)]);
        assert!(svg.contains(r#"class="bar bar-in_progress""#));
        assert!(svg.contains(r#"class="bar bar-maya_patel""#));
        assert!(svg.contains(">in progress</text>"));
    }

    #[test]
    fn column_heights_scale_to_the_largest_value() {
        let svg = column_chart("v", &[("a".into(), 0), ("b".into(), 4)], 1);
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains(r#"height="0.0""#));
        assert!(svg.contains(r#"height="156.0""#));
    }
}
