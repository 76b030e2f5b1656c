//! A hand-written SVG plot: reply latency percentiles vs concurrent calls, with the threshold.

use std::fmt::Write;

use crate::bench::BenchReport;

const W: f64 = 760.0;
const H: f64 = 440.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 170.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 60.0;

/// The benchmark's latency plot as a standalone SVG document.
pub fn latency_svg(report: &BenchReport) -> String {
    let levels = &report.levels;
    let xs: Vec<f64> = levels.iter().map(|l| l.concurrent as f64).collect();
    let x_max = xs.iter().copied().fold(1.0, f64::max);
    let y_data = levels
        .iter()
        .flat_map(|l| [l.reply.p99, l.reply.p95, l.greeting.p95])
        .flatten()
        .map(|v| v as f64)
        .fold(0.0, f64::max);
    let y_max = nice_ceiling(y_data.max(report.p95_threshold_ms as f64 * 1.25));
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let px = |x: f64| LEFT + x / x_max * plot_w;
    let py = |y: f64| TOP + plot_h - (y / y_max) * plot_h;

    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="{}" y="22" text-anchor="middle" font-size="15">Reply latency vs concurrent calls ({})</text>
"#,
        LEFT + plot_w / 2.0,
        escape(&report.transport)
    );
    // Grid and y ticks.
    for i in 0..=5 {
        let v = y_max * i as f64 / 5.0;
        let y = py(v);
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#e5e5e5"/><text x="{:.1}" y="{:.1}" text-anchor="end">{v:.0}</text>"##,
            LEFT + plot_w,
            LEFT - 6.0,
            y + 4.0
        );
    }
    for x in &xs {
        let _ = writeln!(
            s,
            r##"<line x1="{0:.1}" y1="{1:.1}" x2="{0:.1}" y2="{2:.1}" stroke="#999"/><text x="{0:.1}" y="{3:.1}" text-anchor="middle">{4}</text>"##,
            px(*x),
            TOP + plot_h,
            TOP + plot_h + 5.0,
            TOP + plot_h + 19.0,
            *x as u64
        );
    }
    let _ = writeln!(
        s,
        r##"<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#333"/>
<text x="{:.1}" y="{:.1}" text-anchor="middle">concurrent calls</text>
<text x="18" y="{:.1}" text-anchor="middle" transform="rotate(-90 18 {:.1})">latency (ms)</text>"##,
        LEFT + plot_w / 2.0,
        H - 15.0,
        TOP + plot_h / 2.0,
        TOP + plot_h / 2.0
    );
    // Threshold.
    let ty = py(report.p95_threshold_ms as f64);
    let _ = writeln!(
        s,
        r##"<line x1="{LEFT}" y1="{ty:.1}" x2="{:.1}" y2="{ty:.1}" stroke="#000" stroke-dasharray="6 4"/>"##,
        LEFT + plot_w
    );
    let series: [(&str, &str, Vec<Option<u64>>); 4] = [
        (
            "reply p50",
            "#1f77b4",
            levels.iter().map(|l| l.reply.p50).collect(),
        ),
        (
            "reply p95",
            "#ff7f0e",
            levels.iter().map(|l| l.reply.p95).collect(),
        ),
        (
            "reply p99",
            "#d62728",
            levels.iter().map(|l| l.reply.p99).collect(),
        ),
        (
            "greeting p95",
            "#7f7f7f",
            levels.iter().map(|l| l.greeting.p95).collect(),
        ),
    ];
    for (name, color, values) in &series {
        let pts: Vec<String> = xs
            .iter()
            .zip(values)
            .filter_map(|(x, v)| v.map(|v| format!("{:.1},{:.1}", px(*x), py(v as f64))))
            .collect();
        if pts.is_empty() {
            continue;
        }
        let dash = if name.starts_with("greeting") {
            r#" stroke-dasharray="3 3""#
        } else {
            ""
        };
        let _ = writeln!(
            s,
            r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2"{dash}/>"#,
            pts.join(" ")
        );
        for p in &pts {
            let (x, y) = p.split_once(',').unwrap_or(("0", "0"));
            let _ = writeln!(s, r#"<circle cx="{x}" cy="{y}" r="3" fill="{color}"/>"#);
        }
    }
    // Legend.
    let lx = LEFT + plot_w + 15.0;
    let mut ly = TOP + 10.0;
    for (name, color, _) in &series {
        let _ = writeln!(
            s,
            r#"<line x1="{lx}" y1="{ly}" x2="{}" y2="{ly}" stroke="{color}" stroke-width="2"/><text x="{}" y="{}">{name}</text>"#,
            lx + 22.0,
            lx + 28.0,
            ly + 4.0
        );
        ly += 20.0;
    }
    let _ = writeln!(
        s,
        r##"<line x1="{lx}" y1="{ly}" x2="{}" y2="{ly}" stroke="#000" stroke-dasharray="6 4"/><text x="{}" y="{}">p95 budget {} ms</text>"##,
        lx + 22.0,
        lx + 28.0,
        ly + 4.0,
        report.p95_threshold_ms
    );
    if let Some(n) = report.max_concurrent_within_threshold {
        let _ = writeln!(
            s,
            r#"<text x="{lx}" y="{}">max within budget: {n}</text>"#,
            ly + 30.0
        );
    }
    s.push_str("</svg>\n");
    s
}

/// The next 1/2/5 × 10^k at or above `v` (at least 100).
fn nice_ceiling(v: f64) -> f64 {
    let v = v.max(100.0);
    let mag = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if m * mag >= v {
            return m * mag;
        }
    }
    10.0 * mag
}

pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ceilings() {
        assert_eq!(nice_ceiling(1250.0), 2000.0);
        assert_eq!(nice_ceiling(400.0), 500.0);
        assert_eq!(nice_ceiling(1000.0), 1000.0);
        assert_eq!(nice_ceiling(3.0), 100.0);
    }
}
