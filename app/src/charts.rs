//! Charts drawn on the server as SVG markup, which the pages put in place
//! as it is (so they show before the page is hydrated, and print): vertical
//! columns over days or hours ([`columns`]), horizontal bars for ranked
//! labels ([`bars`]) and a line through points ([`line`]).
//!
//! Every chart has its axes, tick labels, a title of its own, and a hover
//! `<title>` on each column, bar and point. All the text comes from the
//! caller (some of it from user data: rate descriptions, user names) and
//! is escaped here, in one place. Values are exact decimals; only the
//! geometry is in floating point. Colours and fonts come from the portal's
//! stylesheet by class (`chart-…`), so the markup carries no inline style.
//!
//! Server only: the browser's wasm receives the markup, not this code.

use std::fmt::Write;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

/// The drawing's width in its own units (it scales to its box).
const WIDTH: f64 = 480.0;
/// Room for the value axis's labels on the left.
const LEFT: f64 = 52.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 28.0;
/// Room for the category labels under the plot.
const BOTTOM: f64 = 40.0;
/// The height of the columns' and the line's plot.
const PLOT_HEIGHT: f64 = 180.0;
/// One bar's row in a [`bars`] chart.
const ROW: f64 = 24.0;
/// Room for the bars' labels on the left.
const LABEL_WIDTH: f64 = 168.0;
/// The longest bar label, in characters (the hover title has it all).
const LABEL_CHARS: usize = 21;
/// Roughly how wide a character of the category labels is, at the larger
/// size the stylesheet gives them on a phone.
const CHAR_WIDTH: f64 = 8.5;

/// One column, bar or point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Point {
    /// Its label on the axis (a day, an hour, a destination).
    pub label: String,
    pub value: Decimal,
    /// What hovering it says: the exact figures.
    pub hover: String,
}

/// What a chart shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chart {
    /// The chart's title, for those who cannot see it.
    pub title: String,
    /// What the values are in (`EUR`, `calls`, `min`), said on the axis.
    pub unit: String,
    pub points: Vec<Point>,
    /// What an empty chart says.
    pub empty: String,
    /// The values are counts: the axis ticks whole numbers only.
    pub whole: bool,
}

/// Text for SVG content and attribute values: `&`, `<`, `>`, quotes
/// escaped, and the control characters XML does not allow left out.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// At most `max` characters of `text`, with `…` when cut.
fn shortened(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// A round step (1, 2 or 5 times a power of ten) that cuts `span` (> 0)
/// in about `parts` parts.
fn nice_step(span: Decimal, parts: u32) -> Decimal {
    let raw = span / Decimal::from(parts.max(1));
    let ten = Decimal::TEN;
    let mut power = Decimal::ONE;
    // Bounded: a Decimal has at most 28 digits either side.
    for _ in 0..30 {
        if power <= raw {
            break;
        }
        power /= ten;
    }
    for _ in 0..30 {
        match power.checked_mul(ten) {
            Some(next) if next <= raw => power = next,
            _ => break,
        }
    }
    for factor in [1, 2, 5, 10] {
        let step = power * Decimal::from(factor);
        if step >= raw {
            return step;
        }
    }
    power * ten
}

/// The value axis of `values`: its ends (zero always in) and ticks.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Axis {
    low: Decimal,
    high: Decimal,
    ticks: Vec<Decimal>,
}

impl Axis {
    fn of(values: impl Iterator<Item = Decimal>, whole: bool) -> Axis {
        let (mut low, mut high) = (Decimal::ZERO, Decimal::ZERO);
        for v in values {
            low = low.min(v);
            high = high.max(v);
        }
        if low == high {
            high = low + Decimal::ONE;
        }
        let mut step = nice_step(high - low, 4);
        if whole {
            step = step.max(Decimal::ONE);
        }
        let low = (low / step).floor() * step;
        let high = (high / step).ceil() * step;
        let mut ticks = Vec::new();
        let mut tick = low;
        while tick <= high && ticks.len() < 12 {
            ticks.push(tick.normalize());
            tick += step;
        }
        Axis { low, high, ticks }
    }

    /// Where `value` falls between the ends: 0 at `low`, 1 at `high`.
    fn share(&self, value: Decimal) -> f64 {
        let span = self.high - self.low;
        if span.is_zero() {
            return 0.0;
        }
        ((value - self.low) / span)
            .to_f64()
            .unwrap_or(0.0)
            .clamp(0.0, 1.0)
    }
}

/// A coordinate as the markup writes it.
fn at(v: f64) -> String {
    format!("{v:.1}")
}

/// The opening of a chart's markup: its box, its title for assistive
/// technology (`<title>` first, then `aria-label`).
fn open(out: &mut String, chart: &Chart, height: f64, class: &str) {
    let title = escape(&chart.title);
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg {class}" viewBox="0 0 {w} {h}" role="img" aria-label="{title}"><title>{title}</title>"#,
        w = at(WIDTH),
        h = at(height),
    );
}

/// An empty chart: its box and what it says.
fn empty(chart: &Chart, class: &str) -> String {
    let mut out = String::new();
    let height = TOP + 60.0;
    open(&mut out, chart, height, class);
    let _ = write!(
        out,
        r#"<text class="chart-empty" x="{x}" y="{y}" text-anchor="middle">{text}</text></svg>"#,
        x = at(WIDTH / 2.0),
        y = at(height / 2.0),
        text = escape(&chart.empty),
    );
    out
}

/// The value axis on the left of a plot from `top` down `height`: ticks,
/// their labels and grid lines, and the unit.
fn value_axis(out: &mut String, axis: &Axis, unit: &str, top: f64, height: f64) {
    for tick in &axis.ticks {
        let y = top + height * (1.0 - axis.share(*tick));
        let _ = write!(
            out,
            r#"<line class="chart-grid" x1="{l}" x2="{r}" y1="{y}" y2="{y}"/><text class="chart-tick" x="{tx}" y="{ty}" text-anchor="end">{label}</text>"#,
            l = at(LEFT),
            r = at(WIDTH - RIGHT),
            y = at(y),
            tx = at(LEFT - 6.0),
            ty = at(y + 4.0),
            label = escape(&tick.to_string()),
        );
    }
    let _ = write!(
        out,
        r#"<text class="chart-unit" x="{x}" y="{y}" text-anchor="start">{unit}</text><line class="chart-axis" x1="{l}" x2="{l}" y1="{t}" y2="{b}"/>"#,
        x = at(4.0),
        y = at(top - 14.0),
        unit = escape(unit),
        l = at(LEFT),
        t = at(top),
        b = at(top + height),
    );
}

/// How many categories share one label so that the labels do not overlap.
fn label_every(points: &[Point], width: f64) -> usize {
    let widest = points
        .iter()
        .map(|p| p.label.chars().count())
        .max()
        .unwrap_or(1);
    let room = (widest as f64) * CHAR_WIDTH + 8.0;
    let fit = (width / room).floor().max(1.0) as usize;
    points.len().div_ceil(fit).max(1)
}

/// The category axis under a plot: the labels of every `every`-th point at
/// the `x` of each.
fn category_axis(out: &mut String, points: &[Point], xs: &[f64], bottom: f64) {
    let every = label_every(points, WIDTH - LEFT - RIGHT);
    let _ = write!(
        out,
        r#"<line class="chart-axis" x1="{l}" x2="{r}" y1="{b}" y2="{b}"/>"#,
        l = at(LEFT),
        r = at(WIDTH - RIGHT),
        b = at(bottom),
    );
    for (i, (point, x)) in points.iter().zip(xs).enumerate() {
        if i % every != 0 {
            continue;
        }
        let _ = write!(
            out,
            r#"<text class="chart-label" x="{x}" y="{y}" text-anchor="middle">{label}</text>"#,
            x = at(*x),
            y = at(bottom + 16.0),
            label = escape(&point.label),
        );
    }
}

/// Vertical columns, one per point, in order (days, hours).
pub fn columns(chart: &Chart) -> String {
    if chart.points.is_empty() {
        return empty(chart, "chart-columns");
    }
    let axis = Axis::of(chart.points.iter().map(|p| p.value), chart.whole);
    let height = TOP + PLOT_HEIGHT + BOTTOM;
    let mut out = String::new();
    open(&mut out, chart, height, "chart-columns");
    value_axis(&mut out, &axis, &chart.unit, TOP, PLOT_HEIGHT);
    let slot = (WIDTH - LEFT - RIGHT) / chart.points.len() as f64;
    let width = (slot * 0.7).max(1.0);
    let zero = TOP + PLOT_HEIGHT * (1.0 - axis.share(Decimal::ZERO));
    let mut xs = Vec::with_capacity(chart.points.len());
    for (i, point) in chart.points.iter().enumerate() {
        let middle = LEFT + slot * (i as f64 + 0.5);
        xs.push(middle);
        let y = TOP + PLOT_HEIGHT * (1.0 - axis.share(point.value));
        let (top, bar) = if y <= zero {
            (y, zero - y)
        } else {
            (zero, y - zero)
        };
        let _ = write!(
            out,
            r#"<rect class="chart-bar" x="{x}" y="{y}" width="{w}" height="{h}"><title>{hover}</title></rect>"#,
            x = at(middle - width / 2.0),
            y = at(top),
            w = at(width),
            h = at(bar),
            hover = escape(&point.hover),
        );
    }
    category_axis(&mut out, &chart.points, &xs, TOP + PLOT_HEIGHT);
    out.push_str("</svg>");
    out
}

/// Horizontal bars, one row per point, in order (the first on top), each
/// labelled on the left and with its value at its end.
pub fn bars(chart: &Chart) -> String {
    if chart.points.is_empty() {
        return empty(chart, "chart-bars");
    }
    let axis = Axis::of(chart.points.iter().map(|p| p.value), chart.whole);
    let rows = chart.points.len() as f64;
    let height = TOP + rows * ROW + BOTTOM;
    let left = LABEL_WIDTH;
    let plot = WIDTH - left - RIGHT - 56.0;
    let mut out = String::new();
    open(&mut out, chart, height, "chart-bars");
    let zero = left + plot * axis.share(Decimal::ZERO);
    for (i, point) in chart.points.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        let x = left + plot * axis.share(point.value);
        let (start, length) = if x >= zero {
            (zero, x - zero)
        } else {
            (x, zero - x)
        };
        let _ = write!(
            out,
            r#"<text class="chart-label" x="{lx}" y="{ty}" text-anchor="end">{label}</text><rect class="chart-bar" x="{bx}" y="{by}" width="{bw}" height="{bh}"><title>{hover}</title></rect><text class="chart-value" x="{vx}" y="{ty}" text-anchor="start">{value}</text>"#,
            lx = at(left - 8.0),
            ty = at(y + ROW / 2.0 + 4.0),
            label = escape(&shortened(&point.label, LABEL_CHARS)),
            bx = at(start),
            by = at(y + 4.0),
            bw = at(length.max(1.0)),
            bh = at(ROW - 8.0),
            hover = escape(&point.hover),
            vx = at(start.max(x) + 6.0),
            value = escape(&point.value.normalize().to_string()),
        );
    }
    let bottom = TOP + rows * ROW;
    let _ = write!(
        out,
        r#"<line class="chart-axis" x1="{l}" x2="{l}" y1="{t}" y2="{b}"/><line class="chart-axis" x1="{l}" x2="{r}" y1="{b}" y2="{b}"/>"#,
        l = at(zero),
        r = at(left + plot),
        t = at(TOP),
        b = at(bottom),
    );
    for tick in &axis.ticks {
        let _ = write!(
            out,
            r#"<text class="chart-tick" x="{x}" y="{y}" text-anchor="middle">{label}</text>"#,
            x = at(left + plot * axis.share(*tick)),
            y = at(bottom + 16.0),
            label = escape(&tick.to_string()),
        );
    }
    let _ = write!(
        out,
        r#"<text class="chart-unit" x="{x}" y="{y}" text-anchor="end">{unit}</text></svg>"#,
        x = at(left + plot),
        y = at(bottom + 32.0),
        unit = escape(&chart.unit),
    );
    out
}

/// A line through the points, in order (days), each a dot with its hover
/// title; a line at zero when the values go below it.
pub fn line(chart: &Chart) -> String {
    if chart.points.is_empty() {
        return empty(chart, "chart-line");
    }
    let axis = Axis::of(chart.points.iter().map(|p| p.value), chart.whole);
    let height = TOP + PLOT_HEIGHT + BOTTOM;
    let mut out = String::new();
    open(&mut out, chart, height, "chart-line");
    value_axis(&mut out, &axis, &chart.unit, TOP, PLOT_HEIGHT);
    let n = chart.points.len();
    let inner = WIDTH - LEFT - RIGHT - 16.0;
    let xs: Vec<f64> = (0..n)
        .map(|i| {
            if n == 1 {
                LEFT + 8.0 + inner / 2.0
            } else {
                LEFT + 8.0 + inner * i as f64 / (n - 1) as f64
            }
        })
        .collect();
    let ys: Vec<f64> = chart
        .points
        .iter()
        .map(|p| TOP + PLOT_HEIGHT * (1.0 - axis.share(p.value)))
        .collect();
    if axis.low < Decimal::ZERO {
        let zero = TOP + PLOT_HEIGHT * (1.0 - axis.share(Decimal::ZERO));
        let _ = write!(
            out,
            r#"<line class="chart-zero" x1="{l}" x2="{r}" y1="{y}" y2="{y}"/>"#,
            l = at(LEFT),
            r = at(WIDTH - RIGHT),
            y = at(zero),
        );
    }
    let path: Vec<String> = xs
        .iter()
        .zip(&ys)
        .map(|(x, y)| format!("{},{}", at(*x), at(*y)))
        .collect();
    let _ = write!(
        out,
        r#"<polyline class="chart-path" points="{}"/>"#,
        path.join(" ")
    );
    for ((point, x), y) in chart.points.iter().zip(&xs).zip(&ys) {
        let _ = write!(
            out,
            r#"<circle class="chart-dot" cx="{x}" cy="{y}" r="4"><title>{hover}</title></circle>"#,
            x = at(*x),
            y = at(*y),
            hover = escape(&point.hover),
        );
    }
    category_axis(&mut out, &chart.points, &xs, TOP + PLOT_HEIGHT);
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn chart(points: &[(&str, Decimal)]) -> Chart {
        Chart {
            title: "Spend per day".into(),
            unit: "EUR".into(),
            points: points
                .iter()
                .map(|(label, value)| Point {
                    label: (*label).into(),
                    value: *value,
                    hover: format!("{label}: {value} EUR"),
                })
                .collect(),
            empty: "No calls".into(),
            whole: false,
        }
    }

    /// The hover titles of a chart's markup, unescaped.
    fn hovers(svg: &str) -> Vec<String> {
        svg.split("<title>")
            .skip(2)
            .filter_map(|part| part.split("</title>").next())
            .map(|t| {
                t.replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&amp;", "&")
            })
            .collect()
    }

    #[test]
    fn text_is_escaped_for_markup() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        assert_eq!(escape("a\u{0}b\nc"), "ab c");
        let mut evil = chart(&[("<b>", dec!(1))]);
        evil.title = "</svg><img src=x onerror=alert(1)>".into();
        evil.points[0].hover = "\"><script>".into();
        for svg in [columns(&evil), bars(&evil), line(&evil)] {
            assert!(!svg.contains("<script"), "{svg}");
            assert!(!svg.contains("<img"), "{svg}");
            assert!(!svg.contains("<b>"), "{svg}");
            assert_eq!(svg.matches("<svg").count(), 1);
            assert_eq!(svg.matches("</svg>").count(), 1);
            assert!(svg.ends_with("</svg>"));
        }
    }

    #[test]
    fn steps_are_round_and_axes_hold_every_value() {
        assert_eq!(nice_step(dec!(10), 4), dec!(5));
        assert_eq!(nice_step(dec!(1), 4), dec!(0.5));
        assert_eq!(nice_step(dec!(0.00003), 4), dec!(0.00001));
        assert_eq!(nice_step(dec!(730), 4), dec!(200));
        assert_eq!(nice_step(dec!(1000000000000), 4), dec!(500000000000));
        let axis = Axis::of([dec!(0.3), dec!(1.7)].into_iter(), false);
        assert_eq!(
            axis.ticks,
            [dec!(0), dec!(0.5), dec!(1), dec!(1.5), dec!(2)]
        );
        assert_eq!(axis.ticks[1].to_string(), "0.5");
        let below = Axis::of([dec!(-12.5), dec!(30)].into_iter(), false);
        assert!(below.low <= dec!(-12.5) && below.high >= dec!(30));
        assert!(below.ticks.contains(&Decimal::ZERO));
        // Nothing but zeros still has an axis.
        let flat = Axis::of([Decimal::ZERO].into_iter(), false);
        assert_eq!((flat.low, flat.high), (dec!(0), dec!(1)));
        assert_eq!(flat.share(dec!(0.5)), 0.5);
        // Counts tick whole numbers.
        let counts = Axis::of([dec!(2)].into_iter(), true);
        assert_eq!(counts.ticks, [dec!(0), dec!(1), dec!(2)]);
        assert_eq!(Axis::of([dec!(2)].into_iter(), false).ticks.len(), 5);
    }

    #[test]
    fn each_point_has_its_shape_and_hover_title() {
        let c = chart(&[
            ("11-01", dec!(1.5)),
            ("11-02", dec!(0)),
            ("11-03", dec!(3.25)),
        ]);
        let svg = columns(&c);
        assert_eq!(svg.matches("<rect class=\"chart-bar\"").count(), 3);
        assert_eq!(
            hovers(&svg),
            ["11-01: 1.5 EUR", "11-02: 0 EUR", "11-03: 3.25 EUR"]
        );
        assert!(svg.contains("<title>Spend per day</title>"));
        assert!(svg.contains(">EUR</text>"));
        assert!(svg.contains(">11-02</text>"));
        let svg = line(&c);
        assert_eq!(svg.matches("<circle class=\"chart-dot\"").count(), 3);
        assert_eq!(hovers(&svg).len(), 3);
        assert!(!svg.contains("chart-zero"));
        let svg = bars(&c);
        assert_eq!(svg.matches("<rect class=\"chart-bar\"").count(), 3);
        assert!(svg.contains(">3.25</text>"));
    }

    #[test]
    fn taller_values_draw_taller_columns() {
        let svg = columns(&chart(&[("a", dec!(1)), ("b", dec!(4))]));
        let heights: Vec<f64> = svg
            .split("class=\"chart-bar\"")
            .skip(1)
            .filter_map(|part| part.split("height=\"").nth(1))
            .filter_map(|h| h.split('"').next())
            .filter_map(|h| h.parse().ok())
            .collect();
        assert_eq!(heights.len(), 2);
        assert!((heights[1] / heights[0] - 4.0).abs() < 0.05, "{heights:?}");
    }

    #[test]
    fn a_line_below_zero_shows_zero() {
        let svg = line(&chart(&[("a", dec!(5)), ("b", dec!(-2))]));
        assert!(svg.contains("chart-zero"));
        assert!(
            svg.contains(">-2</text>") || svg.contains(">-5</text>"),
            "{svg}"
        );
    }

    #[test]
    fn long_labels_are_cut_and_crowded_ones_thinned() {
        let long = "A destination with a very long description indeed";
        let svg = bars(&chart(&[(long, dec!(1))]));
        assert!(svg.contains(">A destination with a…<"));
        assert!(hovers(&svg)[0].starts_with(long));
        let days: Vec<(String, Decimal)> =
            (1..=30).map(|d| (format!("11-{d:02}"), dec!(1))).collect();
        let days: Vec<(&str, Decimal)> = days.iter().map(|(l, v)| (l.as_str(), *v)).collect();
        let svg = columns(&chart(&days));
        let labels = svg.matches("class=\"chart-label\"").count();
        assert!((5..30).contains(&labels), "{labels} labels");
        assert!(svg.contains(">11-01</text>"));
    }

    #[test]
    fn an_empty_chart_says_so() {
        let svg = bars(&chart(&[]));
        assert!(svg.contains(">No calls</text>"));
        assert!(!svg.contains("<rect"));
    }
}
